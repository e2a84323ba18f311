"""A new default catalog holds the bundled InferenceX measurements (both dialects), answers
DeepSeek-R1-0528 fp8 on MI355X from them with their source, exports them into recipe files
that ingest back, and the InferenceX app's API rows import through `bench import`."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest import approx
from sqlalchemy import text
from sqlalchemy.orm import Session
from support.curves import hermite
from support.paths import SHARED
from support.seed import DSR1
from support.services import reset_pg

from aim_catalog.recipes.format import MAX_BYTES
from aim_catalog.recipes.seed import bundled_rows, load_measurements, seed_catalog
from aim_catalog.storage import db
from aim_catalog.storage.resources import seed_measurement_files
from aim_catalog.storage.tables import benchmarks as benchmarks_table

API = SHARED / "reference" / "inferencex-results" / "api" / "benchmarks.528c414.json"
RUNS = "https://github.com/SemiAnalysisAI/InferenceX/actions/runs/"


def _seeded(db_url: str) -> str:
    engine = db.make_engine(db_url)
    db.upgrade(engine, on_created=seed_catalog)
    engine.dispose()
    return db_url


def _rows(url: str) -> list[tuple[Any, ...]]:
    engine = db.make_engine(url)
    names = [c.name for c in benchmarks_table.columns if c.name not in ("id", "serve_config_id")]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT r.recipe_id, c.backend, c.gpu_count, {', '.join('b.' + n for n in names)} "
                "FROM benchmarks b JOIN serve_configs c ON c.id = b.serve_config_id "
                "JOIN recipes r ON r.id = c.recipe_pk"
            )
        ).all()
    engine.dispose()
    return sorted((tuple(r) for r in rows), key=repr)


def test_a_new_default_catalog_holds_the_bundled_measurements(db_url: str) -> None:
    url = _seeded(db_url)
    engine = db.make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM benchmarks WHERE origin = 'import' AND import_key LIKE 'ix-%'")
        ).scalar()
        power = conn.execute(
            text("SELECT count(*) FROM benchmarks WHERE power_w_per_gpu IS NOT NULL")
        ).scalar()
    assert count == len(bundled_rows()) == 254
    assert power == 16  # the 2026-05-27, 06-02 and 06-11 API rows
    with Session(engine) as session:  # seeding again (or a second bundle file) adds nothing
        assert load_measurements(session, seed_measurement_files()) == 254
        session.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM benchmarks WHERE origin = 'import'")).scalar() == 254
    engine.dispose()


# The real rows of DeepSeek-R1-0528 fp8 on MI355X, 8 GPU, 1024/1024, on the image each config
# launches now (seed_recipes/measurements/inferencex.json, from the InferenceX app's API
# file): concurrency -> (output tok/s, TPOT p99 ms).
ATOM = {4: (337.14496928879953, 11.492082740172913), 128: (4534.3624020014795, 29.167819805605454)}
ATOM_RUN = RUNS + "26130617530/attempts/1"  # 2026-05-20, atom20260511
ATOM_MTP = {
    8: (996.6313453556868, 9.735665495876631),
    32: (2596.122455198405, 14.702547086683012),
    512: (202.23825773892187, 74.07402439188155),  # the anomalous real row, kept (README)
}
SGLANG_MTP = {
    16: (1319.6570979041267, 15.37062912787531),
    32: (2024.8231972044864, 21.79786097587577),
    64: (3026.2881717136343, 29.424862948638665),
}
SGLANG = {4: (368.3050052705336, 12.924622337146383), 8: (662.5923384285112, 14.120018887658787)}


# Figures travel from the database as JSON: SQLite writes 15 significant digits.


def _log2_between(low: tuple[float, float], high: tuple[float, float], t: float) -> float:
    """A curve of two points: a straight line in log2(concurrency)."""
    return low[0] + t * (high[0] - low[0])


def test_dsr1_fp8_on_mi355x_is_answered_from_measured_rows(cli: Callable[..., Any], db_url: str) -> None:
    """Without SLOs or --concurrency the four configs are compared at 64: the highest
    concurrency that the most of them measured or bracket (ATOM 4-128, ATOM MTP 8-512,
    SGLang MTP 16-64 reach it; SGLang 4-8 does not)."""
    url = _seeded(db_url)
    ask = (DSR1, "8", "-p", "fp8", "-b", "any", "--hardware", "MI355X", "--json")
    chosen = json.loads(cli("--db", url, "select", *ask).stdout)
    assert (chosen["recipe_id"], chosen["backend"], chosen["gpu_count"]) == (
        "deepseek-r1-0528-mi355x-fp8",
        "atom",
        8,
    )
    # ATOM at 64, between its measured 4 and 128: t = (log2 64 - log2 4) / (log2 128 - log2 4) = 4/5.
    expected = _log2_between(ATOM[4], ATOM[128], 0.8)  # 3694.92 tok/s
    assert abs(chosen["score"] - expected) < 5e-3
    point = chosen["operating_point"]
    assert (point["concurrency"], point["kind"], point["between"]) == (64, "interpolated", [4, 128])
    assert abs(point["tpot_ms"] - (ATOM[4][1] + 0.8 * (ATOM[128][1] - ATOM[4][1]))) < 1e-9
    assert chosen["comparison"] == {
        "mode": "common",
        "concurrency": 64,
        "percentile": None,
        "reached": 3,
        "compared": 4,
    }
    evidence = chosen["evidence"]
    assert (evidence["kind"], evidence["source"], evidence["measured_at"]) == (
        "interpolated",
        ATOM_RUN,
        "2026-05-20",
    )
    assert evidence["measured_image"] == evidence["launch_image"] == chosen["image"]
    assert evidence["stale"] is False
    assert [(r["concurrency"], r["source"]) for r in evidence["between"]] == [(4, ATOM_RUN), (128, ATOM_RUN)]
    verdicts = json.loads(cli("--db", url, "explain", *ask).stdout)["verdicts"]
    ranked = [(v["backend"], v["recipe_id"].endswith("mtp"), v["score"]) for v in verdicts if v["score"]]
    assert ranked[0] == ("atom", False, chosen["score"])
    assert ranked[1] == ("sglang", True, approx(SGLANG_MTP[64][0]))  # measured at 64
    # ATOM MTP at 64, between 32 and 512 (x = log2 c = 5 and 9, t = 1/4, width 4). Its curve
    # turns at 32 (secants (2596 - 997) / 2 > 0, (202 - 2596) / 4 < 0): slope 0 there; at 512
    # the end slope ((2 x 4 + 2) d1 - 4 d0) / 6, within 3 |d1| (no limiter).
    y8, y32, y512 = ATOM_MTP[8][0], ATOM_MTP[32][0], ATOM_MTP[512][0]
    d0, d1 = (y32 - y8) / 2, (y512 - y32) / 4
    m512 = (10 * d1 - 4 * d0) / 6
    assert d0 > 0 > d1 and abs(m512) <= 3 * abs(d1)
    assert ranked[2][:2] == ("atom", True)
    assert abs(ranked[2][2] - hermite(y32, y512, 0.0, m512, 4, 0.25)) < 5e-3  # 2509.07
    # The 512 row (50.5 tok/s per GPU against 647.6 at 32) is kept, and said.
    mtp = next(v for v in verdicts if v["backend"] == "atom" and v["recipe_id"].endswith("mtp"))
    assert "note: throughput falls 92% from concurrency 32 to 512 (2596 -> 202.2)" in mtp["reason"]
    assert mtp["operating_point"]["warning"].endswith("that row may be a failed run")
    last = next(v for v in verdicts if v["verdict"] == "ranked" and v["score"] is None)
    assert (last["backend"], last["recipe_id"]) == ("sglang", "deepseek-r1-0528-mi355x-fp8")
    assert "measured at concurrency 4-8 only: not read at 64 (never extrapolated)" in last["reason"]
    assert last["reason"].startswith("ranked 4 of 4")
    human = cli("--db", url, "select", *ask[:-1]).stdout
    assert (
        "\n  compared at concurrency 64, the highest that the most configs measured or bracket (3 of 4)"
        in human
    )
    assert "operating point: concurrency 64 (interpolated between 4 and 128): 3,695 tok/s" in human
    assert f"source: {ATOM_RUN}" in human
    assert (
        f"evidence: interpolated between concurrency 4 and 128, measured on {chosen['image']} (2026-05-20); "
        "the image this config runs"
    ) in human


def test_an_slo_picks_each_curves_best_point_that_meets_it(cli: Callable[..., Any], db_url: str) -> None:
    """--max-tpot-ms 20 (p99): each config's point is its highest throughput whose TPOT p99
    is at most 20 ms, on the SLO boundary where that lies between two measured points."""
    url = _seeded(db_url)
    ask = (DSR1, "8", "-p", "fp8", "-b", "any", "--hardware", "MI355X", "--max-tpot-ms", "20", "--json")
    verdicts = json.loads(cli("--db", url, "explain", *ask).stdout)["verdicts"]
    found = {
        (v["backend"], v["recipe_id"].endswith("mtp")): v for v in verdicts if v["verdict"] != "rejected"
    }
    # ATOM MTP: 32 meets (14.7 ms); past it the curve falls to 202 tok/s at 512, so 32 is best.
    atom_mtp = found[("atom", True)]
    assert atom_mtp["verdict"] == "chosen" and atom_mtp["score"] == approx(ATOM_MTP[32][0])
    assert atom_mtp["operating_point"]["kind"] == "measured"
    # ATOM: 11.49 ms at 4, 29.17 ms at 128: the boundary lies at t = (20 - 11.49) / (29.17 - 11.49).
    t = (20 - ATOM[4][1]) / (ATOM[128][1] - ATOM[4][1])
    atom = found[("atom", False)]
    assert abs(atom["score"] - _log2_between(ATOM[4], ATOM[128], t)) < 5e-3
    assert abs(atom["operating_point"]["tpot_ms"] - 20) < 1e-9
    assert abs(atom["operating_point"]["concurrency"] - round(2 ** (2 + 5 * t), 2)) < 1e-9

    # SGLang MTP (16, 32, 64: x = 4, 5, 6): 20 ms lies between 15.37 ms at 16 and 21.80 ms
    # at 32. Slopes on the first segment: at 16 the end slope (3 d0 - d1) / 2, at 32 the
    # harmonic mean 6 / (3 / d0 + 3 / d1), of TPOT and of throughput alike.
    def slopes(y16: float, y32: float, y64: float) -> tuple[float, float]:
        d0, d1 = y32 - y16, y64 - y32
        return (3 * d0 - d1) / 2, 6 / (3 / d0 + 3 / d1)

    point = found[("sglang", True)]["operating_point"]
    assert point["between"] == [16, 32] and abs(point["tpot_ms"] - 20) < 1e-9
    t = math.log2(point["concurrency"]) - 4  # the concurrency is said to 2 decimals
    tpot, tput = ([SGLANG_MTP[c][k] for c in (16, 32, 64)] for k in (1, 0))
    assert abs(hermite(tpot[0], tpot[1], *slopes(*tpot), 1, t) - 20) < 1e-3
    assert abs(found[("sglang", True)]["score"] - hermite(tput[0], tput[1], *slopes(*tput), 1, t)) < 0.5
    # SGLang: both points meet it: its best is 8.
    assert found[("sglang", False)]["score"] == approx(SGLANG[8][0])
    order = [v["reason"].split(":")[0] for v in verdicts if v["verdict"] != "rejected"]
    assert order == ["chosen", "ranked 2 of 4", "ranked 3 of 4", "ranked 4 of 4"]
    assert [
        k for k, v in found.items() if v["verdict"] == "ranked" and v["reason"].startswith("ranked 2")
    ] == [("atom", False)]
    # 50 tokens/s per user is TPOT 1000/50 = 20 ms: the same answer.
    per_user = (*ask[:-3], "--min-interactivity", "50", "--json")
    assert json.loads(cli("--db", url, "explain", *per_user).stdout)["verdicts"] == verdicts
    # At p90 the figures read are the p90 ones; an unknown percentile is refused in one line.
    p90 = json.loads(cli("--db", url, "select", *ask[:-1], "--percentile", "p90", "--json").stdout)
    assert p90["operating_point"]["percentile"] == "p90"
    bad = cli("--db", url, "select", *ask[:-1], "--percentile", "p95", code=2)
    assert bad.stderr.strip() == "error: unknown percentile 'p95'; choose p50, p90, p99"


def test_concurrency_reads_every_curve_there(cli: Callable[..., Any], db_url: str) -> None:
    """--concurrency 32: ATOM is interpolated between 4 and 128 (t = 3/5); both MTP configs
    measured 32; SGLang (4-8) cannot be read there and ranks last with the reason."""
    url = _seeded(db_url)
    ask = (DSR1, "8", "-p", "fp8", "-b", "any", "--hardware", "MI355X", "--concurrency", "32", "--json")
    chosen = json.loads(cli("--db", url, "select", *ask).stdout)
    assert (chosen["backend"], chosen["recipe_id"]) == ("atom", "deepseek-r1-0528-mi355x-fp8")
    assert abs(chosen["score"] - _log2_between(ATOM[4], ATOM[128], 0.6)) < 5e-3
    assert chosen["comparison"]["mode"] == "concurrency" and chosen["comparison"]["reached"] == 3
    verdicts = json.loads(cli("--db", url, "explain", *ask).stdout)["verdicts"]
    scores = [v["score"] for v in verdicts if v["verdict"] != "rejected"]
    assert scores[1:] == [approx(ATOM_MTP[32][0]), approx(SGLANG_MTP[32][0]), None]
    assert "not read at 32 (never extrapolated)" in verdicts[3]["reason"]
    # Past every curve's range nothing is read, and select says so rather than extrapolate.
    beyond = json.loads(cli("--db", url, "select", *ask[:-2], "4096", "--json").stdout)
    assert beyond["score"] is None and "never extrapolated" in beyond["unreached"]


def test_a_figure_measured_on_another_image_is_said_to_be_stale(cli: Callable[..., Any], db_url: str) -> None:
    """MI300X SGLang at 1k/8k: its rows are from v0.5.5.post3 (agg run 20609406656, dated by
    run-id order) and v0.5.9 (2026-02-27); the config now launches v0.5.12."""
    url = _seeded(db_url)
    ask = (DSR1, "8", "-p", "fp8", "-b", "sglang", "--hardware", "MI300X", "--input-len", "1024")
    chosen = json.loads(cli("--db", url, "select", *ask, "--output-len", "8192", "--json").stdout)
    evidence = chosen["evidence"]
    assert evidence["launch_image"] == chosen["image"] == "lmsysorg/sglang:v0.5.12-rocm700-mi30x"
    assert evidence["measured_image"] in (
        "lmsysorg/sglang:v0.5.5.post3-rocm700-mi30x",
        "lmsysorg/sglang:v0.5.9-rocm700-mi30x",
    )
    assert evidence["stale"] is True and evidence["measured_at"] == chosen["benchmark"]["measured_at"]
    human = cli("--db", url, "select", *ask, "--output-len", "8192").stdout
    assert (
        f"evidence: measured on {evidence['measured_image']} ({evidence['measured_at']}); this config now "
        "runs lmsysorg/sglang:v0.5.12-rocm700-mi30x: the figure may be out of date"
    ) in human


def test_export_writes_the_bundled_rows_back_and_they_ingest(
    cli: Callable[..., Any], db_url: str, tmp_path: Path
) -> None:
    url = _seeded(db_url)
    before = _rows(url)
    out = tmp_path / "exported"
    cli("export", "--out", str(out), db_url=url)
    biggest = max(out.glob("*.yaml"), key=lambda p: p.stat().st_size)
    assert biggest.stat().st_size < MAX_BYTES, biggest  # the per-file limit of a recipe
    if url.startswith("postgresql"):
        reset_pg(url)
        copy = url
    else:
        copy = f"sqlite:///{tmp_path / 'copy.db'}"
    engine = db.make_engine(copy)
    db.upgrade(engine)
    engine.dispose()
    cli("ingest", str(out), db_url=copy)
    assert _rows(copy) == before


def test_api_rows_import_into_the_bundled_configs(cli: Callable[..., Any], db_url: str) -> None:
    engine = db.make_engine(db_url)
    db.upgrade(engine)  # recipes only: the bundled rows would be found again under other keys
    engine.dispose()
    from aim_catalog.storage.resources import seed_recipe_dir

    cli("ingest", str(seed_recipe_dir()), db_url=db_url)
    out = cli("bench", "import", str(API), db_url=db_url)
    assert out.stdout.startswith("imported 89 run(s), 0 already present"), out.stdout
    skipped = [line for line in out.stderr.splitlines() if "skipped" in line]
    assert len(skipped) == 32  # 30 mori-sglang, the non-AMD summary, ATOM fp4 MTP TP4 (no config)
    assert any("315 rows on non-AMD GPUs" in line for line in skipped)
    assert any("no serve config matches" in line for line in skipped)
    again = cli("bench", "import", str(API), db_url=db_url)
    assert again.stdout.startswith("imported 0 run(s), 89 already present")


def test_the_leaderboard_names_the_evidence_of_each_row(cli: Callable[..., Any], db_url: str) -> None:
    """Each group's best row with its evidence: measured, on which image, when, and stale when
    the config now launches another image (the MXFP4 preview's SGLang 8 GPU row is from
    v0.5.7, agg run 20905985411 dated by run-id order; the config runs v0.5.12)."""
    url = _seeded(db_url)
    rows = json.loads(cli("--db", url, "report", "leaderboard", "--json").stdout)
    assert all(r["evidence"] == "measured" and r["measured_image"] == r["benchmark_image"] for r in rows)
    preview = next(
        r
        for r in rows
        if (r["model"], r["gpu_count"], r["backend"]) == ("amd/DeepSeek-R1-0528-MXFP4-Preview", 8, "sglang")
    )
    assert preview["measured_image"] == "lmsysorg/sglang:v0.5.7-rocm700-mi35x"
    assert preview["launch_image"] == "lmsysorg/sglang:v0.5.12-rocm700-mi35x"
    assert (preview["stale"], preview["measured_at"]) == (True, "2026-01-07/2026-01-14")
    assert preview["source"].startswith(
        "https://github.com/InferenceMAX/InferenceMAX/actions/runs/20905985411"
    )
    fresh = [r for r in rows if r["stale"] is False]
    assert fresh and all(r["measured_image"] == r["launch_image"] for r in fresh)
