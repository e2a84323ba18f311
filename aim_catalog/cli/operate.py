"""Operator commands around a launch: `doctor` (is this host ready?), `test NAME` (does the
server answer, how fast?) and the cache warning before a launch (`cache` is in cache.py).

Exit codes: 0 ok; 1 environment (a failed doctor check, an unreachable server); 2 usage
(unknown deployment, bad option). httpx and docker are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from aim_catalog.cli.app import app, catalog_of, state_of
from aim_catalog.cli.cache import HF_CACHE_OPT  # (importing it registers the cache group)

if TYPE_CHECKING:
    from aim_catalog.operating.load import LoadResult
    from aim_catalog.operating.openai_client import Reply

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
    from aim_catalog.cli import render
    from aim_catalog.operating.doctor import run_checks
    from aim_catalog.operating.doctor.check import Status
    from aim_catalog.settings import hf_home

    checks = run_checks(db_option=state_of(ctx).db, hf_home=hf_home(hf_cache), min_free_gb=min_free_gb)
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
        120.0,
        "--timeout",
        min=0.1,
        max=3600,
        help="Seconds for each request, from connecting to its last byte (not per read).",
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
    as a benchmark row labelled as a smoke test, which never ranks by default.

    What is read is bounded: --timeout covers each whole request; at most 16 MiB of an
    answer and 1 MiB of one streamed line are read, and a stream that sends more than
    --max-tokens pieces of text (or 32 events beyond them) is cut off. Every field of an
    answer is checked (token counts are integers from 0 to 2147483647, never more than
    --max-tokens) and so are the figures derived from it (the benchmark rows' bounds); an
    answer that fails a check is one error line and is never saved. Exit code 4 when the
    server answers too much or something that fails a check; 1 when it cannot be reached,
    answers with an error or not within --timeout.

    \b
    Example: aim-catalog test aim-qwen3-32b-4gpu-bf16-vllm --stream
    Example: aim-catalog test aim-qwen3-32b-4gpu-bf16-vllm --concurrency 8 --requests 64 --save
    """
    from aim_catalog.operating.endpoint_test import TestOptions

    options = TestOptions(prompt, max_tokens, stream, concurrency, requests, time_limit, timeout, save)
    outcome = catalog_of(ctx).test(name, options)
    if outcome.reply is not None:
        _show_reply(outcome.reply, outcome.base, outcome.what, as_json, outcome.saved)
        return
    assert outcome.load is not None
    _show_load(outcome.load, outcome.base, as_json, outcome.saved)
    failure = outcome.failure()
    if failure is not None:
        raise failure


def _printable(text: str) -> str:
    """A model's answer is data: control characters (terminal escapes) are shown escaped."""
    return "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


def _show_reply(reply: Reply, base: str, what: str, as_json: bool, saved: int | None) -> None:
    from aim_catalog.cli import render

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


def _show_load(result: LoadResult, base: str, as_json: bool, saved: int | None) -> None:
    from aim_catalog.cli import render

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
