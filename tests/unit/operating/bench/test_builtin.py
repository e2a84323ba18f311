"""``run_point`` and ``server_version`` against servers on 127.0.0.1 that a test writes byte by
byte (``support.hostile``: real sockets, no mock): what is sent (the length forced with
``max_tokens``, ``min_tokens`` and ``ignore_eos``), what is counted (the server's usage),
and every way a server can fail a request, counted and never raised."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from support.hostile import Handler, Request, Serve, answer, endless_head, forever, sse_head, trickle

from aim_catalog.errors import InvalidArgument, WrongArgumentType
from aim_catalog.operating.bench import builtin, prompts
from aim_catalog.operating.bench.builtin import run_point, server_version
from aim_catalog.operating.bench.point import PointSpec
from aim_catalog.operating.bench.prompts import DatasetProblem


def chunk(**fields: Any) -> bytes:
    body = {"id": "c", "object": "chat.completion.chunk", "model": "m", **fields}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def piece(text: str, key: str = "content") -> bytes:
    return chunk(choices=[{"index": 0, "delta": {key: text}, "finish_reason": None}])


def usage(prompt: int, completion: int) -> bytes:
    counts = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return chunk(choices=[], usage=counts)


DONE = b"data: [DONE]\n\n"


def streamed(request: Request, conn: socket.socket, key: str = "content", delay: float = 0.0) -> None:
    """A well-behaved server: ``max_tokens`` pieces, the usage chunk (prompt tokens: the
    prompt's words), then [DONE]."""
    body = request.json()
    tokens = body["max_tokens"]
    time.sleep(delay)
    conn.sendall(sse_head() + chunk(choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}}]))
    for i in range(tokens):
        conn.sendall(piece(f" t{i}", key))
    conn.sendall(usage(len(body["messages"][0]["content"].split()), tokens) + DONE)


def spec(**fields: Any) -> PointSpec:
    values: dict[str, Any] = {
        "concurrency": 2,
        "requests": 3,
        "input_len": 12,
        "output_len": 6,
        "max_duration": 60.0,
    }
    values.update(fields)
    return PointSpec(**values)


# --------------------------------------------------------------------------- what is sent and counted


def test_a_point_forces_the_answer_length_and_counts_what_the_server_says(serve: Serve) -> None:
    server = serve(streamed)
    seen: list[tuple[int, int]] = []
    point = spec(warmup=2, requests=5, input_len=12, output_len=6)
    result = run_point(server.url + "/v1/", "the-model", point, progress=lambda d, t: seen.append((d, t)))

    assert (result.completed, result.failed, result.interrupted, result.errors) == (5, 0, False, ())
    assert result.spec == point and result.client.startswith("aim-catalog builtin ")
    # The lengths are the server's usage counts: 12 words counted by this server, 6 tokens.
    assert (result.input_len, result.output_len) == (12, 6)
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]  # the measured ones only
    metrics = result.metrics
    # 6 tokens and 12 + 6 in all per request, over one duration (the milliseconds the
    # result rounds it to are too coarse for this quick a server: compare the rates).
    assert metrics["output_throughput"] == pytest.approx(6 * metrics["request_throughput"], rel=1e-3)
    assert metrics["total_token_throughput"] == pytest.approx(3 * metrics["output_throughput"], rel=1e-3)
    assert metrics["ttft_ms_p50"] is not None and metrics["ttft_ms_p50"] <= metrics["e2el_ms_p50"]

    # Two warm-up requests, then five measured; each a prompt of its own.
    assert len(server.requests) == 7
    bodies = [r.json() for r in server.requests]
    assert {r.path for r in server.requests} == {"/v1/chat/completions"}
    assert {b["messages"][0]["content"] for b in bodies} == {prompts.random_prompt(i, 12) for i in range(7)}
    for body in bodies:
        assert body["model"] == "the-model" and body["messages"][0]["role"] == "user"
        assert (body["max_tokens"], body["min_tokens"], body["ignore_eos"]) == (6, 6, True)
        assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
        assert "temperature" not in body  # as vLLM's benchmark: the server's default


def test_a_reasoning_models_thinking_counts_as_generated_text(serve: Serve) -> None:
    # vLLM's and SGLang's reasoning parsers stream the thinking in delta.reasoning_content.
    server = serve(lambda request, conn: streamed(request, conn, key="reasoning_content"))
    result = run_point(server.url, "m", spec(requests=2))
    assert (result.completed, result.failed, result.output_len) == (2, 0, 6)
    assert result.metrics["itl_ms_p50"] is not None  # five gaps per request


def test_a_server_that_does_not_count_leaves_the_lengths_unknown(serve: Serve) -> None:
    def silent(request: Request, conn: socket.socket) -> None:
        conn.sendall(sse_head() + piece(" a") + piece(" b") + DONE)

    result = run_point(serve(silent).url, "m", spec(requests=2))
    assert (result.completed, result.input_len, result.output_len) == (2, None, None)
    assert result.metrics["output_throughput"] is None and result.metrics["request_throughput"] is not None
    assert result.metrics["tpot_ms_p50"] is None and result.metrics["itl_ms_p50"] is not None


# --------------------------------------------------------------------------- failures are counted


def endless_stream(stop: threading.Event) -> Handler:
    def handle(request: Request, conn: socket.socket) -> None:
        conn.sendall(sse_head())
        forever(conn, piece(" again"), stop)

    return handle


def long_line(stop: threading.Event) -> Handler:
    def handle(request: Request, conn: socket.socket) -> None:
        conn.sendall(sse_head() + b'data: {"pad": "')
        forever(conn, b"a" * 65536, stop)

    return handle


def slow(stop: threading.Event) -> Handler:
    def handle(request: Request, conn: socket.socket) -> None:
        conn.sendall(sse_head())
        trickle(conn, [piece(" slow")] * 100, 0.2, stop)

    return handle


def huge_error(stop: threading.Event) -> Handler:
    def handle(request: Request, conn: socket.socket) -> None:
        conn.sendall(endless_head().replace(b"200 OK", b"503 Busy"))
        forever(conn, b"x" * 65536, stop)

    return handle


def fixed(data: bytes) -> Callable[[threading.Event], Handler]:
    return lambda stop: lambda request, conn: conn.sendall(data)


FAILURES = {
    "http error": (
        fixed(answer(b'{"object": "error", "message": "no room\\nat all", "code": 500}', 500)),
        "HTTP 500: no room",
    ),
    "http error, unreadable": (huge_error, "HTTP 503"),
    "endless": (endless_stream, "invalid answer: it streamed more than max_tokens (6) pieces of text"),
    "long line": (long_line, "a line of the answer is longer than 1 MiB"),
    "too slow": (slow, "no complete answer within 1 s"),
    "no done": (fixed(sse_head() + piece(" a") + usage(1, 1)), "the stream ended before data: [DONE]"),
    "no text": (fixed(sse_head() + usage(1, 0) + DONE), "the stream carried no text"),
    "error event": (
        fixed(sse_head() + b'data: {"object": "error", "message": "engine died"}\n\n'),
        "error while streaming: engine died",
    ),
    "not json": (fixed(sse_head() + b"data: {nope\n\n"), "invalid answer: not JSON: '{nope'"),
    "nan": (fixed(sse_head() + b'data: {"choices": NaN}\n\n'), "invalid answer: JSON with NaN"),
    "overcounted": (
        fixed(sse_head() + piece(" a") + usage(1, 7) + DONE),
        "invalid answer: usage.completion_tokens is 7, more than the max_tokens (6) asked",
    ),
    "negative count": (
        fixed(sse_head() + piece(" a") + usage(-3, 1) + DONE),
        "invalid answer: usage.prompt_tokens must be an integer",
    ),
    "wrong type": (fixed(sse_head() + piece(" a") + chunk(choices="all") + DONE), "choices must be a list"),
    "closed at once": (fixed(b""), "RemoteProtocolError"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_every_failure_is_counted_in_one_line_never_raised(
    case: str, serve: Serve, stop: threading.Event
) -> None:
    handler, reason = FAILURES[case]
    result = run_point(serve(handler(stop)).url, "m", spec(requests=3), timeout=1.0)
    assert (result.completed, result.failed, result.interrupted) == (0, 3, False)
    (said,) = result.errors
    assert reason in said and said.endswith("(3 requests)") and "\n" not in said, said
    assert "127.0.0.1" not in said  # the caller says where; a URL may carry credentials
    assert set(result.metrics.values()) == {None} and (result.input_len, result.output_len) == (None, None)


def unused_port() -> int:
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_server_fails_every_request() -> None:
    result = run_point(f"http://127.0.0.1:{unused_port()}", "m", spec(requests=2))
    assert (result.completed, result.failed) == (0, 2)
    assert result.errors[0].endswith("(2 requests)") and "Errno" in result.errors[0]


def test_reasons_keep_the_first_few_distinct_ones() -> None:
    errors = ["a", "b", "a", "c", "d", "e", "f", "a"]
    assert builtin._reasons(errors) == ("a (3 requests)", "b", "c", "d", "e")


# --------------------------------------------------------------------------- time bounds, stop, rate


def test_nothing_is_sent_after_the_time_limit(serve: Serve) -> None:
    server = serve(lambda request, conn: streamed(request, conn, delay=0.5))
    result = run_point(server.url, "m", spec(concurrency=1, requests=3, max_duration=0.2))
    # The first answer takes 0.5 s: by then the 0.2 s are over and the two others stay unsent.
    assert (result.completed, result.failed, result.interrupted) == (1, 0, True)
    assert len(server.requests) == 1


def test_stop_abandons_what_is_in_flight_and_keeps_what_finished(serve: Serve, stop: threading.Event) -> None:
    answered = threading.Event()

    def first_fast(request: Request, conn: socket.socket) -> None:
        if not answered.is_set():
            answered.set()
            streamed(request, conn)
        else:  # the next one would trickle for 20 s: only stop ends the run in time
            slow(stop)(request, conn)

    server = serve(first_fast)
    halt = threading.Event()
    found: list[Any] = []
    worker = threading.Thread(
        target=lambda: found.append(run_point(server.url, "m", spec(concurrency=1, requests=5), stop=halt))
    )
    worker.start()
    deadline = time.monotonic() + 30
    while len(server.requests) < 2 and time.monotonic() < deadline:  # the second is in flight
        time.sleep(0.05)
    halt.set()
    worker.join(30)
    (point,) = found
    # Neither completed nor failed (it did not time out): abandoned; the first is kept.
    assert (point.completed, point.failed, point.interrupted) == (1, 0, True)
    assert len(server.requests) == 2


def test_a_stop_set_before_the_run_sends_nothing(serve: Serve) -> None:
    server = serve(streamed)
    halt = threading.Event()
    halt.set()
    result = run_point(server.url, "m", spec(warmup=2, requests=3), stop=halt)
    assert (result.completed, result.failed, result.interrupted, result.duration_s) == (0, 0, True, 0.0)
    assert server.requests == []


def test_poisson_arrivals_are_seeded_and_end_at_count_over_rate() -> None:
    times = builtin.arrivals(200, 4.0)
    assert times == builtin.arrivals(200, 4.0) and times != builtin.arrivals(200, 4.0, seed=1)
    assert times == sorted(times) and times[0] > 0
    assert times[-1] == pytest.approx(200 / 4.0)  # scaled, as vLLM's get_request does
    gaps = [b - a for a, b in zip([0.0, *times[:-1]], times, strict=True)]
    # Exponential gaps of mean 1/rate: as many above the mean as a Poisson process has
    # (e^-1 = 37% of them), within what 200 draws allow.
    assert 0.25 < sum(g > 0.25 for g in gaps) / 200 < 0.5
    assert builtin.arrivals(1, 2.0) == [pytest.approx(0.5)] and builtin.arrivals(0, 2.0) == []


def test_a_rate_sends_every_request(serve: Serve) -> None:
    server = serve(streamed)
    result = run_point(server.url, "m", spec(concurrency=4, requests=4, request_rate=40.0))
    assert (result.completed, result.failed, result.interrupted) == (4, 0, False)
    assert len(server.requests) == 4


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"concurrency": 0}, InvalidArgument, "concurrency must be from 1 to 4096"),
        ({"requests": 0}, InvalidArgument, "requests must be from 1"),
        ({"output_len": True}, WrongArgumentType, "output_len must be an integer"),
        ({"max_duration": float("inf")}, InvalidArgument, "max_duration must be a finite number above 0"),
        ({"request_rate": 0}, InvalidArgument, "request_rate must be a finite number above 0"),
        ({"dataset": "alpaca"}, InvalidArgument, "dataset must be random or sharegpt"),
        ({"dataset": "sharegpt"}, DatasetProblem, "the sharegpt dataset needs a file"),
    ],
)
def test_a_bad_spec_is_refused_before_anything_is_sent(
    serve: Serve, change: dict[str, Any], error: type[Exception], message: str
) -> None:
    server = serve(streamed)
    with pytest.raises(error, match=message):
        run_point(server.url, "m", spec(**change))
    with pytest.raises(WrongArgumentType, match="spec must be a PointSpec"):
        run_point(server.url, "m", {"concurrency": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="timeout must be"):
        run_point(server.url, "m", spec(), timeout=0)
    assert server.requests == []


def test_a_failing_progress_callback_is_the_callers_error(serve: Serve) -> None:
    def broken(done: int, total: int) -> None:
        raise KeyError("caller's bug")

    with pytest.raises(KeyError):
        run_point(serve(streamed).url, "m", spec(), progress=broken)


def test_base_url_and_client_name() -> None:
    for url in ("http://h:8000", "http://h:8000/", "http://h:8000/v1", " http://h:8000/v1/ "):
        assert builtin.base_of(url) == "http://h:8000"
    assert builtin.client_name().split(" ")[:2] == ["aim-catalog", "builtin"]


# --------------------------------------------------------------------------- server_version


def versions(paths: dict[str, bytes]) -> Handler:
    def handle(request: Request, conn: socket.socket) -> None:
        found = paths.get(request.path)
        conn.sendall(answer(found) if found is not None else answer(b'{"detail": "Not Found"}', 404))

    return handle


def test_each_backend_is_asked_where_it_says_its_version(serve: Serve) -> None:
    server = serve(
        versions(
            {
                "/version": b'{"version": "0.11.1"}',
                # SGLang's answer holds every server argument, a key among them: only the version is read.
                "/get_server_info": b'{"api_key": "sk-secret", "tp_size": 8, "version": "0.5.4"}',
            }
        )
    )
    assert server_version(server.url, "vllm") == "0.11.1"
    assert server_version(server.url + "/v1", "SGLang") == "0.5.4"
    assert server_version(server.url, "atom") == "0.11.1"  # another backend: both are tried
    assert [r.path for r in server.requests] == ["/version", "/get_server_info", "/version"]
    only_sglang = serve(versions({"/get_server_info": b'{"version": "0.5.4"}'}))
    assert server_version(only_sglang.url, "atom") == "0.5.4"
    assert server_version(only_sglang.url, "vllm") is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"version": 11}',
        b'{"version": ""}',
        b'{"version": "0.11\\u001b[2J"}',  # a terminal escape
        b'{"version": "' + b"9" * 101 + b'"}',
        b'["0.11"]',
        b"0.11.0",
        b'{"version": NaN}',
    ],
)
def test_a_version_that_is_not_a_short_printable_string_is_none(serve: Serve, body: bytes) -> None:
    assert server_version(serve(versions({"/version": body})).url, "vllm") is None


def test_server_version_never_raises(serve: Serve, stop: threading.Event) -> None:
    def endless(request: Request, conn: socket.socket) -> None:
        conn.sendall(endless_head())
        forever(conn, b'{"version": "' + b"1" * 65536, stop)

    def silent(request: Request, conn: socket.socket) -> None:
        stop.wait(30)

    assert server_version(serve(endless).url, "vllm") is None  # past the 1 MiB cap
    assert server_version(serve(silent).url, "vllm", timeout=0.5) is None
    assert server_version(f"http://127.0.0.1:{unused_port()}", "sglang") is None
    assert server_version("not a url", "vllm") is None
    assert server_version(None, None) is None  # type: ignore[arg-type]
