"""A hostile HTTP server for client tests: a real listening socket on 127.0.0.1 whose
answers are raw bytes a test writes (an endless body, headers trickled a line at a time,
JSON no OpenAI-compatible server would send).

``HostileServer(handler)`` reads each request (request line, headers, a Content-Length
body) and calls ``handler(request, conn)``; the handler writes whatever it likes to the
socket. A client that gives up closes its end, the handler's next write fails, and its
thread ends. Helpers build the usual pieces: ``MODELS`` (a ``/v1/models`` answer),
``answer`` (a whole response), ``sse_head`` (the head of an event stream).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

MODEL = "hostile-model"
MODELS = json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]}).encode()


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Handler = Callable[[Request, socket.socket], None]


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            return None
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    line, *lines = head.decode("latin-1").split("\r\n")
    method, path, _version = line.split(" ", 2)
    headers = {}
    for header in lines:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        piece = conn.recv(65536)
        if not piece:
            break
        rest += piece
    return Request(method, path, headers, rest[:length])


class HostileServer:
    """Serves every connection on its own thread with ``handler`` (one request each)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = _read_request(conn)
                if request is None:
                    return
                self.requests.append(request)
                self.handler(request, conn)
            except OSError:  # the client gave up: what these servers are for
                pass

    def close(self) -> None:
        self.closed.set()
        self.sock.close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def answer(body: bytes, status: int = 200, content_type: str = "application/json") -> bytes:
    """A whole HTTP/1.1 response with a Content-Length."""
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


def sse_head() -> bytes:
    """The head of a server-sent event stream (no length: it ends when the server closes)."""
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"


def endless_head(content_type: str = "application/json") -> bytes:
    """The head of a body without a length, which ends when (if ever) the server closes."""
    return f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n".encode()


ENOUGH = 64 * 2**20  # bytes: four times the client's cap on an answer


def forever(conn: socket.socket, piece: bytes, stop: threading.Event, limit: int = ENOUGH) -> None:
    """Write ``piece`` again and again until the client (or the test) gives up, or ``limit``
    bytes are sent: a client that reads it all then fails its test instead of the machine."""
    sent = 0
    while not stop.is_set() and sent < limit:
        conn.sendall(piece)
        sent += len(piece)


def trickle(conn: socket.socket, pieces: Iterable[bytes], every: float, stop: threading.Event) -> None:
    """Write each piece, ``every`` seconds apart (a server too slow to be waited on)."""
    for piece in pieces:
        if stop.is_set():
            return
        conn.sendall(piece)
        time.sleep(every)


def openai(
    chat: Callable[[Request, socket.socket], None], models: bytes | None = None
) -> Callable[[Request, socket.socket], None]:
    """A handler answering ``GET /v1/models`` with ``models`` (default ``MODELS``) and every
    other request with ``chat``."""

    def handle(request: Request, conn: socket.socket) -> None:
        if request.method == "GET" and request.path.startswith("/v1/models"):
            conn.sendall(answer(MODELS if models is None else models))
        else:
            chat(request, conn)

    return handle


# The ``serve`` fixture (tests/conftest.py): a server per handler, closed after the test.
Serve = Callable[[Handler], HostileServer]
