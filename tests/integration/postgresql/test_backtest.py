"""`Catalog.backtest` on both dialects: the bundled InferenceX measurements give rows for
MI355X and MI300X SGLang whose numbers are those recomputed by hand from the raw file, and
only comparable rows form curves (a repeated concurrency counts once, its latest run)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from support.paths import REPO
from support.seed import DSR1

from aim_catalog import Catalog
from aim_catalog.errors import NoSuitableRecipe
from aim_catalog.measurements.backtest import ALL
from aim_catalog.recipes.seed import seed_catalog
from aim_catalog.storage import db

RAW = REPO / "seed_recipes" / "measurements" / "inferencex.json"
# The hand-picked curve: DeepSeek-R1-0528 FP8 on MI300X, SGLang on 8 GPUs, 1024/1024, measured
# on lmsysorg/sglang:v0.5.12-rocm700-mi30x on 2026-05-18 (InferenceX run 26008678094) at
# concurrency 4, 8, 16, 32 and 64.
RECIPE, IMAGE = "deepseek-r1-0528-mi300x-fp8", "lmsysorg/sglang:v0.5.12-rocm700-mi30x"


def _seeded(db_url: str) -> str:
    engine = db.make_engine(db_url)
    db.upgrade(engine, on_created=seed_catalog)
    engine.dispose()
    return db_url


def _raw_curve() -> dict[int, dict[str, Any]]:
    rows = json.loads(RAW.read_text())
    picked = {
        r["concurrency"]: r
        for r in rows
        if (r["recipe_id"], r["backend"], r["gpu_count"], r.get("image")) == (RECIPE, "sglang", 8, IMAGE)
        and (r["nominal_input_len"], r["nominal_output_len"]) == (1024, 1024)
    }
    assert sorted(picked) == [4, 8, 16, 32, 64]  # one run each: nothing to choose between
    return picked


def test_the_bundled_measurements_backtest_as_recomputed_by_hand(db_url: str) -> None:
    with Catalog.open(_seeded(db_url)) as catalog:
        result = catalog.backtest()
        only_dsr1 = catalog.backtest(DSR1)
    groups = {(g.hardware, g.backend): g for g in result.groups}
    for hardware in ("MI355X", "MI300X"):
        sglang = groups[(hardware, "sglang")]
        assert sglang.n > 0 and sglang.throughput.n == sglang.n
        assert sglang.throughput.median_pct is not None and sglang.tpot_p99.p90_pct is not None
    assert result.groups[-1] == result.overall and result.overall.hardware == ALL
    assert result.overall.n == sum(g.n for g in result.groups[:-1]) == len(result.points)
    # The published Llama 3.1 figures are one row per scenario: curves with nothing to hold out.
    assert groups[("MI300X", "vllm")].curves > 0 and groups[("MI300X", "vllm")].n == 0

    raw = _raw_curve()
    mine = {
        p.concurrency: p
        for p in result.points
        if (p.curve.recipe_id, p.curve.backend, p.curve.image, p.curve.input_len, p.curve.output_len)
        == (RECIPE, "sglang", IMAGE, 1024, 1024)
    }
    assert sorted(mine) == [8, 16, 32]  # 4 and 64 are the ends
    for concurrency, point in mine.items():
        truth = raw[concurrency]
        assert point.between == (concurrency // 2, concurrency * 2)
        for metric, column in (
            ("throughput", "output_throughput"),
            ("ttft_p99", "ttft_ms_p99"),
            ("tpot_p99", "tpot_ms_p99"),
        ):
            assert point.measured[metric] == pytest.approx(truth[column])
            expected = abs(point.predicted[metric] - truth[column]) / truth[column] * 100
            assert point.error_pct[metric] == pytest.approx(expected)
    # Holding out 8 leaves x = log2(c) = 2, 4, 5, 6 (4, 16, 32, 64); 8 is the middle of the
    # segment 2-4 (t = 1/2, width 2). Fritsch-Carlson slopes: secants d0 = (y16 - y4) / 2,
    # d1 = y32 - y16; at x = 2 the three-point end slope ((2*2 + 1) d0 - 2 d1) / 3; at x = 4
    # the weighted harmonic mean (4 + 5) / (4 / d0 + 5 / d1). The cubic Hermite at t = 1/2:
    # (y4 + y16) / 2 + (2 / 8) (m2 - m4).
    y4, y16, y32 = (raw[c]["output_throughput"] for c in (4, 16, 32))
    d0, d1 = (y16 - y4) / 2, y32 - y16
    m2, m4 = (5 * d0 - 2 * d1) / 3, 9 / (4 / d0 + 5 / d1)
    assert d0 > 0 and d1 > 0 and 0 < m2 < 3 * d0  # no limiter applies
    assert mine[8].predicted["throughput"] == pytest.approx((y4 + y16) / 2 + (m2 - m4) / 4)
    assert mine[8].error_pct["throughput"] == pytest.approx(3.5045, abs=1e-4)

    # Restricted to DeepSeek-R1-0528 (FP8): the same MI300X SGLang group (only that model has
    # MI300X SGLang rows), and no Llama curve.
    assert only_dsr1.model == DSR1
    assert {(g.hardware, g.backend): g for g in only_dsr1.groups}[("MI300X", "sglang")] == groups[
        ("MI300X", "sglang")
    ]
    assert ("MI300X", "vllm") not in {(g.hardware, g.backend) for g in only_dsr1.groups}


def test_only_comparable_rows_form_curves_and_the_latest_run_counts(
    make_catalog: Callable[..., Any], db_url: str
) -> None:
    bench = {"input_len": 1024, "output_len": 1024, "image": "img:a"}
    rows = [
        {**bench, "concurrency": 4, "output_throughput": 100.0},
        {**bench, "concurrency": 8, "output_throughput": 150.0, "measured_at": "2026-01-01"},
        {**bench, "concurrency": 8, "output_throughput": 190.0, "measured_at": "2026-02-01"},  # latest
        {**bench, "concurrency": 16, "output_throughput": 300.0},
        {**bench, "concurrency": 32, "image": "img:b", "output_throughput": 50.0},  # another curve
        {"input_len": 1024, "output_len": 1024, "output_throughput": 999.0},  # no concurrency
    ]
    configs = {"vllm": {4: {"enabled": True, "benchmarks": rows}}}
    url = make_catalog({"bt": {"model": "org/bt", "configs": configs}}, into=db_url)
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:  # newer runs at 8 that must not count: they would be the latest
            for column, value in (("failed", "2"), ("request_rate", "4.0"), ("origin", "'smoke'")):
                conn.execute(
                    text(
                        "INSERT INTO benchmarks (serve_config_id, input_len, output_len, concurrency,"
                        f" output_throughput, image, measured_at, {column}) SELECT id, 1024, 1024, 8,"
                        f" 1000.0, 'img:a', '2026-12-31', {value} FROM serve_configs"
                    )
                )
    finally:
        engine.dispose()
    with Catalog.open(url) as catalog:
        result = catalog.backtest("org/bt")
        with pytest.raises(NoSuitableRecipe, match="no benchmark of org/none to backtest"):
            catalog.backtest("org/none")
    [point] = result.points
    assert point.curve.image == "img:a" and point.measured["throughput"] == 190.0
    assert point.error_pct["throughput"] == pytest.approx(10 / 190 * 100)
    assert [(g.hardware, g.backend, g.curves, g.n) for g in result.groups] == [
        ("MI300X", "vllm", 2, 1),
        (ALL, ALL, 2, 1),
    ]
