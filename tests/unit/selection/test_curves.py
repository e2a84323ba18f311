"""Curves over concurrency: a monotone cubic in log2(concurrency) inside the measured range only,
operating points under SLOs (on the SLO boundary), the common concurrency, which rows form a
config's curve. Every expectation is computed by hand in the comment beside it."""

from __future__ import annotations

import math
from typing import Any

import pytest
from support.curves import hermite

from aim_catalog.selection import curves
from aim_catalog.selection.curves import CURVE_COLUMNS, Point


def row(concurrency: int | None, score: float | None, **fields: Any) -> list[Any]:
    """One aggregated curve row, in ``CURVE_COLUMNS`` order."""
    values = {name: None for name in CURVE_COLUMNS}
    values.update(concurrency=concurrency, score=score, id=fields.pop("id", concurrency or 0), **fields)
    return [values[name] for name in CURVE_COLUMNS]


def curve(*points: tuple[int, float, float], image: str | None = "img:1") -> list[Point]:
    """(concurrency, score, TPOT p99) points of one image."""
    parsed, _ = curves.parse([row(c, s, tpot_ms_p99=t, image=image) for c, s, t in points])
    return curves.curve_of(parsed, image)[0]


def test_two_points_are_a_straight_line_in_log2_concurrency_and_never_extrapolated() -> None:
    c = curve((4, 100.0, 10.0), (16, 300.0, 30.0))
    # 8 is halfway from 4 to 16 in log2: (2 -> 4, 3 is the middle): 100 + 0.5 x 200.
    point = curves.at(c, 8)
    assert point is not None and point.kind == "interpolated" and point.between == (4, 16)
    assert point.figures["score"] == 200.0 and point.figures["tpot_ms_p99"] == 20.0
    assert curves.at(c, 4) is c[0] and curves.at(c, 16) is c[1]  # measured points are measured
    assert curves.at(c, 2) is None and curves.at(c, 17) is None  # outside: nothing is said
    assert curves.at(curve((8, 1.0, 1.0)), 8) is not None and curves.at(curve((8, 1.0, 1.0)), 9) is None


def test_more_points_follow_a_monotone_cubic() -> None:
    c = curve((4, 100.0, 10.0), (8, 180.0, 20.0), (16, 300.0, 40.0))
    # x = log2(c) = 2, 3, 4; score secants 80 and 120. Fritsch-Carlson slopes: inside, the
    # harmonic mean 6 / (3/80 + 3/120) = 96; at the ends ((2 + 1) 80 - 120) / 2 = 60 and
    # (3 x 120 - 80) / 2 = 140. At 4 x sqrt(2) (t = 1/2 of the first segment):
    # 0.5 x 100 + 0.125 x 60 + 0.5 x 180 - 0.125 x 96 = 135.5.
    point = curves.at(c, 4 * 2**0.5)
    assert point is not None and point.figures["score"] == pytest.approx(135.5)
    assert point.figures["score"] == pytest.approx(hermite(100, 180, 60, 96, 1, 0.5))
    # A turning curve stays within its measured points (zero slope at the turn).
    peak = curve((8, 1000.0, 10.0), (32, 2600.0, 15.0), (512, 200.0, 75.0))
    values = [curves.at(peak, 8 * 1.1**k) for k in range(1, 43)]
    assert all(v is not None and 200.0 <= (v.figures["score"] or 0) <= 2600.0 for v in values)


def test_under_slo_reads_the_boundary_between_the_bracketing_points() -> None:
    c = curve((4, 100.0, 10.0), (8, 180.0, 20.0), (16, 300.0, 40.0))
    # TPOT <= 30 lies between 8 (20 ms) and 16 (40 ms). TPOT slopes: secants 10 and 20,
    # inside 6 / (3/10 + 3/20) = 13.33, end (3 x 20 - 10) / 2 = 25; score slopes 96 and 140
    # (above). The point is where the TPOT cubic is 30 ms, its score the score cubic there.
    point = curves.under_slo(c, {"tpot": 30.0}, "p99")
    assert point is not None and point.kind == "interpolated" and point.between == (8, 16)
    t = math.log2(point.concurrency) - 3
    assert point.figures["tpot_ms_p99"] == pytest.approx(30.0)
    assert hermite(20, 40, 40 / 3, 25, 1, t) == pytest.approx(30.0)
    assert point.figures["score"] == pytest.approx(hermite(180, 300, 96, 140, 1, t))
    assert 180.0 < (point.figures["score"] or 0) < 300.0
    # Met everywhere: the best measured point; met nowhere: none.
    assert curves.under_slo(c, {"tpot": 50.0}, "p99") is c[2]
    assert curves.under_slo(c, {"tpot": 5.0}, "p99") is None
    # A figure the rows do not have is not met.
    assert curves.under_slo(c, {"ttft": 1000.0}, "p99") is None


def test_under_slo_keeps_a_measured_peak_before_a_falling_curve() -> None:
    # Throughput falls after 32 (the real ATOM MTP 512 row does): the best point meeting the
    # SLO is the measured 32, not the boundary on the falling segment.
    c = curve((8, 1000.0, 10.0), (32, 2600.0, 15.0), (512, 200.0, 75.0))
    point = curves.under_slo(c, {"tpot": 20.0}, "p99")
    assert point is c[1]


def test_p99_falls_back_to_p50_and_other_percentiles_do_not() -> None:
    parsed, _ = curves.parse([row(8, 100.0, tpot_ms_p50=10.0, image="i")])
    assert curves.latency(parsed[0].figures, "tpot", "p99") == 10.0
    assert curves.latency(parsed[0].figures, "tpot", "p90") is None
    assert curves.misses(parsed[0], {"tpot": 5.0}, "p99") == ["tpot p99 10 ms > 5 ms"]


def test_common_concurrency_is_the_highest_the_most_curves_reach() -> None:
    a = curve((4, 1.0, 1.0), (128, 1.0, 1.0))
    b = curve((4, 1.0, 1.0), (8, 1.0, 1.0))
    c = curve((8, 1.0, 1.0), (512, 1.0, 1.0))
    d = curve((16, 1.0, 1.0), (64, 1.0, 1.0))
    # 8: a, b, c; 64: a, c, d; 128: a, c. Three at most; the highest of those is 64.
    assert curves.common_concurrency([a, b, c, d]) == (64, 3, 4)
    assert curves.common_concurrency([a, b]) == (8, 2, 2)  # every curve reaches 4..8
    assert curves.common_concurrency([[]]) is None


def test_a_config_is_judged_by_the_rows_of_the_image_it_launches() -> None:
    rows = [
        row(4, 10.0, image="old", measured_at="2025-12-01", id=1),
        row(64, 90.0, image="old", measured_at="2025-12-01", id=2),
        row(4, 12.0, image="new", measured_at="2026-05-01", id=3),
        row(8, 20.0, image="new", measured_at="2026-05-01", id=4),
        row(8, 22.0, image="new", measured_at="2026-05-02", id=5),  # a repeat: the later one counts
        row(None, 999.0, image="new", id=6),  # no concurrency: placed nowhere
    ]
    points, unplaced = curves.parse(rows)
    assert unplaced == 1
    chosen, image = curves.curve_of(points, "new")
    assert image == "new" and [(p.concurrency, p.figures["score"]) for p in chosen] == [(4, 12.0), (8, 22.0)]
    # Launching an image nothing was measured on: the image measured last.
    assert curves.curve_of(points, "newest")[1] == "new"
    assert [p.figures["score"] for p in curves.curve_of(points, "old")[0]] == [10.0, 90.0]


def test_leave_one_out_predicts_each_interior_point_from_its_neighbours() -> None:
    c = curve((4, 100.0, 10.0), (8, 190.0, 20.0), (16, 300.0, 40.0))
    [(held, predicted)] = list(curves.leave_one_out(c))
    # 8 from 4 and 16: (100 + 300) / 2 = 200 (error 10/190 = 5.26%).
    assert held is c[1] and predicted.figures["score"] == 200.0 and predicted.between == (4, 16)


def test_a_curve_that_falls_by_half_is_said_to() -> None:
    assert curves.falls(curve((8, 1000.0, 10.0), (32, 2600.0, 15.0), (512, 200.0, 75.0))) == (
        "throughput falls 92% from concurrency 32 to 512 (2600 -> 200): that row may be a failed run"
    )
    assert curves.falls(curve((8, 1000.0, 10.0), (32, 600.0, 15.0))) is None  # 40%: noise, a plateau


def test_the_slo_boundary_is_where_the_interpolated_point_crosses_the_limit() -> None:
    """``_boundary`` bisects one latency's cubic: the same fractions, bit for bit, as bisecting
    the full interpolated point (``latency`` of ``_between``), over random curves with gaps,
    p99 rows that have only medians, rising and falling latencies."""
    import random

    rng = random.Random(23)

    def reference(c: list[Point], i: int, name: str, percentile: str, limit: float, rising: bool) -> float:
        meets, misses_at = (0.0, 1.0) if rising else (1.0, 0.0)
        for _ in range(60):
            middle = (meets + misses_at) / 2
            value = curves.latency(curves._between(c, i, middle).figures, name, percentile)
            if value is not None and value <= limit:
                meets = middle
            else:
                misses_at = middle
        return meets

    checked = 0
    for _ in range(150):
        concurrencies = sorted(rng.sample([1, 2, 4, 8, 16, 32, 64, 128, 256, 512], rng.randint(2, 7)))
        rows = []
        for c in concurrencies:
            fields: dict[str, Any] = {"image": "i", "ttft_ms_p50": rng.uniform(10, 900)}
            if rng.random() < 0.7:
                fields["ttft_ms_p99"] = fields["ttft_ms_p50"] * rng.uniform(1, 3)
            rows.append(row(c, rng.uniform(100, 5000), **fields))
        c_ = curves.curve_of(curves.parse(rows)[0], "i")[0]
        for i in range(len(c_) - 1):
            for percentile in ("p50", "p99"):
                a = curves.latency(c_[i].figures, "ttft", percentile)
                b = curves.latency(c_[i + 1].figures, "ttft", percentile)
                if a is None or b is None or a == b:
                    continue
                limit = rng.uniform(min(a, b), max(a, b))
                rising = b > limit
                got = curves._boundary(c_, i, "ttft", percentile, limit, rising=rising)
                assert got == reference(c_, i, "ttft", percentile, limit, rising)
                checked += 1
    assert checked > 250
