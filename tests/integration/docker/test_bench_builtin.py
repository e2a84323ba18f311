"""The built-in benchmark client (``operating.bench.builtin``) against the stand-in server in a
real container: what it measures is what the server was told to do.

The stand-in is launched as a user launches a config, its speed given on its own command
line (``--arg --fake-ttft=0.2 --arg --fake-token-delay=0.05``): 0.2 s before the first
token, 0.05 s between tokens (tests/fake_server/fake-http). So TTFT is at least 200 ms and
TPOT at least 50 ms, and a correct client reads them within a tolerance above that:

- TTFT: ``TTFT_SLACK_MS`` = 150 ms. Before its 0.2 s the shell server reads the request
  line by line and forks busybox's head, sed, wc and date (a few ms each), and the request
  crosses Docker's port proxy; 10-20 ms here. The rest is for a loaded CI machine (two
  cores). At concurrency 4 the stand-in's ``nc -ll`` can drop one connection of four that
  arrive at once (listen backlog 2) and the kernel retries it 1 s later: that request's
  TTFT is 1.2 s, which the median (p50, checked) does not see and p99 may.
- TPOT: ``TPOT_SLACK_MS`` = 20 ms. Between two tokens the server forks one subshell (the
  token's text) besides its sleep: 1-3 ms here.

A measurement check, not a timed test: nothing asserts how long the run took.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.launch import free_port, launch

from aim_catalog.operating.bench import builtin, prompts
from aim_catalog.operating.bench.builtin import run_point, server_version
from aim_catalog.operating.bench.point import PointSpec

TTFT_MS, TOKEN_DELAY_MS = 200, 50
TTFT_SLACK_MS, TPOT_SLACK_MS = 150, 20
OUTPUT_LEN, INPUT_LEN = 20, 32
SERVED = "fake-model"  # what the stand-in's /v1/models lists


@pytest.fixture
def paced(docker_env: Any) -> str:
    """The base URL of a stand-in that waits 0.2 s for the first token and 0.05 s between tokens."""
    port = free_port()
    launch(
        "--name",
        "paced",
        "--arg",
        f"--fake-ttft={TTFT_MS / 1000}",
        "--arg",
        f"--fake-token-delay={TOKEN_DELAY_MS / 1000}",
        port=port,
        gpus="1",
    )
    return f"http://127.0.0.1:{port}"


def body_words(input_len: int, output_len: int) -> int:
    """The stand-in's prompt_tokens: the words of the whole request body (fake-http's wc -w)."""
    payload = builtin.chat_payload(SERVED, prompts.random_prompt(0, input_len), output_len)
    return len(json.dumps(payload).split())


@pytest.mark.docker
@pytest.mark.parametrize(("concurrency", "requests"), [(1, 4), (4, 12)])
def test_the_client_measures_the_servers_pace(paced: str, concurrency: int, requests: int) -> None:
    seen: list[tuple[int, int]] = []
    spec = PointSpec(
        concurrency=concurrency,
        requests=requests,
        input_len=INPUT_LEN,
        output_len=OUTPUT_LEN,
        max_duration=300.0,
        warmup=1,
    )
    result = run_point(paced, SERVED, spec, progress=lambda done, total: seen.append((done, total)))

    assert (result.completed, result.failed, result.interrupted, result.errors) == (requests, 0, False, ())
    assert seen[-1] == (requests, requests)
    # Lengths are the server's usage counts: 20 tokens each; the stand-in counts the words of
    # the whole request body as prompt tokens (more than the 32 words of the prompt).
    assert result.output_len == OUTPUT_LEN
    assert result.input_len == body_words(INPUT_LEN, OUTPUT_LEN) > INPUT_LEN
    metrics = result.metrics
    assert TTFT_MS <= metrics["ttft_ms_p50"] <= TTFT_MS + TTFT_SLACK_MS, metrics
    assert TOKEN_DELAY_MS <= metrics["tpot_ms_p50"] <= TOKEN_DELAY_MS + TPOT_SLACK_MS, metrics
    assert TOKEN_DELAY_MS <= metrics["itl_ms_p50"] <= TOKEN_DELAY_MS + TPOT_SLACK_MS, metrics
    # E2EL = TTFT + 19 gaps: at least 200 + 19 x 50 = 1150 ms.
    assert metrics["e2el_ms_p50"] >= TTFT_MS + (OUTPUT_LEN - 1) * TOKEN_DELAY_MS
    for kind in ("ttft", "tpot", "itl", "e2el"):
        p50, p90, p99, p999 = (metrics[f"{kind}_ms_{stat}"] for stat in ("p50", "p90", "p99", "p999"))
        assert p50 <= p90 <= p99 <= p999 and metrics[f"{kind}_ms_mean"] is not None
    # Rates over the measured duration (rounded to the ms: 1% is plenty).
    assert metrics["output_throughput"] == pytest.approx(requests * OUTPUT_LEN / result.duration_s, rel=0.01)
    assert metrics["request_throughput"] == pytest.approx(requests / result.duration_s, rel=0.01)
    assert metrics["total_token_throughput"] == pytest.approx(
        requests * (OUTPUT_LEN + result.input_len) / result.duration_s, rel=0.01
    )


@pytest.mark.docker
def test_the_version_is_the_servers_own(paced: str) -> None:
    assert server_version(paced, "vllm") == "0.11.0-fake"
    assert server_version(paced + "/v1", "sglang") == "0.11.0-fake"


@pytest.mark.docker
def test_a_failing_server_fails_every_request_and_raises_nothing(docker_env: Any, tmp_path: Path) -> None:
    port = free_port()
    launch("--name", "broken", "--env", "FAKE_CHAT_STATUS=500", port=port, gpus="1")
    spec = PointSpec(concurrency=2, requests=5, input_len=8, output_len=4, max_duration=60.0, warmup=1)
    result = run_point(f"http://127.0.0.1:{port}", SERVED, spec)
    assert (result.completed, result.failed, result.interrupted) == (0, 5, False)
    assert result.errors == ("HTTP 500: simulated failure (5 requests)",)
    assert set(result.metrics.values()) == {None} and (result.input_len, result.output_len) == (None, None)
