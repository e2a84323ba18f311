"""The backtest's arithmetic, by hand: held-out points predicted in log2(concurrency), their
absolute percentage errors, median and p90, groups without an interior point."""

from __future__ import annotations

from typing import Any

import pytest

from aim_catalog.measurements.backtest import (
    ALL,
    CurveKey,
    abs_pct_error,
    gaps,
    held_out,
    percentile,
    score_curves,
    summarize,
    table,
)
from aim_catalog.selection.curves import CURVE_COLUMNS, Point, parse

KEY = CurveKey("MI300X", "vllm", "r", 4, 1024, 1024, "img")


def curve(*points: tuple[float, float, float | None], row_id: int = 1) -> list[Point]:
    """Points parsed from rows in CURVE_COLUMNS order: (concurrency, throughput, TPOT p99)."""
    rows = []
    for i, (concurrency, score, tpot) in enumerate(points):
        row: dict[str, Any] = dict.fromkeys(CURVE_COLUMNS)
        row.update(concurrency=concurrency, score=score, tpot_ms_p99=tpot, id=row_id + i, image="img")
        rows.append([row[name] for name in CURVE_COLUMNS])
    parsed, unplaced = parse(rows)
    assert unplaced == 0
    return parsed


def test_the_middle_of_three_points_is_predicted_from_its_neighbours() -> None:
    # log2: 8 is halfway between 4 and 16, so the prediction is the mean of 100 and 300.
    [point] = held_out(KEY, curve((4, 100.0, 10.0), (8, 190.0, 12.0), (16, 300.0, 20.0)))
    assert point.concurrency == 8 and point.between == (4, 16)
    assert point.predicted["throughput"] == pytest.approx(200.0)
    assert point.error_pct["throughput"] == pytest.approx(10 / 190 * 100)  # 5.263...%
    assert point.error_pct["throughput"] == pytest.approx(5.2631578947)
    # TPOT: (10 + 20) / 2 = 15 against 12 measured: 25%. No TTFT anywhere: nothing to score.
    assert point.predicted["tpot_p99"] == pytest.approx(15.0)
    assert point.error_pct["tpot_p99"] == pytest.approx(25.0)
    assert point.measured["ttft_p99"] is None and point.error_pct["ttft_p99"] is None


def test_an_uneven_gap_is_interpolated_in_log2() -> None:
    # 8 lies 1/3 of the way from 4 to 32 in log2 (2 -> 3 -> 5): 100 + (400 - 100) / 3 = 200.
    [point] = held_out(KEY, curve((4, 100.0, None), (8, 250.0, None), (32, 400.0, None)))
    assert point.predicted["throughput"] == pytest.approx(200.0)
    assert point.error_pct["throughput"] == pytest.approx(20.0)


def test_end_points_are_never_held_out() -> None:
    assert held_out(KEY, curve((4, 100.0, None), (16, 300.0, None))) == []
    assert len(held_out(KEY, curve(*((2**i, 100.0 * i, None) for i in range(1, 6))))) == 3


def test_median_and_p90_are_linear_between_closest_ranks() -> None:
    values = [7.0, 1.0, 3.0, 10.0, 2.0, 9.0, 4.0, 6.0, 5.0, 8.0]  # 1..10, shuffled
    assert percentile(values, 0.5) == pytest.approx(5.5)  # (5 + 6) / 2
    assert percentile(values, 0.9) == pytest.approx(9.1)  # rank 0.9 * 9 = 8.1: 9 + 0.1 * (10 - 9)
    assert percentile([4.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([4.0, 1.0, 2.0], 0.9) == pytest.approx(3.6)  # rank 1.8: 2 + 0.8 * (4 - 2)
    assert percentile([3.0], 0.9) == 3.0
    assert percentile([], 0.5) is None
    errors = summarize([])
    assert (errors.n, errors.median_pct, errors.p90_pct) == (0, None, None)


def test_nothing_is_divided_by_zero() -> None:
    assert abs_pct_error(0.0, 5.0) is None
    assert abs_pct_error(None, 5.0) is None and abs_pct_error(5.0, None) is None
    assert abs_pct_error(float("inf"), 5.0) is None and abs_pct_error(5.0, float("nan")) is None
    assert abs_pct_error(200.0, 150.0) == pytest.approx(25.0)


def test_groups_by_hardware_and_backend_then_overall() -> None:
    mi355 = CurveKey("MI355X", "sglang", "s", 8, 1024, 1024, "img")
    short = CurveKey("MI300X", "sglang", "t", 8, 1024, 1024, "img")
    result = score_curves(
        None,
        [
            (mi355, curve((4, 100.0, 10.0), (8, 190.0, 12.0), (16, 300.0, 20.0))),  # 5.26%, 25%
            (mi355, curve((4, 100.0, 10.0), (8, 250.0, 15.0), (16, 300.0, 20.0))),  # 20%, 0%
            (KEY, curve((4, 100.0, None), (8, 160.0, None), (16, 300.0, None))),  # 25%, no TPOT
            (short, curve((4, 100.0, 10.0), (16, 300.0, 20.0))),  # no interior point
        ],
    )
    assert [(g.hardware, g.backend, g.curves, g.n) for g in result.groups] == [
        ("MI300X", "vllm", 1, 1),
        ("MI300X", "sglang", 1, 0),  # vLLM before SGLang: the backends' order
        ("MI355X", "sglang", 2, 2),
        (ALL, ALL, 4, 3),
    ]
    empty = result.groups[1]
    assert (empty.throughput.n, empty.throughput.median_pct, empty.throughput.p90_pct) == (0, None, None)
    mi355x = result.groups[2]
    assert mi355x.throughput.median_pct == pytest.approx((10 / 190 * 100 + 20) / 2)
    assert mi355x.tpot_p99.median_pct == pytest.approx(12.5)
    overall = result.overall
    assert overall.throughput.n == 3 and overall.tpot_p99.n == 2
    assert overall.throughput.median_pct == pytest.approx(20.0)  # of 5.26, 20, 25
    assert overall.throughput.p90_pct == pytest.approx(24.0)  # rank 1.8: 20 + 0.8 * 5
    assert len(result.points) == 3
    columns, rows = table(result)
    assert columns[:6] == ["hardware", "backend", "curves", "n", "throughput median %", "throughput p90 %"]
    assert rows[1] == ("MI300X", "sglang", 1, 0, None, None, None, None, None, None)
    assert rows[-1][:6] == (ALL, ALL, 4, 3, 20.0, 24.0)
    notes = gaps(result)
    assert "MI300X sglang: no curve has an interior point (3 or more concurrencies) to hold out" in notes
    assert "overall: TPOT p99 scored on 2 of 3 points (the others lack it)" in notes


def test_an_empty_catalog_has_an_overall_row_saying_nothing() -> None:
    result = score_curves(None, [])
    assert [(g.hardware, g.curves, g.n, g.throughput.median_pct) for g in result.groups] == [
        (ALL, 0, 0, None)
    ]
