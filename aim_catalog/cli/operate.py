"""Operator commands around a launch: `doctor` (is this host ready?), `test NAME` (does the
server answer, how fast?) and the cache warning before a launch (`cache` is in cache.py).

Exit codes: 0 ok; 1 environment (a failed doctor check, an unreachable server); 2 usage
(unknown deployment, bad option). httpx and docker are imported inside the commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from aim_catalog.cli.app import app, catalog_of, state_of
from aim_catalog.cli.cache import HF_CACHE_OPT  # (importing it registers the cache group)
from aim_catalog.errors import UsageProblem

if TYPE_CHECKING:
    from aim_catalog.deployment_ops import Served
    from aim_catalog.smoke import LoadResult

# --------------------------------------------------------------------------- doctor

_ICONS = {"pass": "✅", "fail": "❌", "warn": "⚠️ ", "skip": "--"}  # by doctor.Status value


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
    from aim_catalog.doctor import Status, run_checks
    from aim_catalog.hfcache import home_dir

    checks = run_checks(db_option=state_of(ctx).db, hf_home=home_dir(hf_cache), min_free_gb=min_free_gb)
    failed = [c for c in checks if c.failed]
    if as_json:
        render.emit_json({"ok": not failed, "checks": [c.as_dict() for c in checks]})
    else:
        for check in checks:
            render.line(f"{_ICONS[check.status.value]} {check.name}: {check.summary}")
            if check.fix and check.status in (Status.FAIL, Status.WARN):
                render.line(f"   fix: {check.fix}")
        passed = sum(c.status == Status.PASS for c in checks)
        render.line(f"{len(checks)} checks: {passed} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- test


def _target(ctx: typer.Context, name: str) -> tuple[str, Served | None]:
    """(base URL, deployment or None): NAME is a deployment of the current Docker engine, or
    a URL like http://host:8000. A deployment answers on the engine's host, at its port."""
    if name.startswith(("http://", "https://")):
        base = name.rstrip("/")
        return (base[: -len("/v1")] if base.endswith("/v1") else base), None
    served = catalog_of(ctx).served(name)
    return served.base_url, served


@dataclass(frozen=True)
class _TestRun:
    """What `test` was asked to do (its options)."""

    prompt: str
    max_tokens: int
    stream: bool
    concurrency: int
    requests: int | None
    time_limit: float
    timeout: float
    save: bool
    as_json: bool

    @property
    def load(self) -> bool:
        return self.concurrency > 1 or self.requests is not None


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
    run = _TestRun(prompt, max_tokens, stream, concurrency, requests, time_limit, timeout, save, as_json)
    _test(ctx, name, run)


def _test(ctx: typer.Context, name: str, run: _TestRun) -> None:
    from aim_catalog import smoke

    base, deployment = _target(ctx, name)
    if run.save and deployment is None:
        raise UsageProblem(
            "--save needs a deployment name (a URL has no serve config to store the result on)"
        )
    what = name if deployment is not None else "the server"
    with smoke.client(run.timeout) as http:
        model = smoke.served_model(http, base, what)
        if not run.load:
            reply = smoke.chat(http, base, model, run.prompt, run.max_tokens, stream=run.stream, what=what)
    if not run.load:
        result = smoke.single_as_load(reply)
        saved = _save(ctx, deployment, result, run.max_tokens) if deployment and run.save else None
        _show_reply(reply, base, what, run.as_json, saved)
        return
    _test_load(ctx, run, base, deployment, model, what)


def _test_load(
    ctx: typer.Context, run: _TestRun, base: str, deployment: Served | None, model: str, what: str
) -> None:
    from aim_catalog import smoke

    timeout = run.timeout
    result = smoke.run_load(
        lambda n: smoke.client(timeout, n),
        base,
        model,
        run.prompt,
        run.max_tokens,
        concurrency=run.concurrency,
        requests=run.requests if run.requests is not None else 4 * run.concurrency,
        time_limit=run.time_limit,
        what=what,
    )
    saved = None
    if deployment and run.save and result.completed and not result.failed:
        saved = _save(ctx, deployment, result, run.max_tokens)
    _show_load(result, base, run.as_json, saved)
    if result.failed or not result.completed:
        first = result.errors[0] if result.errors else "no request was sent"
        raise smoke.SmokeFailed(
            f"{result.failed} of {result.requests} request(s) failed"
            + (" (nothing saved)" if run.save else "")
            + f"; first: {first}"
        )


def _save(ctx: typer.Context, deployment: Served, result: LoadResult, max_tokens: int) -> int:
    return catalog_of(ctx).save_smoke_test(deployment, result, max_tokens)


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
