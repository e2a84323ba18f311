"""The figures of a point from its requests' timings: vLLM's definitions (TTFT, ITL, TPOT,
E2EL; rates over the point's duration), numpy's linear percentiles, ``benchmarks`` column
names. Every expectation is computed by hand in the comment beside it."""

from __future__ import annotations

import pytest

from aim_catalog.operating.bench import figures
from aim_catalog.operating.bench.figures import Sample
from aim_catalog.operating.load import percentile
from aim_catalog.settings import METRIC_FIELDS

# Two requests over a 2 s point:
#   A: TTFT 0.1 s, E2EL 0.5 s, gaps 0.1, 0.1, 0.2 s; 10 prompt and 4 completion tokens;
#      TPOT = (0.5 - 0.1) / (4 - 1) = 0.13333 s
#   B: TTFT 0.3 s, E2EL 0.9 s, gaps 0.2, 0.4 s; 20 prompt and 3 completion tokens;
#      TPOT = (0.9 - 0.3) / (3 - 1) = 0.3 s
A = Sample(ttft=0.1, e2el=0.5, itl=(0.1, 0.1, 0.2), prompt_tokens=10, completion_tokens=4)
B = Sample(ttft=0.3, e2el=0.9, itl=(0.2, 0.4), prompt_tokens=20, completion_tokens=3)


def test_tpot_is_the_time_after_the_first_token_per_token_after_it() -> None:
    assert A.tpot == pytest.approx(0.4 / 3)
    assert B.tpot == pytest.approx(0.3)
    # One token, or a count the server did not give: no TPOT (vLLM skips them too).
    assert Sample(0.1, 0.1, (), 5, 1).tpot is None
    assert Sample(0.1, 0.5, (0.4,), 5, None).tpot is None


def test_percentiles_interpolate_linearly_between_closest_ranks() -> None:
    # [100, 300]: rank = (2 - 1) * q / 100, so p90 = 100 + 0.9 * 200 = 280.
    assert percentile([300.0, 100.0], 90) == pytest.approx(280.0)
    # [100, 100, 200, 200, 400]: p90 rank 3.6 -> 200 + 0.6 * (400 - 200) = 320.
    assert percentile([100.0, 200.0, 400.0, 100.0, 200.0], 90) == pytest.approx(320.0)
    assert percentile([7.0], 99.9) == 7.0 and percentile([], 50) is None


def test_percentiles_are_numpys_linear_method() -> None:
    numpy = pytest.importorskip("numpy")
    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0]
    for q in (50, 90, 99, 99.9):
        assert percentile(values, q) == pytest.approx(float(numpy.percentile(values, q)))


def test_a_points_figures_by_hand() -> None:
    metrics = figures.metrics([A, B], duration=2.0)
    assert metrics == pytest.approx(
        {
            # (4 + 3) / 2 s; (10 + 20 + 4 + 3) / 2 s; 2 requests / 2 s.
            "output_throughput": 3.5,
            "total_token_throughput": 18.5,
            "request_throughput": 1.0,
            # TTFT [100, 300] ms: p50 200, p90 280, p99 298, p99.9 299.8, mean 200.
            "ttft_ms_p50": 200.0,
            "ttft_ms_p90": 280.0,
            "ttft_ms_p99": 298.0,
            "ttft_ms_p999": 299.8,
            "ttft_ms_mean": 200.0,
            # TPOT [133.333, 300] ms: p50 216.667, p90 133.333 + 0.9 * 166.667 = 283.333,
            # p99 298.333, p99.9 299.833, mean 216.667.
            "tpot_ms_p50": 216.667,
            "tpot_ms_p90": 283.333,
            "tpot_ms_p99": 298.333,
            "tpot_ms_p999": 299.833,
            "tpot_ms_mean": 216.667,
            # ITL, every gap of both: [100, 100, 200, 200, 400] ms: p50 (rank 2) 200, p90
            # (rank 3.6) 320, p99 (rank 3.96) 392, p99.9 (rank 3.996) 399.2, mean 1000 / 5 = 200.
            "itl_ms_p50": 200.0,
            "itl_ms_p90": 320.0,
            "itl_ms_p99": 392.0,
            "itl_ms_p999": 399.2,
            "itl_ms_mean": 200.0,
            # E2EL [500, 900] ms: p50 700, p90 860, p99 896, p99.9 899.6, mean 700.
            "e2el_ms_p50": 700.0,
            "e2el_ms_p90": 860.0,
            "e2el_ms_p99": 896.0,
            "e2el_ms_p999": 899.6,
            "e2el_ms_mean": 700.0,
        },
        abs=1e-3,
    )
    # Every figure is a benchmarks column: a result is a row as it stands.
    assert set(metrics) <= set(METRIC_FIELDS) and len(metrics) == 3 + 4 * 5


def test_unknown_counts_leave_the_figures_that_need_them_empty() -> None:
    silent = Sample(ttft=0.2, e2el=0.6, itl=(0.4,), prompt_tokens=None, completion_tokens=None)
    metrics = figures.metrics([A, silent], duration=4.0)
    # A partial sum would understate the rate: no token throughput at all.
    assert metrics["output_throughput"] is None and metrics["total_token_throughput"] is None
    assert metrics["request_throughput"] == 0.5  # 2 requests / 4 s
    assert metrics["tpot_ms_p50"] == pytest.approx(133.333)  # A's alone
    assert metrics["ttft_ms_mean"] == pytest.approx(150.0)  # (100 + 200) / 2
    # Completion tokens known, prompt tokens not: only the output rate.
    half = Sample(ttft=0.2, e2el=0.6, itl=(0.4,), prompt_tokens=None, completion_tokens=2)
    mixed = figures.metrics([A, half], duration=2.0)
    assert (mixed["output_throughput"], mixed["total_token_throughput"]) == (3.0, None)  # (4 + 2) / 2


def test_no_completed_request_gives_no_figures() -> None:
    assert set(figures.metrics([], duration=3.0).values()) == {None}
    assert figures.metrics([A], duration=0.0)["request_throughput"] is None


def test_mean_lengths_are_the_servers_counts() -> None:
    assert figures.mean_tokens([A, B]) == (15, 4)  # (10 + 20) / 2; (4 + 3) / 2 = 3.5 -> 4
    three = Sample(0.1, 0.2, (), 31, 7)
    assert figures.mean_tokens([A, three]) == (20, 6)  # (10 + 31) / 2 = 20.5 -> 20; 11 / 2 = 5.5 -> 6
    unknown = Sample(0.1, 0.2, (), None, None)
    assert figures.mean_tokens([unknown]) == (None, None)
    assert figures.mean_tokens([unknown, A]) == (10, 4)  # of the requests that had a count
    assert figures.mean_tokens([]) == (None, None)
