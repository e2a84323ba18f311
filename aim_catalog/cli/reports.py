"""Analyst and admin commands: import benchmark results, reports, read-only SQL, export."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from aim_catalog.cli.app import Group, app, catalog_of
from aim_catalog.cli.selection_opts import finite
from aim_catalog.errors import UsageProblem
from aim_catalog.settings import ANY, MAX_SQL_INT

bench_app = typer.Typer(
    cls=Group, rich_markup_mode=None, no_args_is_help=True, help="Import measured benchmark results."
)
app.add_typer(bench_app, name="bench")

# coverage, leaderboard and benchmarks are Catalog.report's; pareto and backtest have their own.
REPORT_NAMES = ("coverage", "leaderboard", "benchmarks", "pareto", "backtest")
FORMAT_OPT = typer.Option("table", "--format", "-f", help="table, csv, json or markdown.")


def _check_format(fmt: str) -> str:
    from aim_catalog.cli.render import FORMATS

    if fmt not in FORMATS:
        raise UsageProblem(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


@bench_app.command("import")
def bench_import(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(
        ...,
        help="vLLM --save-result JSON, SGLang --output-file JSONL or InferenceX agg_*.json files.",
    ),
    recipe: str | None = typer.Option(None, "--recipe", help="Serve config: this recipe_id ..."),
    backend: str | None = typer.Option(None, "--backend", "-b", help="... this backend ..."),
    gpus: int | None = typer.Option(None, "--gpus", min=1, max=MAX_SQL_INT, help="... and this GPU count."),
    deployment: str | None = typer.Option(
        None, "--deployment", help="Serve config of a launched deployment."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and report; write nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import benchmark results measured with vLLM, SGLang or InferenceX into the catalog.

    Without --recipe/--deployment the serve config is inferred from the file (model id,
    backend, tensor-parallel size; InferenceX also hardware and precision) when exactly one
    fits. Re-importing a file adds nothing. A bad or truncated file, a key given twice, or
    a figure no real run can show (infinite, more than 1e6 tokens/s per GPU, a TTFT under
    0.01 ms...: docs/admins/ingest.md lists the bounds): exit 4, nothing written. Runs that cannot be
    compared (trace replays, multi-node rows) are skipped with their reason; rows with
    failed requests are stored but never rank.

    \b
    Example: aim-catalog bench import run.json --recipe qwen3-32b-mi300x-bf16 -b vllm --gpus 4
    """
    from dataclasses import asdict

    from aim_catalog.cli import render
    from aim_catalog.measurements.bench_import import Target

    if deployment is not None and (recipe or backend or gpus):
        raise UsageProblem(
            "--deployment names the serve config; do not combine it with --recipe/--backend/--gpus"
        )
    from aim_catalog.backends.registry import BACKENDS

    if backend is not None and backend not in BACKENDS:
        raise UsageProblem(f"unknown backend {backend!r}; choose {', '.join(BACKENDS)}")
    target = Target(recipe, backend, gpus, deployment)
    with render.progress_bar() as progress:  # on a terminal: big files take seconds
        report = catalog_of(ctx).import_benchmarks(files, target, dry_run=dry_run, on_progress=progress)
    if as_json:
        render.emit_json({**asdict(report), "dry_run": dry_run})
        return
    for note in report.notes:
        render.note(note)
    render.line(report.summary() + (" (dry run: nothing written)" if dry_run else ""))


@app.command("report")
def report_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="coverage, leaderboard, benchmarks, pareto or backtest."),
    model: str | None = typer.Argument(
        None, help="pareto: the Hugging Face model id; backtest: only this model."
    ),
    fmt: str = FORMAT_OPT,
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
    hardware: str | None = typer.Option(None, "--hardware", help="pareto: only this GPU model."),
    precision: str | None = typer.Option(None, "--precision", "-p", help="pareto: only this precision."),
    input_len: int | None = typer.Option(
        None, "--input-len", min=1, max=MAX_SQL_INT, help="pareto: rows of this input length."
    ),
    output_len: int | None = typer.Option(
        None, "--output-len", min=1, max=MAX_SQL_INT, help="pareto: ... and output length."
    ),
    metric: str = typer.Option(
        "total_token_throughput", "--metric", help="pareto: throughput column (per GPU)."
    ),
    plot: Path | None = typer.Option(
        None, "--plot", help="pareto: also draw the chart to FILE (.png or .svg)."
    ),
    min_interactivity: float | None = typer.Option(
        None,
        "--min-interactivity",
        min=0.000001,
        callback=finite,
        help="pareto: an SLO in tok/s per user: each config's best point meeting it (interpolated "
        "on the SLO boundary when between two measured ones, and marked so), and its line on the plot.",
    ),
) -> None:
    """Standard reports: coverage (enabled configs per model, backend and GPU count),
    leaderboard (best config per model and GPU count, with its metric and source),
    benchmarks (every stored result), pareto MODEL (throughput per GPU against tokens/s per
    user, per config across concurrencies, the Pareto frontier marked; --plot draws it,
    which needs the optional extra: pip install 'aim-catalog[plot]'), backtest [MODEL] (how
    far interpolation between measured concurrencies is from the truth: each interior point
    of every curve predicted from the rest of it, median and p90 error per metric, by
    hardware and backend; with MODEL, that model's curves only).

    \b
    Example: aim-catalog report leaderboard --format markdown
    Example: aim-catalog report pareto deepseek-ai/DeepSeek-R1-0528 -p fp8 --hardware MI355X --plot p.svg
    Example: aim-catalog report backtest deepseek-ai/DeepSeek-R1-0528 --json
    """
    from aim_catalog.cli import render

    if name not in REPORT_NAMES:
        raise UsageProblem(f"unknown report {name!r}; choose one of {', '.join(REPORT_NAMES)}")
    _check_format(fmt)
    if as_json:
        if fmt not in ("table", "json"):
            raise UsageProblem(f"--json and --format {fmt} ask for two formats: give one")
        fmt = "json"
    if name == "pareto":
        _pareto(ctx, model, fmt, hardware, precision, input_len, output_len, metric, plot, min_interactivity)
        return
    if name == "backtest":
        pareto_only: dict[str, object] = {"--hardware": hardware, "--precision": precision}
        pareto_only |= {"--input-len": input_len, "--output-len": output_len, "--plot": plot}
        pareto_only["--min-interactivity"] = min_interactivity
        given = [option for option, value in pareto_only.items() if value is not None]
        if metric != "total_token_throughput":
            given.append("--metric")
        if given:
            raise UsageProblem(f"report backtest takes MODEL only ({', '.join(given)}: pareto's options)")
        _backtest(ctx, model, fmt)
        return
    if model is not None or plot is not None or min_interactivity is not None:
        raise UsageProblem(
            f"report {name} takes no MODEL, --plot or --min-interactivity "
            "(pareto does; backtest takes a MODEL)"
        )
    columns, rows = catalog_of(ctx).report(name)
    render.rows(columns, rows, fmt, title=name)


@app.command("sql")
def sql_cmd(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="One SQL statement; it may only read."),
    fmt: str = FORMAT_OPT,
    timeout: str = typer.Option(
        "30", "--timeout", metavar="SECONDS", help="Stop the statement after this long (0: no limit)."
    ),
    limit: int | None = typer.Option(
        None,
        "--limit",
        min=1,
        max=MAX_SQL_INT,
        help="At most N rows (a table shows 1000 unless told); a note says so.",
    ),
    role: str | None = typer.Option(
        None,
        "--role",
        help="PostgreSQL: log in as this read-only role (default $AIM_CATALOG_SQL_ROLE; password "
        "from $AIM_CATALOG_SQL_PASSWORD or ~/.pgpass). See `db grant-readonly`.",
    ),
) -> None:
    """Run one read-only SQL statement against the catalog (tables and views: docs/analysts/tables.md).

    Rows stream to the output as they come. Nothing can be written: SQLite opens the file
    read-only and refuses ATTACH, VACUUM and writes; PostgreSQL runs a read-only
    transaction and refuses (exit 1) a role with powers over the server (superuser,
    pg_execute_server_program, pg_read_server_files...): run it as a role made with
    `aim-catalog db grant-readonly ROLE`. Exit 124 when --timeout stops the statement,
    130 on Ctrl-C, 2 when the statement fails.

    \b
    Example: aim-catalog sql "SELECT model, gpu_count, throughput FROM leaderboard" -f csv
    Example: aim-catalog sql "SELECT * FROM benchmarks" -f csv --limit 100 --timeout 10
    """
    from aim_catalog.cli import render
    from aim_catalog.measurements.sql.query import parse_timeout

    seconds = parse_timeout(timeout)
    _check_format(fmt)
    written, cut = _stream_sql(ctx, query, fmt, seconds, limit, role)
    if cut:
        more = "--limit N shows more" if limit is None else "raise --limit to see more"
        stream = " or -f csv streams them all" if limit is None and fmt == "table" else ""
        render.note(f"showing the first {written} rows; the result has more ({more}{stream})")


def _stream_sql(
    ctx: typer.Context, query: str, fmt: str, seconds: float, limit: int | None, role: str | None
) -> tuple[int, bool]:
    """Run the statement and stream its rows: (rows written, whether the limit cut some)."""
    import os

    from aim_catalog.cli.render_stream import stream_rows
    from aim_catalog.measurements.sql.query import QueryInterrupted

    try:
        with catalog_of(ctx).sql(query, timeout=seconds, role=role) as result:
            written, cut = stream_rows(result.columns, result.rows, fmt, limit)
            sys.stdout.flush()
    except KeyboardInterrupt:
        raise QueryInterrupted("interrupted") from None
    except BrokenPipeError:  # the reader (head, less) has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    return written, cut


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    out: str = typer.Option(..., "--out", "-o", help="Directory to write <recipe_id>.yaml files into."),
) -> None:
    """Write the catalog back as recipe YAML, benchmarks included.

    Ingesting the directory into an empty catalog gives the same catalog.

    \b
    Example: aim-catalog export --out catalog-backup/
    """
    from aim_catalog.cli import render
    from aim_catalog.cli.app import directory_option

    directory = directory_option(out)
    assert directory is not None
    written = catalog_of(ctx).export(directory, note=render.note)
    render.line(f"exported {len(written)} recipe(s) to {directory}")


def _pareto(
    ctx: typer.Context,
    model: str | None,
    fmt: str,
    hardware: str | None,
    precision: str | None,
    input_len: int | None,
    output_len: int | None,
    metric: str,
    plot: Path | None,
    min_interactivity: float | None,
) -> None:
    from aim_catalog.cli import render
    from aim_catalog.measurements.pareto import table

    if model is None:
        raise UsageProblem("report pareto needs a MODEL (Hugging Face id)")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise UsageProblem(f"--plot writes PNG or SVG: name the file *.png or *.svg, not {plot.name!r}")
    series = catalog_of(ctx).pareto(
        model,
        hardware=None if hardware in (None, ANY) else hardware,
        precision=precision,
        input_len=input_len,
        output_len=output_len,
        metric=metric,
        min_interactivity=min_interactivity,
    )
    columns, rows = table(series)
    render.rows(columns, rows, fmt, title=f"pareto {model}")
    if plot is not None:
        from aim_catalog.measurements.pareto_plot import plot as draw

        scope = ", ".join(x for x in (hardware, precision) if x)
        lengths = f", {input_len or '*'}/{output_len or '*'} tokens" if input_len or output_len else ""
        title = f"{model}{' on ' + scope if scope else ''}{lengths}: {metric} per GPU"
        draw(series, plot, title, min_interactivity)
        render.note(f"chart written to {plot}")


def _backtest(ctx: typer.Context, model: str | None, fmt: str) -> None:
    from dataclasses import asdict

    from aim_catalog.cli import render
    from aim_catalog.measurements.backtest import gaps, table

    result = catalog_of(ctx).backtest(model)
    if fmt == "json":
        render.emit_json(asdict(result))
        return
    columns, rows = table(result)
    if fmt in ("table", "markdown"):  # csv keeps empty cells for programs
        rows = [tuple("-" if cell is None else cell for cell in row) for row in rows]
    scope = f" {model}" if model else ""
    title = (
        f"backtest{scope}: absolute % error of each interior concurrency predicted from the rest of its curve"
    )
    render.rows(columns, rows, fmt, title=title)
    for text in gaps(result):
        render.note(text)
