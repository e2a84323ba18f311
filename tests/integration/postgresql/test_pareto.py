"""`report pareto`: throughput per GPU against interactivity per config, the frontier
marked, and the chart drawn to SVG/PNG (read back here) with the optional plot extra."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import bench_results as fx
from support.curves import hermite
from typer.testing import CliRunner

from aim_catalog.cli import app

MODEL = "org/fp4-model"

SVG = "{http://www.w3.org/2000/svg}"

# (GPUs, concurrency, tok/s per GPU, TPOT p50 in seconds): 4 GPUs own the frontier but for
# 8 GPUs at concurrency 16; 8 GPUs at 64 is beaten by 4 GPUs at 16 on both axes.

RUNS = [
    (4, 4, 500.0, 0.005),
    (4, 16, 1500.0, 0.008),
    (4, 64, 3000.0, 0.020),
    (8, 16, 1000.0, 1 / 150),
    (8, 64, 1400.0, 0.010),
]


@pytest.fixture
def charted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str, make_catalog: Callable[..., Any]
) -> Callable[..., Any]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(tmp_path / "no-sysfs"))

    def cli(*args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(app, ["--db", db_url, *args])
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        return result

    fp4 = {"sglang": {4: {"enabled": True}, 8: {"enabled": True}}}
    make_catalog(
        {"fp4": {"model": MODEL, "hardware": "MI355X", "precision": "mxfp4", "configs": fp4}}, into=db_url
    )
    rows = [
        fx.inferencex_agg(model=MODEL, tp=gpus, conc=conc, tput_per_gpu=per_gpu, median_tpot=tpot)
        for gpus, conc, per_gpu, tpot in RUNS
    ]
    (tmp_path / "agg_bmk.json").write_text(json.dumps(rows, indent=2))
    cli("bench", "import", str(tmp_path / "agg_bmk.json"))
    return cli


def test_the_table_lists_every_point_and_marks_the_frontier(charted: Callable[..., Any]) -> None:
    rows = json.loads(
        charted("report", "pareto", MODEL, "--hardware", "MI355X", "-p", "fp4", "-f", "json").stdout
    )
    got = {
        (r["config"], r["concurrency"]): (r["tok/s per GPU"], r["tok/s per user"], r["frontier"])
        for r in rows
    }
    assert got == {
        ("fp4 sglang 4 GPU", 4): (500.0, 200.0, "*"),
        ("fp4 sglang 4 GPU", 16): (1500.0, 125.0, "*"),
        ("fp4 sglang 4 GPU", 64): (3000.0, 50.0, "*"),
        ("fp4 sglang 8 GPU", 16): (1000.0, 150.0, "*"),
        ("fp4 sglang 8 GPU", 64): (1400.0, 100.0, ""),
    }
    # Filters that match nothing: exit 3 with the reason.
    nothing = charted("report", "pareto", MODEL, "--hardware", "MI300X", code=3)
    assert "no benchmark of org/fp4-model to chart" in nothing.stderr
    assert "needs a MODEL" in charted("report", "pareto", code=2).stderr


def test_svg_has_one_series_per_config_and_the_frontier(charted: Callable[..., Any], tmp_path: Path) -> None:
    out = tmp_path / "pareto.svg"
    result = charted("report", "pareto", MODEL, "--plot", str(out))
    assert f"chart written to {out}" in result.stderr
    root = ET.parse(out).getroot()
    groups = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("id")}
    series = sorted(name for name in groups if name and name.startswith("series-"))
    assert series == ["series-0", "series-1"]
    points = [len(list(groups[name].iter(f"{SVG}use"))) for name in series]
    assert points == [3, 2]
    assert len(list(groups["pareto-frontier"].iter(f"{SVG}use"))) == 4
    legend = "".join(root.itertext())
    assert "Pareto frontier" in legend


def test_png_is_written_and_a_bad_extension_is_refused(charted: Callable[..., Any], tmp_path: Path) -> None:
    out = tmp_path / "pareto.png"
    charted("report", "pareto", MODEL, "--plot", str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    refused = charted("report", "pareto", MODEL, "--plot", str(tmp_path / "p.pdf"), code=2)
    assert "name the file *.png or *.svg" in refused.stderr


def test_the_plot_replaces_a_link_at_its_path_and_never_writes_through_it(
    charted: Callable[..., Any], tmp_path: Path
) -> None:
    """``--plot PATH`` followed a symbolic link at PATH and overwrote what it pointed to."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "p.svg"
    out.symlink_to(victim)
    charted("report", "pareto", MODEL, "--plot", str(out))
    assert victim.read_text() == "keep me"
    assert not out.is_symlink() and out.read_bytes().lstrip().startswith(b"<?xml")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_without_matplotlib_the_command_says_how_to_get_it(
    charted: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the extra were not installed
    result = charted("report", "pareto", MODEL, "--plot", str(tmp_path / "p.svg"), code=1)
    assert "pip install 'aim-catalog[plot]'" in result.stderr
    assert not (tmp_path / "p.svg").exists()
    assert "tok/s per GPU" in result.stdout  # the table is still printed


# --------------------------------------------------------------------------- pareto


@pytest.fixture
def rerun_charted(
    cli: Callable[..., Any], make_catalog: Callable[..., Any], db_url: str, tmp_path: Path
) -> str:
    """org/fp4 on MI355X, SGLang 4 and 8 GPUs. InferenceX rows: 1024/1024 for both configs
    (two runs of 4 GPUs at concurrency 64), 8192/1024 for 4 GPUs only; one row has only
    TPOT p99, one only the interactivity keys."""
    fp4 = {"sglang": {4: {"enabled": True}, 8: {"enabled": True}}}
    make_catalog(
        {"fp4": {"model": "org/fp4", "hardware": "MI355X", "precision": "mxfp4", "configs": fp4}}, into=db_url
    )
    p99_only = fx.inferencex_agg(model="org/fp4", tp=8, conc=32, tput_per_gpu=900.0)
    del p99_only["median_tpot"], p99_only["median_intvty"]
    intvty_only = fx.inferencex_agg(model="org/fp4", tp=8, conc=64, tput_per_gpu=1200.0)
    for stat in ("mean", "median", "std", "p99"):
        del intvty_only[f"{stat}_tpot"]
    rows = [
        fx.inferencex_agg(model="org/fp4", conc=64, tput_per_gpu=3000.0, median_tpot=0.020),
        fx.inferencex_agg(model="org/fp4", conc=64, tput_per_gpu=2800.0, median_tpot=0.016),  # a rerun
        p99_only,
        intvty_only,
        fx.inferencex_agg(
            model="org/fp4", conc=64, isl=8192, osl=1024, tput_per_gpu=9000.0, median_tpot=0.01
        ),
    ]
    path = tmp_path / "agg_bmk.json"
    path.write_text(json.dumps(rows, indent=2))
    cli("bench", "import", str(path), db_url=db_url)
    return db_url


def test_pareto_charts_one_scenario_keeps_reruns_and_falls_back_to_p99(
    cli: Callable[..., Any], rerun_charted: str
) -> None:
    got = json.loads(cli("report", "pareto", "org/fp4", "-f", "json", db_url=rerun_charted).stdout)
    points = sorted(
        (r["config"], r["scenario"], r["concurrency"], r["tok/s per GPU"], r["tok/s per user"], r["tpot"])
        for r in got
    )
    assert points == [
        ("fp4 sglang 4 GPU", "1024/1024 tokens", 64, 2800.0, 62.5, "p50"),
        ("fp4 sglang 4 GPU", "1024/1024 tokens", 64, 3000.0, 50.0, "p50"),
        ("fp4 sglang 8 GPU", "1024/1024 tokens", 32, 900.0, 62.5, "p99"),  # p99 = 2 x 8 ms
        ("fp4 sglang 8 GPU", "1024/1024 tokens", 64, 1200.0, pytest.approx(131.6, abs=0.1), "p50"),
    ]
    other = json.loads(
        cli(
            "report",
            "pareto",
            "org/fp4",
            "--input-len",
            "8192",
            "--output-len",
            "1024",
            "-f",
            "json",
            db_url=rerun_charted,
        ).stdout
    )
    assert [(r["config"], r["scenario"], r["tok/s per GPU"]) for r in other] == [
        ("fp4 sglang 4 GPU", "8192/1024 tokens", 9000.0)
    ]


def test_an_slo_adds_each_configs_operating_point_marked_interpolated(
    charted: Callable[..., Any], tmp_path: Path
) -> None:
    """--min-interactivity 100 (TPOT at most 10 ms). 8 GPUs: 64 is at 10 ms: measured. 4 GPUs:
    10 ms lies between 16 (8 ms) and 64 (20 ms); x = log2 c = 2, 4, 6 (width 2). Fritsch-
    Carlson slopes on the segment 4-6: TPOT secants 1.5 and 6 -> 12 / (6/1.5 + 6/6) = 2.4 at
    16 and ((2x2 + 2) 6 - 2 x 1.5) / 4 = 8.25 at 64; per GPU secants 500 and 750 -> 600 and
    875. The point is where the TPOT cubic is 10 ms; its throughput the per-GPU cubic there."""
    ask = ("report", "pareto", MODEL, "--min-interactivity", "100")
    rows = json.loads(charted(*ask, "-f", "json").stdout)
    slo = {r["config"]: r for r in rows if r["kind"].endswith("(SLO)")}
    assert {r["kind"] for r in rows} == {"measured", "measured (SLO)", "interpolated (SLO)"}
    eight = slo["fp4 sglang 8 GPU"]
    assert (eight["kind"], eight["concurrency"], eight["tok/s per GPU"]) == ("measured (SLO)", 64, 1400.0)
    four = slo["fp4 sglang 4 GPU"]
    low, high = 0.0, 1.0  # bisection of the TPOT cubic for 10 ms
    for _ in range(60):
        t = (low + high) / 2
        low, high = (t, high) if hermite(8, 20, 2.4, 8.25, 2, t) <= 10 else (low, t)
    assert four["kind"] == "interpolated (SLO)" and four["tok/s per user"] == 100.0
    assert four["tok/s per GPU"] == round(hermite(1500, 3000, 600, 875, 2, low), 1)
    assert four["concurrency"] == round(2 ** (4 + 2 * low), 2) and 16 < four["concurrency"] < 64
    assert four["frontier"] == ""  # the frontier is measured points only
    # The chart draws the SLO line and both operating points.
    out = tmp_path / "slo.svg"
    charted(*ask, "--plot", str(out))
    ids = {g.get("id") for g in ET.parse(out).getroot().iter(f"{SVG}g")}
    assert {"slo-line", "slo-point-0", "slo-point-1"} <= ids
    # Only pareto takes an SLO.
    refused = charted("report", "leaderboard", "--min-interactivity", "5", code=2)
    assert "takes no MODEL, --plot or --min-interactivity" in refused.stderr
