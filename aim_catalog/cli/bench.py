"""``bench run`` (measure a deployment or a URL at each concurrency) and ``bench sweep``
(launch, measure and stop every candidate config of a request), on ``bench``'s group."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from aim_catalog.cli.app import catalog_of
from aim_catalog.cli.reports import bench_app
from aim_catalog.cli.selection_opts import expanded, finite, selection_options
from aim_catalog.errors import UsageProblem
from aim_catalog.selection.options import SelectionOptions  # the options decorator reads it at import

if TYPE_CHECKING:
    from aim_catalog.operating.bench.point import PointResult, PointSpec
    from aim_catalog.operating.bench.run import BenchRun, RunOptions
    from aim_catalog.operating.bench.sweep import Sweep

# The run options, declared once for both commands: name -> (annotation, declaration).
RUN_OPTIONS: dict[str, tuple[Any, Any]] = {
    "concurrency": (
        str,
        typer.Option("4,8,16,32,64", "--concurrency", help="Concurrencies to measure, comma-separated."),
    ),
    "input_len": (
        int,
        typer.Option(1024, "--input-len", min=1, max=1_000_000, help="Prompt tokens (random)."),
    ),
    "output_len": (
        int,
        typer.Option(1024, "--output-len", min=1, max=1_000_000, help="Answer tokens, forced (ignore_eos)."),
    ),
    "dataset": (str, typer.Option("random", "--dataset", help="random, or sharegpt (with --dataset-file).")),
    "dataset_file": (
        Path | None,
        typer.Option(None, "--dataset-file", help="sharegpt: the ShareGPT JSON file of conversations."),
    ),
    "requests": (
        int | None,
        typer.Option(
            None, "--requests", min=1, max=1_000_000, help="Requests per point (default max(10 x C, 64))."
        ),
    ),
    "max_duration": (
        float,
        typer.Option(600.0, "--max-duration", min=0.001, callback=finite, help="Seconds per point at most."),
    ),
    "warmup": (
        int | None,
        typer.Option(
            None, "--warmup", min=0, max=100_000, help="Unmeasured requests first (default: C, at most 16)."
        ),
    ),
    "request_rate": (
        float | None,
        typer.Option(
            None, "--request-rate", min=0.000001, callback=finite, help="Requests/s (default: unlimited)."
        ),
    ),
    "client": (
        str | None,
        typer.Option(None, "--client", help="image (the backend's own client, in the container) or builtin."),
    ),
    "save": (bool, typer.Option(True, "--save/--no-save", help="Store each point on the serve config.")),
    "dry_run": (bool, typer.Option(False, "--dry-run", help="Print the plan and its estimated duration.")),
    "as_json": (bool, typer.Option(False, "--json", help="Print the result as JSON.")),
}


def run_options(given: dict[str, Any], **extra: Any) -> RunOptions:
    from aim_catalog.operating.bench.run import RunOptions

    try:
        levels = tuple(int(part) for part in given["concurrency"].split(",") if part.strip())
    except ValueError:
        raise UsageProblem(
            f"--concurrency takes integers, e.g. 4,8,16: got {given['concurrency']!r}"
        ) from None
    dataset_file = given["dataset_file"]
    if dataset_file is not None and not Path(dataset_file).is_file():
        raise UsageProblem(f"--dataset-file {dataset_file}: no such file")
    return RunOptions(
        concurrencies=levels,
        input_len=given["input_len"],
        output_len=given["output_len"],
        dataset=given["dataset"],
        dataset_file=None if dataset_file is None else str(dataset_file),
        requests=given["requests"],
        max_duration=given["max_duration"],
        warmup=given["warmup"],
        request_rate=given["request_rate"],
        client=given["client"],
        save=given["save"],
        **extra,
    )


@bench_app.command("run")
@expanded("given", dict, RUN_OPTIONS)
def bench_run_cmd(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="A deployment (`aim-catalog ps`)."),
    url: str | None = typer.Option(
        None, "--url", help="Measure this OpenAI-API URL (a forwarded Service...)."
    ),
    model: str | None = typer.Option(None, "--model", help="The served model name (default: /v1/models)."),
    timeout: float = typer.Option(
        600.0, "--timeout", min=0.001, callback=finite, help="Seconds per request."
    ),
    given: dict[str, Any] | None = None,
) -> None:
    """Measure a deployment at each concurrency and store each point as a measured row.

    --client image (the default for a local Docker deployment) runs the backend's own
    benchmark client inside the container; --client builtin sends streaming requests from
    here (any URL). Each finished point becomes a benchmark row of the deployment's serve
    config (origin measured), with the image and its digest, the server's version and the
    client. Ctrl-C stops the load and keeps the finished points.

    \b
    Example: aim-catalog bench run aim-qwen3-32b-4gpu-bf16-vllm --concurrency 4,16,64 --output-len 512
    Example: aim-catalog bench run aim-qwen3-32b-4gpu-bf16-vllm --url http://127.0.0.1:8000 --client builtin
    """
    from aim_catalog.cli import render
    from aim_catalog.launch.guard import signals_stop

    assert given is not None
    options = run_options(given, url=url, model=model, timeout=timeout)
    catalog = catalog_of(ctx)
    if given["dry_run"]:
        plan = catalog.bench_plan(name, options)
        if given["as_json"]:
            render.emit_json(plan.as_dict())
            return
        _show_plan(plan.name or plan.base_url, plan.client, plan.points, plan.estimate_s, plan.stores)
        return
    stop = threading.Event()
    with _Progress(not given["as_json"]) as bar, signals_stop(stop):
        result = catalog.bench_run(name, options, on_point=bar.update, on_done=bar.done, stop=stop)
    if given["as_json"]:
        render.emit_json(result.as_dict())
    else:
        _show_run(result)
    if result.interrupted:
        raise typer.Exit(130)  # as any interrupted command: the output above is what was kept


@bench_app.command("sweep")
@selection_options(
    exclude=("concurrency", "input_len", "output_len", "request_rate"), model_help="Hugging Face model id."
)
@expanded("given", dict, RUN_OPTIONS)
def bench_sweep_cmd(
    ctx: typer.Context,
    selection: SelectionOptions,
    only: list[str] = typer.Option(
        [], "--only", help="Only this config: RECIPE[/BACKEND[/GPUS]] (repeatable)."
    ),
    resume: bool = typer.Option(False, "--resume", help="Skip configs already measured on the same image."),
    parallel: bool = typer.Option(
        False,
        "--parallel",
        help="Measure configs side by side when the host's GPUs fit several (ports from --port up).",
    ),
    image: str | None = typer.Option(None, "--image", help="Launch every config with this image."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Host port the launched server uses."),
    env: list[str] = typer.Option([], "--env", "-e", help="Extra environment, KEY=VALUE (repeatable)."),
    hf_cache: Path | None = typer.Option(None, "--hf-cache", help="The Hugging Face cache to mount."),
    launch_timeout: float = typer.Option(
        1800.0, "--launch-timeout", min=1, callback=finite, help="Seconds to wait for each server."
    ),
    given: dict[str, Any] | None = None,
) -> None:
    """Launch, measure and stop every candidate config of a request, one at a time.

    The candidates are the configs `explain` ranks (or those --only names). A config that
    fails to launch or to serve is reported and skipped; Ctrl-C or SIGTERM removes the
    running container and keeps the finished points. At the end, the new `explain`.

    \b
    Example: aim-catalog bench sweep Qwen/Qwen3-32B 4 -p bf16 -b any --dry-run
    """
    from aim_catalog.cli import render
    from aim_catalog.launch.guard import signals_stop
    from aim_catalog.launch.plan import LaunchOptions
    from aim_catalog.launch.runspec import parse_env

    assert given is not None
    options = run_options(given)
    # explain compares the configs at the scenario the sweep measures.
    selection = replace(selection, input_len=options.input_len, output_len=options.output_len)
    launching = LaunchOptions(
        port=port, image=image, env=parse_env(env), hf_cache=hf_cache, timeout=launch_timeout
    )
    catalog = catalog_of(ctx)
    gpus = _host_gpus(selection) if parallel else None
    stop = threading.Event()
    with _Progress(not given["as_json"] and not given["dry_run"]) as bar, signals_stop(stop):

        def on_config(verdict: Any, index: int, total: int) -> None:
            bar.say(
                f"[{index}/{total}] {verdict.recipe_id} {verdict.backend} {verdict.gpu_count} GPU: launching"
            )

        found = catalog.bench_sweep(
            selection,
            options,
            launching,
            only=tuple(only),
            resume=resume,
            dry_run=given["dry_run"],
            stop=stop,
            note=render.note,
            on_config=on_config,
            run_hooks={"on_point": bar.update, "on_done": bar.done},
            parallel_gpus=gpus,
        )
    if given["as_json"]:
        render.emit_json(found.as_dict())
    else:
        _show_sweep(found, options, given["dry_run"])
    if found.interrupted:
        raise typer.Exit(130)  # as any interrupted command: the output above is what was kept


def _host_gpus(selection: SelectionOptions) -> int:
    """The GPUs --parallel fills: --host-gpus, else this host's detected GPUs."""
    from aim_catalog.host.gpus import detect_gpus

    found = selection.host_gpus or len(detect_gpus())
    if not found:
        raise UsageProblem("--parallel needs the host's GPU count: none is detected here; give --host-gpus N")
    return found


class _Progress:
    """A progress bar per point on stderr (a terminal only; nothing otherwise)."""

    def __init__(self, shown: bool) -> None:
        from aim_catalog.cli.render import stderr_is_terminal

        self.shown = shown and stderr_is_terminal()
        self.bar: Any = None
        self.task: Any = None
        self.level: int | None = None

    def __enter__(self) -> _Progress:
        if self.shown:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            from aim_catalog.cli.render import err

            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=err(), transient=False,
            )  # fmt: skip
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def update(self, spec: PointSpec, done: int, total: int) -> None:
        if self.bar is None:
            return
        if self.level != spec.concurrency:
            self.level = spec.concurrency
            self.task = self.bar.add_task(f"concurrency {spec.concurrency}", total=total)
        self.bar.update(self.task, completed=done, total=total)

    def done(self, point: PointResult) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=point.completed + point.failed)

    def say(self, text: str) -> None:
        from aim_catalog.cli import render

        if self.bar is not None:
            self.bar.console.print(render.safe(text))
        else:
            render.note(text)


def _show_plan(where: str, client: str, points: Any, estimate: float, stores: bool) -> None:
    from aim_catalog.cli import render

    render.line(f"bench run {where} with the {client} client, {len(points)} point(s):")
    rows = [(p.concurrency, p.warmup, p.requests, p.input_len, p.output_len, p.max_duration) for p in points]
    render.table(("concurrency", "warm-up", "requests", "input len", "output len", "max s"), rows)
    said = "stored as measured rows of its serve config" if stores else "not stored"
    render.line(
        f"estimated at most {_duration(estimate)} (assumes 1 s to the first token, 30 ms per token); {said}"
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else (f"{minutes} min {secs} s" if minutes else f"{secs} s")


def _cell(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _show_run(result: BenchRun) -> None:
    from aim_catalog.cli import render

    where = result.name or result.base_url
    render.line(f"bench run {where}: {result.model}, {result.client}")
    rows = []
    for p in result.points:
        m = p.metrics
        rows.append(
            (
                p.spec.concurrency, f"{p.completed}/{p.completed + p.failed}",
                _cell(m.get("output_throughput")),
                _cell(m.get("ttft_ms_p50")), _cell(m.get("ttft_ms_p99")), _cell(m.get("tpot_ms_p50")),
                _cell(m.get("tpot_ms_p99")), _cell(m.get("e2el_ms_p99"), 0),
            )
        )  # fmt: skip
    columns = (
        "concurrency",
        "ok",
        "output tok/s",
        "TTFT p50",
        "TTFT p99",
        "TPOT p50",
        "TPOT p99",
        "E2EL p99",
    )
    render.table(columns, rows)
    facts = [f"server {result.server_version or 'version unknown'}"]
    if result.image:
        facts.append(f"image {result.image}" + (f" ({result.image_digest})" if result.image_digest else ""))
    if result.gpu_model:
        facts.append(f"GPU {result.gpu_model}")
    render.line("  " + "; ".join(facts))
    if result.rows:
        render.line(f"  stored {len(result.rows)} measured row(s) on serve config {result.serve_config_id}")
    for text in result.notes:
        render.note(text)
    if result.interrupted:
        render.note("stopped: the finished points are kept; the deployment is as it was")


def _show_sweep(found: Sweep, options: RunOptions, dry_run: bool) -> None:
    from aim_catalog.cli import render

    if dry_run:
        render.line(f"bench sweep: {len(found.configs)} config(s) x {len(options.concurrencies)} point(s):")
        levels = ",".join(map(str, options.concurrencies))
        planned = [(c.recipe_id, c.backend, c.gpu_count, c.image or "", levels) for c in found.configs]
        render.table(("recipe", "backend", "GPUs", "image", "concurrencies"), planned)
        render.line(f"estimated at most {_duration(found.estimate_s)} of load (plus each launch)")
        return
    rows = [
        (c.recipe_id, c.backend, c.gpu_count, c.outcome, len(c.run.rows) if c.run else 0, c.reason)
        for c in found.configs
    ]
    render.table(("recipe", "backend", "GPUs", "outcome", "rows", "reason"), rows, title="bench sweep")
    if found.interrupted:
        render.note("stopped: the running container was removed; the finished points are kept")
    render.table(
        ("recipe", "backend", "GPUs", "verdict", "reason"),
        [(v.recipe_id, v.backend or "", v.gpu_count or "", v.verdict, v.reason) for v in found.after],
        title="explain, after the sweep",
    )
