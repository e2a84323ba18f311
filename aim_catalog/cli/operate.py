"""Operator commands around a launch: `doctor` (is this host ready?), `test NAME` (does the
server answer, how fast?) and `cache ls|pull|rm` (the Hugging Face model cache).

Exit codes: 0 ok; 1 environment (a failed doctor check, an unreachable server or hub, a
full disk); 2 usage (unknown deployment or model, bad option). httpx, huggingface_hub and
docker are imported inside the commands.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from aim_catalog.cli.app import Group, app, catalog_session, state_of
from aim_catalog.errors import UsageProblem

HF_CACHE_OPT = typer.Option(
    None,
    "--hf-cache",
    help="Hugging Face home (default: $HF_HOME or ~/.cache/huggingface; models live in its hub/).",
)
ICONS = {"pass": "✅", "fail": "❌", "warn": "⚠️ ", "skip": "--"}


# --------------------------------------------------------------------------- doctor


@app.command()
def doctor(
    ctx: typer.Context,
    hf_cache: Path | None = HF_CACHE_OPT,
    min_free_gb: float = typer.Option(
        100.0, "--min-free-gb", min=0, max=1e9, help="Free disk wanted under the Hugging Face cache (GB)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check that this host can serve: driver, devices, GPUs, Docker, catalog, token, disk.

    Each check prints ✅ or ❌ (⚠️ for advice, such as a missing HF_TOKEN) and a one-line
    fix. Exit code 0 when no check failed, 1 otherwise.

    \b
    Example: aim-catalog doctor --json
    """
    from aim_catalog import render
    from aim_catalog.doctor import run_checks
    from aim_catalog.hfcache import home_dir

    checks = run_checks(db_option=state_of(ctx).db, hf_home=home_dir(hf_cache), min_free_gb=min_free_gb)
    failed = [c for c in checks if c.failed]
    if as_json:
        render.emit_json({"ok": not failed, "checks": [c.as_dict() for c in checks]})
    else:
        for check in checks:
            render.line(f"{ICONS[check.status]} {check.name}: {check.summary}")
            if check.fix and check.status in ("fail", "warn"):
                render.line(f"   fix: {check.fix}")
        passed = sum(c.status == "pass" for c in checks)
        render.line(f"{len(checks)} checks: {passed} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- test


def _target(ctx: typer.Context, name: str) -> tuple[str, Any]:
    """(base URL, deployment or None): NAME is a deployment of the current Docker engine, or
    a URL like http://host:8000. A deployment answers on the engine's host, at its port."""
    from aim_catalog import deployments
    from aim_catalog.launcher import connect, engine_host, identify, labelled_containers

    if name.startswith(("http://", "https://")):
        base = name.rstrip("/")
        return (base[: -len("/v1")] if base.endswith("/v1") else base), None
    client = connect()
    engine = identify(client)
    container_ids = {c.id for c in labelled_containers(client)}
    with catalog_session(ctx, commit=False) as session:
        found = deployments.find(session, engine.key, name, container_ids)
        if found is None:
            raise UsageProblem(f"no deployment called {name!r} on this engine (`aim-catalog ps` lists them)")
        session.expunge(found)
    if found.status not in deployments.ACTIVE:
        raise UsageProblem(f"deployment {name!r} is {found.status} (`aim-catalog ps --all`)")
    return f"http://{engine_host()}:{found.port}", found


@app.command("test")
def test_deployment(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., help="Deployment name (as `ps` shows it), or a URL like http://host:8000."
    ),
    prompt: str = typer.Option("Say hello in one short sentence.", "--prompt", help="The user message."),
    max_tokens: int = typer.Option(
        64, "--max-tokens", min=1, max=32768, help="Tokens to generate per request."
    ),
    stream: bool = typer.Option(False, "--stream", help="Stream the answer (measures time to first token)."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, max=256, help="Requests in flight at once."),
    requests: int | None = typer.Option(
        None, "--requests", min=1, max=10_000, help="Requests in a load run (default: 4 x concurrency)."
    ),
    time_limit: float = typer.Option(
        120.0, "--time-limit", min=1, max=3600, help="A load run sends nothing after this many seconds."
    ),
    timeout: float = typer.Option(
        120.0, "--timeout", min=0.1, max=3600, help="Seconds to wait for one answer."
    ),
    save: bool = typer.Option(
        False, "--save", help="Store the result as a smoke-test benchmark row of the deployment's config."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Send a chat completion to a running deployment and time it; or a small load.

    Prints the answer, time to first token (with --stream; otherwise the whole answer's
    latency), tokens/s and the served model. --concurrency N --requests M runs M streamed
    requests N at a time and prints p50/p99 TTFT and throughput. --save stores the result
    as a benchmark row labelled as a smoke test, which never ranks by default. Exit code 1
    when the server cannot be reached or answers with an error.

    \b
    Example: aim-catalog test aim-qwen3-32b-4gpu-bf16-vllm --stream
    Example: aim-catalog test aim-qwen3-32b-4gpu-bf16-vllm --concurrency 8 --requests 64 --save
    """
    from aim_catalog import smoke

    base, deployment = _target(ctx, name)
    if save and deployment is None:
        raise UsageProblem(
            "--save needs a deployment name (a URL has no serve config to store the result on)"
        )
    what = name if deployment is not None else "the server"
    load = concurrency > 1 or requests is not None
    with smoke.client(timeout) as http:
        model = smoke.served_model(http, base, what)
        if not load:
            reply = smoke.chat(http, base, model, prompt, max_tokens, stream=stream, what=what)
    if not load:
        result = smoke.single_as_load(reply)
        saved = _save(ctx, deployment, result, prompt, max_tokens) if save else None
        _show_reply(reply, base, what, as_json, saved)
        return
    total = requests if requests is not None else 4 * concurrency
    result = smoke.run_load(
        lambda n: smoke.client(timeout, n),
        base,
        model,
        prompt,
        max_tokens,
        concurrency=concurrency,
        requests=total,
        time_limit=time_limit,
        what=what,
    )
    saved = None
    if save and result.completed and not result.failed:
        saved = _save(ctx, deployment, result, prompt, max_tokens)
    _show_load(result, base, as_json, saved)
    if result.failed or not result.completed:
        first = result.errors[0] if result.errors else "no request was sent"
        raise smoke.SmokeFailed(
            f"{result.failed} of {result.requests} request(s) failed"
            + (" (nothing saved)" if save else "")
            + f"; first: {first}"
        )


def _save(ctx: typer.Context, deployment: Any, result: Any, prompt: str, max_tokens: int) -> int:
    from aim_catalog import db
    from aim_catalog.models import Benchmark

    if deployment.serve_config_id is None:
        raise UsageProblem(
            f"{deployment.name}'s serve config is no longer in the catalog "
            "(its recipe was removed): nothing saved"
        )
    input_len, output_len = result.mean_lengths()
    metrics = {k: v for k, v in result.metrics().items() if v is not None}
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with catalog_session(ctx) as session:
        db.lock_for_write(session)
        row = Benchmark(
            serve_config_id=deployment.serve_config_id,
            origin="smoke",
            input_len=input_len,
            output_len=output_len,
            concurrency=result.concurrency,
            failed=result.failed,
            source=f"aim-catalog test {deployment.name} "
            f"({result.completed} request(s), max_tokens {max_tokens})",
            measured_at=moment,
            image=deployment.image,
            **metrics,
        )
        session.add(row)
        session.flush()
        return int(row.id)


def _printable(text: str) -> str:
    """A model's answer is data: control characters (terminal escapes) are shown escaped."""
    return "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


def _show_reply(reply: Any, base: str, what: str, as_json: bool, saved: int | None) -> None:
    from aim_catalog import render

    if as_json:
        render.emit_json({"url": f"{base}/v1", **reply.as_dict(), "saved_benchmark_id": saved})
        return
    render.line(f"{reply.model or '?'} at {base}/v1 answered in {reply.latency:.2f} s:")
    render.line(f"  {_printable(reply.text)}")
    ttft = (
        f"time to first token {reply.ttft * 1000:.0f} ms"
        if reply.streamed
        else "not streamed (--stream times the first token)"
    )
    rate = f"{reply.tokens_per_s:.1f} tokens/s" if reply.tokens_per_s else "tokens/s n/a"
    render.line(f"  {ttft} · {reply.completion_tokens} tokens · {rate}")
    if saved is not None:
        render.note(f"saved as smoke-test benchmark row {saved}")


def _show_load(result: Any, base: str, as_json: bool, saved: int | None) -> None:
    from aim_catalog import render

    data = result.as_dict()
    if as_json:
        render.emit_json({"url": f"{base}/v1", **data, "saved_benchmark_id": saved})
        return
    render.line(
        f"{result.requests} request(s) to {result.model or '?'} at {base}/v1, "
        f"{result.concurrency} at a time: "
        f"{result.completed} ok, {result.failed} failed"
        + (f", {result.not_sent} not sent (time limit)" if result.not_sent else "")
        + f" in {result.duration:.2f} s"
    )
    render.line(
        f"  TTFT p50 {_ms(data['ttft_ms_p50'])}, p99 {_ms(data['ttft_ms_p99'])} · "
        f"latency p50 {_ms(data['e2el_ms_p50'])}, p99 {_ms(data['e2el_ms_p99'])}"
    )
    out = data["output_throughput"]
    reqs = data["request_throughput"]
    render.line(
        f"  throughput {out if out is not None else 'n/a'} output tokens/s, "
        f"{reqs if reqs is not None else 'n/a'} requests/s"
    )
    if saved is not None:
        render.note(f"saved as smoke-test benchmark row {saved}")


# --------------------------------------------------------------------------- cache


def warn_if_not_cached(model: str, hf_cache: Path | None) -> None:
    """Before a launch: say when the model is not cached yet or the disk cannot hold it.

    Offline (HF_HUB_OFFLINE, no network) the size is unknown and said so; the hub gets a
    few seconds at most, and nothing here stops a launch."""
    from aim_catalog import hfcache, render

    for text in hfcache.launch_warnings(model, hfcache.home_dir(hf_cache)):
        render.note(text)


cache_app = typer.Typer(
    cls=Group, rich_markup_mode=None, no_args_is_help=True, help="The Hugging Face model cache launches use."
)
app.add_typer(cache_app, name="cache")


def _catalog_models(ctx: typer.Context) -> dict[str, str] | None:
    """The catalog's model ids (lower case -> as written), or None when it cannot be opened."""
    from sqlalchemy import select

    from aim_catalog import render, tables
    from aim_catalog.errors import CatalogError

    try:
        with catalog_session(ctx, commit=False) as session:
            ids = session.scalars(select(tables.recipes.c.huggingface_id).distinct())
            return {str(m).lower(): str(m) for m in ids}
    except CatalogError as exc:
        render.note(f"catalog not read ({exc}): not marking catalog models")
        return None


@cache_app.command("ls")
def cache_ls(
    ctx: typer.Context,
    hf_cache: Path | None = HF_CACHE_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """List cached models with their size and last use, marking the catalog's models.

    \b
    Example: aim-catalog cache ls --hf-cache /data/hf
    """
    from aim_catalog import hfcache, render

    cache = hfcache.hub_dir(hf_cache)
    listing = hfcache.scan(cache)
    catalog = _catalog_models(ctx)
    for model in listing.models:
        model.in_catalog = None if catalog is None else model.repo_id.lower() in catalog
    cached = {m.repo_id.lower() for m in listing.models}
    missing = sorted((name for key, name in (catalog or {}).items() if key not in cached), key=str.lower)
    if as_json:
        render.emit_json(
            {
                "cache_dir": listing.cache_dir,
                "size": listing.size,
                "models": [m.as_dict() for m in listing.models],
                "catalog_models_not_cached": missing,
                "warnings": listing.warnings,
            }
        )
        return
    for warning in listing.warnings:
        render.note(f"skipped a damaged cache entry: {warning}")
    if not listing.models:
        render.note(f"no model cached in {cache}")
    else:
        render.table(
            ("model", "size", "files", "last used", "refs", "in catalog"),
            [
                (
                    m.repo_id,
                    hfcache.human(m.size),
                    m.files,
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(m.last_used)),
                    ",".join(m.refs) or "(detached)",
                    {True: "yes", False: "", None: "?"}[m.in_catalog],
                )
                for m in listing.models
            ],
        )
        render.line(f"{len(listing.models)} model(s), {hfcache.human(listing.size)} in {cache}")
    if catalog is not None:
        render.line(
            f"catalog models not cached: {len(missing)}" + (f" ({', '.join(missing)})" if missing else "")
        )


@cache_app.command("pull")
def cache_pull(
    model: str = typer.Argument(..., help="Hugging Face model id, e.g. Qwen/Qwen3-32B."),
    revision: str | None = typer.Option(None, "--revision", help="Branch, tag or commit (default: main)."),
    hf_cache: Path | None = HF_CACHE_OPT,
) -> None:
    """Download a model into the cache ahead of a launch, after checking the disk can hold it.

    Uses HF_TOKEN for gated models and HF_ENDPOINT when set. Exit code 1 when the hub is
    unreachable or the disk too small, 2 when the model or revision does not exist.

    \b
    Example: aim-catalog cache pull Qwen/Qwen3-32B
    """
    from aim_catalog import hfcache, render

    cache = hfcache.hub_dir(hf_cache)
    remote = hfcache.hub_model(model, revision)
    have = hfcache.find(cache, model)
    needed = None if remote.size is None else max(remote.size - (have.size if have else 0), 0)
    free = hfcache.check_disk(cache, needed, model)
    render.note(
        f"{remote.repo_id}: {remote.files} file(s), {hfcache.human(remote.size)}"
        + (f" ({hfcache.human(needed)} to download)" if have and needed is not None else "")
        + f"; {hfcache.human(free)} free under {cache}"
    )
    path = hfcache.pull(model, cache, revision)
    render.line(f"{remote.repo_id} is cached: {path}")


@cache_app.command("rm")
def cache_rm(
    model: str = typer.Argument(..., help="Hugging Face model id."),
    hf_cache: Path | None = HF_CACHE_OPT,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a model (every cached revision) from the cache.

    \b
    Example: aim-catalog cache rm mistralai/Mistral-7B-Instruct-v0.3 --yes
    """
    from aim_catalog import hfcache, render

    cache = hfcache.hub_dir(hf_cache)
    cached = hfcache.find(cache, model)
    if cached is None:
        raise UsageProblem(f"{model} is not in the Hugging Face cache at {cache} (`aim-catalog cache ls`)")
    if not yes:
        try:
            agreed = typer.confirm(f"Delete {cached.repo_id} ({hfcache.human(cached.size)}) from {cache}?")
        except typer.Abort:  # no terminal, or end of input: nobody said yes
            raise UsageProblem(
                f"removing {cached.repo_id} needs a yes: answer the question or add --yes"
            ) from None
        if not agreed:
            render.note("nothing removed")
            return
    removed = hfcache.remove(cache, model)
    render.line(f"removed {removed.repo_id} ({hfcache.human(removed.size)} freed)")
