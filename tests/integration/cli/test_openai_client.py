"""`aim-catalog test URL` against hostile servers (real sockets on 127.0.0.1, no mock): what
it reads is bounded, ``--timeout`` bounds each whole request, and every field of an answer
is checked. Each failure is one line on stderr with its exit code (4: the answer is
invalid, 1: the server could not be reached, answered an error or was too slow), never a
traceback, and ``--json`` prints nothing that is not JSON.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from support.hostile import (
    MODEL,
    Request,
    Serve,
    answer,
    endless_head,
    forever,
    openai,
    sse_head,
    trickle,
)


def one_line(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return str(lines[0])


def chunk(**fields: Any) -> bytes:
    return (
        b"data: "
        + json.dumps({"object": "chat.completion.chunk", "model": MODEL, **fields}).encode()
        + b"\n\n"
    )


TEXT_CHUNK = chunk(choices=[{"index": 0, "delta": {"content": " hi"}, "finish_reason": None}])


# --------------------------------------------------------------------------- bounded reads


def test_an_endless_answer_is_cut_off_in_one_line(cli: Any, serve: Serve, stop: threading.Event) -> None:
    pad = b'{"pad": "' + b"a" * 65536

    def endless(request: Request, conn: socket.socket) -> None:
        conn.sendall(endless_head())
        forever(conn, pad, stop)

    url = serve(openai(endless)).url
    line = one_line(cli("test", url, code=4))
    assert line == (
        f"error: the server at {url}/v1/chat/completions sent too much: "
        "the answer is larger than 16 MiB; stopped reading"
    )
    url = serve(endless).url  # /v1/models too
    line = one_line(cli("test", url, "--stream", code=4))
    assert line == (
        f"error: the server at {url}/v1/models sent too much: "
        "the answer is larger than 16 MiB; stopped reading"
    )


def test_an_endless_stream_line_or_stream_is_cut_off(cli: Any, serve: Serve, stop: threading.Event) -> None:
    def endless_line(request: Request, conn: socket.socket) -> None:
        conn.sendall(sse_head() + b'data: {"choices": [{"delta": {"content": "')
        forever(conn, b"a" * 65536, stop)

    url = serve(openai(endless_line)).url
    line = one_line(cli("test", url, "--stream", code=4))
    assert line == (
        f"error: the server at {url}/v1/chat/completions sent too much: "
        "a line of the answer is longer than 1 MiB; stopped reading"
    )

    def endless_tokens(request: Request, conn: socket.socket) -> None:  # max_tokens ignored
        conn.sendall(sse_head())
        forever(conn, TEXT_CHUNK, stop)

    url = serve(openai(endless_tokens)).url
    line = one_line(cli("test", url, "--stream", "--max-tokens", "8", code=4))
    assert line == (
        f"error: the server at {url}/v1/chat/completions sent an invalid answer: it streamed more "
        "than max_tokens (8) pieces of text (it does not stop at max_tokens)"
    )
    load = cli("test", url, "--concurrency", "2", "--requests", "3", "--max-tokens", "4", code=4)
    assert (
        load.stderr.strip()
        .splitlines()[-1]
        .startswith("error: 3 of 3 request(s) failed; first: the server at ")
    )
    assert "it streamed more than max_tokens (4) pieces of text" in load.stderr

    def endless_comments(request: Request, conn: socket.socket) -> None:  # events without data
        conn.sendall(sse_head())
        forever(conn, b": ping\n\n" * 4096, stop)

    url = serve(openai(endless_comments)).url
    line = one_line(cli("test", url, "--stream", code=4))
    assert line.endswith("sent too much: the answer is larger than 16 MiB; stopped reading")


def test_memory_stays_bounded_on_an_endless_answer(serve: Serve, tmp_path: Path) -> None:
    """A real process: its peak memory (the kernel's count) stays far below what it was sent.
    The server stops after 512 MiB, so a client that reads it all fails here, not the machine."""
    sent = 0
    total = 512 * 2**20

    def endless(request: Request, conn: socket.socket) -> None:
        nonlocal sent
        conn.sendall(endless_head())
        piece = b'{"pad": "' + b"a" * (2**20 - 9)
        while sent < total:
            conn.sendall(piece)
            sent += len(piece)

    url = serve(openai(endless)).url
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIM_CATALOG_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    # Linux keeps a process's peak RSS across fork and exec, so a child of this (large) pytest
    # process would report pytest's size: a small Python in between starts the client and
    # reports the peak of its own child, which begins small.
    peak_file = tmp_path / "peak"
    wrapper = (
        "import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
        "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
        "sys.exit(code)"
    )
    client = [sys.executable, "-m", "aim_catalog", "test", url, "--timeout", "120"]
    with (tmp_path / "err").open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", wrapper, str(peak_file), *client],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        guard = threading.Timer(300, proc.kill)  # a hung client fails the test, not the run
        guard.start()
        try:
            proc.wait()
        finally:
            guard.cancel()
    stderr = (tmp_path / "err").read_text()
    assert proc.returncode == 4, stderr
    assert stderr.strip().endswith("the answer is larger than 16 MiB; stopped reading")
    peak_kib = int(peak_file.read_text())  # KiB on Linux
    assert peak_kib * 1024 < 256 * 2**20, peak_kib
    assert sent < total  # it stopped reading long before the server stopped writing


# --------------------------------------------------------------------------- deadlines


def test_timeout_bounds_the_whole_request_not_each_read(
    cli: Any, serve: Serve, stop: threading.Event
) -> None:
    """A byte every 0.2 s, or a header line every 0.3 s, never lets a read time out: the
    request still ends at --timeout. (Each server finishes after ~15 s, so a client without a
    whole-request deadline gets a good answer and this test fails, rather than hanging.)"""
    body = json.dumps(
        {"model": MODEL, "choices": [{"message": {"content": "slow"}, "finish_reason": "stop"}]}
    ).encode()

    def slow_body(request: Request, conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
        trickle(conn, [body[i : i + 1] for i in range(len(body))], 15 / len(body), stop)

    url = serve(openai(slow_body)).url
    line = one_line(cli("test", url, "--timeout", "1", code=1))
    assert line == (
        f"error: the server did not answer in time at {url}/v1/chat/completions: "
        "no complete answer within 1 s (--timeout)"
    )

    def slow_headers(request: Request, conn: socket.socket) -> None:
        lines = [b"HTTP/1.1 200 OK\r\n"] + [f"X-Pad-{i}: {i}\r\n".encode() for i in range(50)]
        trickle(conn, lines, 0.3, stop)
        conn.sendall(answer(body)[len(b"HTTP/1.1 200 X\r\n") :])

    url = serve(openai(slow_headers)).url
    line = one_line(cli("test", url, "--timeout", "1", "--stream", code=1))
    assert line == (
        f"error: the server did not answer in time at {url}/v1/chat/completions: "
        "no complete answer within 1 s (--timeout)"
    )

    def slow_models(request: Request, conn: socket.socket) -> None:
        slow_body(request, conn)

    url = serve(slow_models).url
    load = cli("test", url, "--timeout", "1", "--concurrency", "2", code=1)
    assert load.stderr.strip().splitlines()[-1] == (
        f"error: the server did not answer in time at {url}/v1/models: "
        "no complete answer within 1 s (--timeout)"
    )


# --------------------------------------------------------------------------- replies are data


def _whole(usage: str = '{"prompt_tokens": 5, "completion_tokens": 3}', choices: str | None = None) -> bytes:
    chosen = choices or '[{"index": 0, "message": {"role": "assistant", "content": "hi there"}}]'
    return f'{{"model": "{MODEL}", "choices": {chosen}, "usage": {usage}}}'.encode()


# (what the server sends, what the error line says after "sent an invalid answer: ")
WHOLE = {
    "completion NaN": (
        _whole('{"completion_tokens": NaN}'),
        "JSON with NaN, which is not a number JSON allows",
    ),
    "completion Infinity": (
        _whole('{"completion_tokens": Infinity}'),
        "JSON with Infinity, which is not a number JSON allows",
    ),
    "completion abc": (
        _whole('{"completion_tokens": "abc"}'),
        "usage.completion_tokens must be an integer from 0 to 2147483647, got 'abc'",
    ),
    "usage a list": (_whole("[1, 2]"), "usage must be an object, got [1, 2]"),
    "choices abc": (_whole(choices='"abc"'), "choices must be a non-empty list, got 'abc'"),
    "choices [1]": (_whole(choices="[1]"), "choices[0] must be an object, got 1"),
    "prompt x": (
        _whole('{"prompt_tokens": "x", "completion_tokens": 3}'),
        "usage.prompt_tokens must be an integer from 0 to 2147483647, got 'x'",
    ),
    "1e308 tokens": (
        _whole('{"completion_tokens": 1e308}'),
        "usage.completion_tokens must be an integer from 0 to 2147483647, got 1e+308",
    ),
    "negative": (
        _whole('{"completion_tokens": -7}'),
        "usage.completion_tokens must be an integer from 0 to 2147483647, got -7",
    ),
    "5e9 prompt": (
        _whole('{"prompt_tokens": 5000000000, "completion_tokens": 3}'),
        "usage.prompt_tokens must be an integer from 0 to 2147483647, got 5000000000",
    ),
    "1e30 prompt": (
        _whole('{"prompt_tokens": 1e30, "completion_tokens": 3}'),
        "usage.prompt_tokens must be an integer from 0 to 2147483647, got 1e+30",
    ),
    "more than asked": (
        _whole('{"completion_tokens": 5000}'),
        "usage.completion_tokens is 5000, more than the max_tokens (64) asked",
    ),
    "content 5": (
        _whole(choices='[{"message": {"content": 5}}]'),
        "choices[0].message.content must be a string, got 5",
    ),
    "not JSON": (b"<html>hello</html>", "not JSON: '<html>hello</html>'"),
}


@pytest.mark.parametrize("case", list(WHOLE), ids=list(WHOLE))
def test_an_invalid_answer_is_one_line_exit_4(cli: Any, serve: Serve, case: str) -> None:
    body, why = WHOLE[case]
    url = serve(openai(lambda request, conn: conn.sendall(answer(body)))).url
    result = cli("test", url, "--json", code=4)
    assert result.stdout == ""  # no half answer, no Infinity
    assert one_line(result) == (
        f"error: the server at {url}/v1/chat/completions sent an invalid answer: {why}"
    )


STREAMED = {
    "choices abc": ([chunk(choices="abc")], "choices must be a list, got 'abc'"),
    "choices [1]": ([chunk(choices=[1])], "choices[0] must be an object, got 1"),
    "delta x": ([chunk(choices=[{"delta": "x"}])], "delta must be an object, got 'x'"),
    "content 5": ([chunk(choices=[{"delta": {"content": 5}}])], "delta.content must be a string, got 5"),
    "usage NaN": (
        [TEXT_CHUNK, b'data: {"choices": [], "usage": {"completion_tokens": NaN}}\n\n'],
        "JSON with NaN, which is not a number JSON allows",
    ),
    "usage negative": (
        [TEXT_CHUNK, chunk(choices=[], usage={"prompt_tokens": 4, "completion_tokens": -7})],
        "usage.completion_tokens must be an integer from 0 to 2147483647, got -7",
    ),
    "not JSON": ([b"data: {oops\n\n"], "not JSON: '{oops'"),
}


@pytest.mark.parametrize("case", list(STREAMED), ids=list(STREAMED))
def test_an_invalid_stream_is_one_line_exit_4(cli: Any, serve: Serve, case: str) -> None:
    events, why = STREAMED[case]

    def stream(request: Request, conn: socket.socket) -> None:
        conn.sendall(sse_head() + b"".join(events) + b"data: [DONE]\n\n")

    url = serve(openai(stream)).url
    result = cli("test", url, "--stream", "--json", code=4)
    assert result.stdout == ""
    assert one_line(result) == (
        f"error: the server at {url}/v1/chat/completions sent an invalid answer: {why}"
    )
    load = cli("test", url, "--concurrency", "2", "--requests", "2", "--json", code=4)
    assert json.loads(load.stdout)["failed"] == 2
    assert load.stderr.strip().splitlines()[-1].endswith(f"sent an invalid answer: {why}")


def test_an_error_event_in_a_stream_is_the_server_failing(cli: Any, serve: Serve) -> None:
    def stream(request: Request, conn: socket.socket) -> None:
        conn.sendall(sse_head() + TEXT_CHUNK + b'data: {"error": "boom"}\n\n')

    url = serve(openai(stream)).url
    assert one_line(cli("test", url, "--stream", code=1)) == (
        f"error: the server failed while streaming at {url}/v1/chat/completions: boom"
    )


def test_a_models_list_that_is_not_one(cli: Any, serve: Serve) -> None:
    for models, why in (
        (b'{"data": []}', "it lists no model (`data` is not a non-empty list)"),
        (b'{"data": [{"id": 7}]}', "data[0].id must be a string, got 7"),
        (b'{"object": "list", "data": "x"}', "it lists no model (`data` is not a non-empty list)"),
    ):
        url = serve(openai(lambda request, conn: None, models=models)).url
        assert one_line(cli("test", url, code=4)) == (
            f"error: the server at {url}/v1/models did not list a model "
            f"({why}; not an OpenAI-compatible server?)"
        )


def test_json_output_is_strict_json(cli: Any, serve: Serve) -> None:
    """A good answer's --json parses with a parser that refuses NaN and Infinity."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in --json output")

    def good(request: Request, conn: socket.socket) -> None:
        if request.json().get("stream"):
            usage = chunk(choices=[], usage={"prompt_tokens": 4, "completion_tokens": 2})
            conn.sendall(sse_head() + TEXT_CHUNK + TEXT_CHUNK + usage + b"data: [DONE]\n\n")
        else:
            conn.sendall(answer(_whole()))

    url = serve(openai(good)).url
    for args in ((), ("--stream",), ("--concurrency", "2", "--requests", "4")):
        data = json.loads(cli("test", url, "--json", *args).stdout, parse_constant=refuse)
        assert data["url"] == f"{url}/v1"


def test_no_redirect_no_proxy_no_credential(cli: Any, serve: Serve, monkeypatch: pytest.MonkeyPatch) -> None:
    """What held before the client was rewritten, and must hold after it: a redirect is an
    answer (never followed), proxy variables are not used for a server named by URL, and
    neither HF_TOKEN nor any Authorization header is sent."""
    target = serve(openai(lambda request, conn: conn.sendall(answer(_whole()))))
    moved = serve(
        lambda request, conn: conn.sendall(
            f"HTTP/1.1 307 Moved\r\nLocation: {target.url}{request.path}\r\n".encode()
            + b"Content-Length: 0\r\n\r\n"
        )
    )
    monkeypatch.setenv("HF_TOKEN", "hf_never_sent_secret")
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens: a used proxy fails
    assert (
        one_line(cli("test", moved.url, code=1))
        == f"error: the server answered HTTP 307 at {moved.url}/v1/models"
    )
    assert target.requests == []
    cli("test", target.url)
    assert [r.path for r in target.requests] == ["/v1/models", "/v1/chat/completions"]
    for request in target.requests:
        assert "authorization" not in request.headers
        assert "hf_never_sent_secret" not in str(request)
