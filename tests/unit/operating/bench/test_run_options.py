"""`bench run`'s options: checked on construction (one line, never a traceback), one point
per concurrency with the default request count and warm-up, and the --dry-run estimate
computed by hand; `bench sweep`'s choice of configs from explain's verdicts."""

from __future__ import annotations

import pytest

from aim_catalog.errors import UsageProblem
from aim_catalog.operating.bench.run import RunOptions, default_requests
from aim_catalog.operating.bench.sweep import candidates
from aim_catalog.selection.request import Verdict


def test_points_are_one_per_concurrency_lowest_first_with_the_defaults() -> None:
    options = RunOptions(concurrencies=(16, 4, 16), input_len=128, output_len=64)
    specs = options.specs()
    assert [s.concurrency for s in specs] == [4, 16]
    # max(10 x C, 64): 64 at 4 (40 is too few for a stable figure), 160 at 16.
    assert [s.requests for s in specs] == [64, 160] == [default_requests(4), default_requests(16)]
    assert [s.warmup for s in specs] == [4, 16]  # one request per slot
    assert {(s.input_len, s.output_len, s.dataset) for s in specs} == {(128, 64, "random")}


def test_the_estimate_is_rounds_of_one_request_each_bounded_by_the_time_limit() -> None:
    # Per request 1 s + 63 x 30 ms = 2.89 s. At 4: (4 + 64) / 4 = 17 rounds = 49.13 s; at 16:
    # (16 + 160) / 16 = 11 rounds = 31.79 s; bounded by --max-duration 40 at 4: 40 + 31.79.
    options = RunOptions(concurrencies=(4, 16), output_len=64, max_duration=40.0)
    assert options.estimate_s() == pytest.approx(40.0 + 11 * 2.89)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"concurrencies": ()}, "concurrency: give at least one"),
        ({"concurrencies": (0,)}, "concurrency"),
        ({"output_len": 0}, "output_len"),
        ({"dataset": "sharegpt"}, "--dataset sharegpt needs its FILE"),
        ({"dataset_file": "x.json"}, "--dataset sharegpt needs its FILE"),
        ({"dataset": "alpaca"}, "unknown dataset 'alpaca'"),
        ({"client": "curl"}, "unknown client 'curl'"),
        ({"url": "ftp://x"}, "--url must be an http(s) URL"),
        ({"max_duration": 0}, "max_duration"),
        ({"request_rate": -1.0}, "request_rate"),
    ],
)
def test_bad_options_are_one_line(given: dict[str, object], said: str) -> None:
    with pytest.raises(UsageProblem) as caught:
        RunOptions(**given)  # type: ignore[arg-type]
    assert said in str(caught.value) and "\n" not in str(caught.value)


def _verdict(recipe: str, backend: str, gpus: int, kind: str) -> Verdict:
    return Verdict(recipe, backend, gpus, kind, "", None, None, "img:1")  # type: ignore[arg-type]


def test_a_sweep_measures_what_explain_ranks_or_what_only_names() -> None:
    verdicts = [
        _verdict("a", "vllm", 4, "chosen"),
        _verdict("a", "sglang", 4, "ranked"),
        _verdict("b", "vllm", 8, "ranked"),
        _verdict("c", "vllm", 4, "rejected"),
    ]
    assert [(v.recipe_id, v.backend) for v in candidates(verdicts)] == [
        ("a", "vllm"),
        ("a", "sglang"),
        ("b", "vllm"),
    ]
    assert [(v.recipe_id, v.backend) for v in candidates(verdicts, ["a/sglang", "b/vllm/8"])] == [
        ("a", "sglang"),
        ("b", "vllm"),
    ]
    assert candidates(verdicts, ["c"]) == []  # a rejected config is not a candidate
