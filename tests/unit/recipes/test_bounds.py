"""The physical bounds every benchmark row is checked against (aim_catalog.recipes.bounds)."""

from __future__ import annotations

import math

import pytest

from aim_catalog.recipes import bounds


@pytest.mark.parametrize(
    ("column", "value", "gpus"),
    [
        ("output_throughput", 1e300, 8),
        ("output_throughput", 8_000_001.0, 8),  # just over 10^6 tokens/s per GPU
        ("total_token_throughput", 1_000_001.0, 1),
        ("request_throughput", math.inf, 4),
        ("output_throughput", -2390.0, 1),
        ("ttft_ms_p50", 0.001, 1),  # below 0.01 ms
        ("ttft_ms_p99", math.inf, 1),
        ("tpot_ms_p50", 5e-324, 1),
        ("e2el_ms_p99", 1e12, 1),  # more than a day
        ("input_len", 5_000_000_000, 1),
        ("output_len", -7, 1),
        ("concurrency", 0, 1),
        ("ttft_ms_p999", 0.0, 1),  # the new percentiles (migration 0010) follow their kind
        ("itl_ms_mean", -1.0, 1),
        ("power_w_per_gpu", 0.0, 8),
        ("power_w_per_gpu", 10_001.0, 8),
        ("joules_per_output_token", -6.35, 8),
        ("joules_per_total_token", math.nan, 8),
    ],
)
def test_impossible_figures_are_named(column: str, value: float, gpus: int) -> None:
    why = bounds.problem(column, value, gpus)
    assert why is not None
    assert bounds.problems({column: value, "source": "x"}, gpus) == [(column, why)]


@pytest.mark.parametrize(
    ("column", "value", "gpus"),
    [
        # the extremes of the real InferenceX rows (reference/inferencex-results), per config
        ("total_token_throughput", 115_500.9 * 8, 8),
        ("output_throughput", 40_128.4, 1),
        ("ttft_ms_p50", 22.79, 8),
        ("tpot_ms_p50", 1.86, 8),
        ("itl_ms_p99", 7826.1, 8),
        ("e2el_ms_p99", 1_095_907.9, 8),
        ("input_len", 8192, 8),
        ("concurrency", 16384, 8),
        ("output_throughput", 0.0, 1),
        # an InferenceX API row (api/benchmarks.528c414.json: MI355X SGLang fp4, TP4, conc 4)
        ("ttft_ms_p999", 823.36, 4),
        ("power_w_per_gpu", 628.907, 4),
        ("joules_per_output_token", 6.353339, 4),
        ("joules_per_total_token", 3.161212, 4),
    ],
)
def test_real_figures_pass(column: str, value: float, gpus: int) -> None:
    assert bounds.problem(column, value, gpus) is None


def test_unknown_gpu_count_is_taken_as_one_node() -> None:
    per_node = bounds.MAX_TOKENS_PER_S_PER_GPU * bounds.NODE_GPUS
    assert bounds.problem("output_throughput", per_node, None) is None
    why = bounds.problem("output_throughput", per_node * 1.01, None)
    assert why is not None and "unknown" in why


def test_text_and_unknown_columns_are_left_to_the_type_checks() -> None:
    assert bounds.problems({"source": "x", "ttft_ms_p50": "abc", "image": None, "failed": 3}) == []


def _edges() -> list[float]:
    """Numbers at and beside every limit (as floats and integers), and the non-finite ones."""
    limits = [0.0, 1.0, 5e-324, bounds.MAX_LATENCY_MS, bounds.MAX_LENGTH, bounds.MAX_CONCURRENCY]
    limits += [*bounds.MIN_LATENCY_MS.values(), bounds.MAX_POWER_W_PER_GPU, bounds.MAX_JOULES_PER_TOKEN]
    limits += [bounds.MAX_TOKENS_PER_S_PER_GPU * n for n in (1, 3, 8)]
    values = [math.inf, -math.inf, math.nan, 1e308, -1e308]
    for limit in limits:
        for value in (limit, math.nextafter(limit, math.inf), math.nextafter(limit, -math.inf), -limit):
            values += [value, int(value)]
    return values


def test_ranges_say_what_problem_says() -> None:
    """``ranges``: a number is within its column's (low, high) exactly when ``problem`` passes
    it, so the importers' quick check of a row's figures and ``problem`` agree."""
    columns = ["output_throughput", "total_token_throughput", "request_throughput", "input_len"]
    columns += ["output_len", "concurrency", "nominal_input_len", "failed", "request_rate"]
    columns += ["power_w_per_gpu", "joules_per_output_token", "joules_per_total_token", "x_ms_p50"]
    columns += [f"{kind}_ms_{s}" for kind in bounds.MIN_LATENCY_MS for s in ("p50", "p999", "mean")]
    for gpus in (None, 0, 1, 3, 8):
        limits = bounds.ranges(gpus)
        for column in columns:
            low, high = limits[column]
            for value in _edges():
                passes = bounds.problem(column, value, gpus) is None
                assert (low <= value <= high) == passes, (column, value, gpus)
