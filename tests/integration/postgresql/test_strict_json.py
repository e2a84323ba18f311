"""Every JSON the command line prints is strict JSON, on each dialect, even over a catalog
holding an infinite figure (stored before bounds were checked: put here directly by SQL).

``json.loads`` accepts ``Infinity`` and ``NaN``; programs in other languages do not. The
outputs are parsed here with those constants refused. A non-finite figure is printed as
``null`` with a note on stderr, and ``report pareto`` does not chart it (issue 18, point 7).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer.main
from sqlalchemy import text
from support import bench_results as fx

from aim_catalog.cli import app
from aim_catalog.storage import db

MODEL = "org/fp4-model"
ROW = {"input_len": 1024, "output_len": 1024, "concurrency": 16, "tpot_ms_p50": 8.0}
SCOPE = ("--hardware", "MI355X", "--precision", "mxfp4", "--backend", "sglang")

# Every command with --json or --format json, run over the catalog (arguments after it).
RUNS: dict[str, tuple[str, ...]] = {
    "select": ("select", MODEL, "4", *SCOPE, "--json"),
    "explain": ("explain", MODEL, "4", *SCOPE, "--json"),
    "list-recipes": ("list-recipes", "--json"),
    "show-configurations": ("show-configurations", MODEL, "--json"),
    "report": ("report", "leaderboard", "-f", "json"),
    "report benchmarks": ("report", "benchmarks", "-f", "json"),
    "report coverage": ("report", "coverage", "-f", "json"),
    "report pareto": ("report", "pareto", MODEL, "-f", "json"),
    "report backtest": ("report", "backtest", "--json"),
    "sql": ("sql", "SELECT * FROM benchmarks ORDER BY id", "-f", "json"),
    "launch": ("launch", MODEL, "4", *SCOPE, "--dry-run", "--json"),
    # The sweep's plan holds explain's verdicts (figures from the catalog). A run's JSON holds
    # what the server answered; its plan, here, that nothing was sent yet.
    "bench sweep": ("bench", "sweep", MODEL, "4", *SCOPE, "--dry-run", "--json"),
    "bench run": ("bench", "run", "--url", "http://127.0.0.1:9", "--dry-run", "--json"),
    "plan": ("plan", MODEL, "--users", "16", *SCOPE, "--json"),
}
# Commands whose JSON holds no figure read from the catalog (host checks, images, the
# engine's containers, the model cache, an endpoint's reply): render.emit_json makes it
# strict all the same (test_emit_json_never_prints_a_non_finite_number). ingest and bench
# import print their own reports: run below. catalog sync's plan holds recipe ids and config
# differences (flags, images, env), no figure (tests/unit/sync, tests/integration/cli/test_sync.py).
ELSEWHERE = {
    "images",
    "ps",
    "doctor",
    "test",
    "cache ls",
    "ingest",
    "bench import",
    "catalog sync inferencex",
}


def strict(output: str) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"not JSON: {constant}")

    return json.loads(output, parse_constant=refuse)


def json_commands() -> set[str]:
    found: set[str] = set()

    def walk(command: Any, path: list[str]) -> None:
        # Through list_commands/get_command, as click does: the root builds a command only
        # when it is asked for by name (cli/app.py, Root), so `.commands` starts empty.
        if hasattr(command, "list_commands"):
            ctx = typer.Context(command)
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name])
        elif any(opt in ("--json", "--format") for param in command.params for opt in param.opts):
            found.add(" ".join(path))

    walk(typer.main.get_command(app), [])
    return found


@pytest.fixture
def infinite_catalog(make_catalog: Callable[..., Any], db_url: str) -> str:
    """One MI355X mxfp4 SGLang 4-GPU config with a real row, and one whose throughputs are
    infinite (as an import before bounds were checked could leave)."""
    benchmarks = [{**ROW, "output_throughput": 3000.0, "total_token_throughput": 6000.0}]
    configs = {"sglang": {4: {"enabled": True, "benchmarks": benchmarks}}}
    make_catalog(
        {"fp4": {"model": MODEL, "hardware": "MI355X", "precision": "mxfp4", "configs": configs}}, into=db_url
    )
    engine = db.make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO benchmarks (serve_config_id, input_len, output_len, concurrency,"
                    " tpot_ms_p50, output_throughput, total_token_throughput, origin, import_key)"
                    " SELECT id, 1024, 1024, 64, 8.0, :inf, :inf, 'import', 'before-bounds'"
                    " FROM serve_configs"
                ),
                {"inf": float("inf")},
            )
    finally:
        engine.dispose()
    return db_url


def test_every_json_output_is_strict_over_an_infinite_row(
    cli: Callable[..., Any], infinite_catalog: str, tmp_path: Path
) -> None:
    assert json_commands() == {
        name.split(" ")[0] if name.startswith("report ") else name for name in RUNS
    } | (ELSEWHERE), "a command prints JSON: run it here (or say in ELSEWHERE why not)"
    outputs = {}
    for name, args in RUNS.items():
        result = cli(*args, db_url=infinite_catalog)
        outputs[name] = strict(result.stdout)
        assert "Infinity" not in result.stdout and "NaN" not in result.stdout, name
    # The infinite row no longer ranks first as Infinity; where printed, it is null + a note.
    assert outputs["select"]["score"] is None or outputs["select"]["score"] == 3000.0
    sql = cli(*RUNS["sql"], db_url=infinite_catalog)
    rows = strict(sql.stdout)
    assert [r["output_throughput"] for r in rows] == [3000.0, None]
    assert "2 figure(s) in the catalog are not finite numbers" in sql.stderr
    # report pareto charts real rows only: no infinity on the frontier.
    points = outputs["report pareto"]
    assert [(p["concurrency"], p["frontier"]) for p in points] == [(16, "*")]

    folder = tmp_path / "empty"
    folder.mkdir()
    strict(cli("ingest", str(folder), "--dry-run", "--json", db_url=infinite_catalog).stdout)
    agg = tmp_path / "agg_bmk.json"
    agg.write_text(json.dumps([fx.inferencex_agg(model=MODEL, conc=32)], indent=2))
    strict(cli("bench", "import", str(agg), "--dry-run", "--json", db_url=infinite_catalog).stdout)


def test_emit_json_never_prints_a_non_finite_number(capsys: pytest.CaptureFixture[str]) -> None:
    from aim_catalog.cli import render

    render.emit_json({"a": float("inf"), "b": [float("nan"), -float("inf"), 1.5], "c": ({"d": 2},)})
    out = capsys.readouterr()
    assert strict(out.out) == {"a": None, "b": [None, None, 1.5], "c": [{"d": 2}]}
    assert "3 figure(s) in the catalog are not finite numbers" in out.err
