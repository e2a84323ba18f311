"""`aim-catalog test NAME` against the fake server in a real container, and the rule that a
saved smoke test never outranks a benchmark.

The fake server (tests/fake_server/fake-http) answers /v1/chat/completions as vLLM's
OpenAI-compatible server does (vllm/entrypoints/openai/protocol.py, v0.11): a
``chat.completion`` object, or with ``"stream": true`` server-sent ``chat.completion.chunk``
events, a usage chunk when ``stream_options.include_usage`` is set, then ``data: [DONE]``.
It waits FAKE_TTFT (0.05 s) before the first token and FAKE_TOKEN_DELAY (0.01 s) between
tokens, and answers max_tokens tokens.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from support.launch import IMAGE, MODEL, cli, deployments, free_port, launch

from aim_catalog.storage import db
from aim_catalog.storage.resources import seed_recipe_dir


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Any:
    """test_launch's Docker engine with the fake image, on a fake 8-GPU host; cleaned up after."""
    return request.getfixturevalue("docker_env")


ANSWER = "Hello from the fake inference server, answering a chat completion so that tests can time it."


def catalog_rows(tmp_path: Path, sql: str) -> list[dict[str, Any]]:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'data' / 'aim-catalog' / 'catalog.db'}")
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows


@pytest.mark.docker
def test_a_deployment_answers_streams_and_takes_a_load(served: Any, tmp_path: Path) -> None:
    port = free_port()
    started = launch("--name", "smoke", port=port, gpus="1")
    # launch's cache check: the model is not in the (empty) test cache.
    assert f"{MODEL} is not in the Hugging Face cache" in started.stderr
    url = f"http://127.0.0.1:{port}/v1"

    plain = cli("test", "smoke", "--max-tokens", "8")
    lines = plain.stdout.splitlines()
    assert lines[0].startswith(f"fake-model at {url} answered in ")
    assert lines[1] == "  Hello from the fake inference server, answering a"
    assert lines[2].startswith("  not streamed (--stream times the first token) · 8 tokens · ")

    whole = json.loads(cli("test", "smoke", "--max-tokens", "8", "--json").stdout)
    assert (whole["model"], whole["completion_tokens"], whole["streamed"]) == ("fake-model", 8, False)
    assert whole["ttft_ms"] == whole["latency_ms"] >= 50 + 7 * 10 - 5  # first-token and token delays
    assert whole["url"] == url and whole["finish_reason"] == "length" and whole["prompt_tokens"] > 0

    streamed = json.loads(
        cli("test", "smoke", "--stream", "--max-tokens", "20", "--json", "--prompt", "Hi").stdout
    )
    assert streamed["streamed"] is True and streamed["completion_tokens"] == 20  # from the usage chunk
    assert streamed["text"] == " ".join(ANSWER.split()[:16] + ANSWER.split()[:4])
    assert 45 <= streamed["ttft_ms"] < streamed["latency_ms"]
    assert streamed["latency_ms"] - streamed["ttft_ms"] >= 19 * 10 - 5  # the tokens after the first
    assert streamed["tokens_per_s"] == pytest.approx(
        20 / (streamed["latency_ms"] / 1000), rel=1e-3
    )  # ms rounded

    load = json.loads(
        cli("test", "smoke", "--concurrency", "4", "--requests", "12", "--max-tokens", "32", "--json").stdout
    )
    assert (load["requests"], load["completed"], load["failed"], load["not_sent"]) == (12, 12, 0, 0)
    assert (load["concurrency"], load["output_len"], load["model"]) == (4, 32, "fake-model")
    assert 45 <= load["ttft_ms_p50"] <= load["ttft_ms_p99"]
    assert load["e2el_ms_p50"] >= 50 + 31 * 10 - 5
    assert load["tpot_ms_p50"] >= 9
    # 4 at a time: well under the 12 answers one after the other (~12 x 0.4 s). The slack
    # (half of that) absorbs a connection the fake server's `nc -ll` drops when 4 arrive at
    # once (its listen backlog is 2, as `ss -ltn` shows): the kernel retries it after 1 s.
    assert load["duration_s"] < 12 * load["e2el_ms_p50"] / 1000 / 2
    assert load["output_throughput"] == pytest.approx(12 * 32 / load["duration_s"], rel=0.01)
    assert load["request_throughput"] == pytest.approx(12 / load["duration_s"], rel=0.01)

    human = cli("test", "smoke", "--concurrency", "2", "--requests", "3", "--max-tokens", "2").stdout
    assert human.splitlines()[0].startswith(
        f"3 request(s) to fake-model at {url}, 2 at a time: 3 ok, 0 failed in "
    )
    assert "TTFT p50 " in human and "output tokens/s" in human


@pytest.mark.docker
def test_save_stores_a_smoke_row_that_does_not_rank(served: Any, db_url: str, tmp_path: Path) -> None:
    """On each dialect: the row lands on the deployment's serve config, ranks nowhere and
    survives a backup (export, then ingest into an empty catalog: issue 18, point 3)."""

    def on(*args: str, code: int = 0) -> Any:
        return cli("--db", db_url, *args, code=code)

    def rows(sql: str) -> list[dict[str, Any]]:
        engine = db.make_engine(db_url)
        with engine.connect() as conn:
            found = [dict(r._mapping) for r in conn.execute(text(sql))]
        engine.dispose()
        return found

    on("ingest", str(seed_recipe_dir()))
    on(
        "launch",
        MODEL,
        "1",
        "--image",
        IMAGE,
        "--port",
        str(free_port()),
        "--timeout",
        "30",
        "--name",
        "saved",
    )
    try:
        before = json.loads(on("select", MODEL, "1", "--json").stdout)
        result = on(
            "test", "saved", "--concurrency", "2", "--requests", "4", "--max-tokens", "3", "--save", "--json"
        )
        saved_id = json.loads(result.stdout)["saved_benchmark_id"]
        (deployment,) = rows("SELECT * FROM deployments")
        (row,) = rows("SELECT * FROM benchmarks WHERE origin = 'smoke'")
        assert row["id"] == saved_id and row["serve_config_id"] == deployment["serve_config_id"]
        assert (row["concurrency"], row["output_len"], row["failed"]) == (2, 3, 0)
        assert row["image"] == deployment["image"] == IMAGE
        assert row["output_throughput"] > 0 and row["ttft_ms_p50"] >= 45 and row["e2el_ms_p99"] > 0
        assert row["source"].startswith("aim-catalog test saved (4 request(s), max_tokens 3)")
        assert row["measured_at"].endswith("Z")
        # A one-request smoke test saves too.
        on("test", "saved", "--stream", "--max-tokens", "2", "--save")
        assert len(rows("SELECT id FROM benchmarks WHERE origin = 'smoke'")) == 2
        after = json.loads(on("select", MODEL, "1", "--json").stdout)
        assert (after["score"], after["benchmark"]) == (before["score"], before["benchmark"])
        on("export", "--out", str(tmp_path / "backup"))
        restored = f"sqlite:///{tmp_path / 'restored.db'}"
        cli("--db", restored, "ingest", str(tmp_path / "backup"))
        engine = db.make_engine(restored)
        with engine.connect() as conn:
            smoke = conn.execute(
                text("SELECT output_len, concurrency FROM benchmarks WHERE origin = 'smoke' ORDER BY id")
            ).all()
        engine.dispose()
        assert [tuple(r) for r in smoke] == [(3, 2), (2, 1)]
    finally:
        on("stop", "saved", code=None)


@pytest.mark.docker
def test_an_invalid_answer_is_never_saved(served: Any, db_url: str) -> None:
    """On each dialect: a server whose usage counts are impossible (more prompt tokens than an
    Integer holds, a negative completion) fails `test --save` in one line, exit 4, whether one
    request or a load, streamed or not; nothing is stored (it used to store input_len
    5000000000 and output_len -7, or hit an OverflowError in SQLite)."""

    def on(*args: str, code: int = 0) -> Any:
        return cli("--db", db_url, *args, code=code)

    def smoke_rows() -> list[Any]:
        engine = db.make_engine(db_url)
        with engine.connect() as conn:
            found = list(conn.execute(text("SELECT id FROM benchmarks WHERE origin = 'smoke'")))
        engine.dispose()
        return found

    on("ingest", str(seed_recipe_dir()))
    port = free_port()
    usage = '{"prompt_tokens": 5000000000, "completion_tokens": -7}'
    on(
        "launch",
        MODEL,
        "1",
        "--image",
        IMAGE,
        "--port",
        str(port),
        "--timeout",
        "30",
        "--name",
        "liar",
        "--env",
        f"FAKE_USAGE={usage}",
    )
    try:
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        for args in ((), ("--stream",), ("--concurrency", "2", "--requests", "2")):
            result = on("test", "liar", "--max-tokens", "3", "--save", *args, code=4)
            last = result.stderr.strip().splitlines()[-1]
            assert "Traceback" not in result.stderr
            assert last.endswith(
                f"liar at {url} sent an invalid answer: "
                "usage.prompt_tokens must be an integer from 0 to 2147483647, got 5000000000"
            ), last
            assert result.stdout == "" or "saved_benchmark_id" not in result.stdout
        assert smoke_rows() == []
    finally:
        on("stop", "liar", code=None)


@pytest.mark.docker
def test_failures_are_one_line_with_exit_codes(served: Any, tmp_path: Path) -> None:
    launch("--name", "broken", "--env", "FAKE_CHAT_STATUS=500", gpus="1")
    (deployment,) = deployments(tmp_path)
    base = f"http://127.0.0.1:{deployment['port']}"
    one = cli("test", "broken", code=1)
    assert (
        one.stderr.strip()
        == f"error: broken answered HTTP 500 at {base}/v1/chat/completions: simulated failure"
    )
    streamed = cli("test", "broken", "--stream", code=1)
    assert streamed.stderr.strip().endswith(
        f"answered HTTP 500 at {base}/v1/chat/completions: simulated failure"
    )
    load = cli("test", "broken", "--concurrency", "2", "--requests", "3", "--save", code=1)
    assert (
        load.stderr.strip()
        .splitlines()[-1]
        .startswith("error: 3 of 3 request(s) failed (nothing saved); first: broken answered HTTP 500")
    )
    assert catalog_rows(tmp_path, "SELECT id FROM benchmarks WHERE origin = 'smoke'") == []

    missing = cli("test", "nobody", code=2)
    assert (
        missing.stderr.strip()
        == "error: no deployment called 'nobody' on this engine (`aim-catalog ps` lists them)"
    )
    cli("stop", "broken")
    stopped = cli("test", "broken", code=2)
    assert stopped.stderr.strip() == "error: deployment 'broken' is stopped (`aim-catalog ps --all`)"
