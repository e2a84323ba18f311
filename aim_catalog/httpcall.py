"""One bounded HTTP exchange: a deadline on the whole of it and a cap on what is read.

httpx's timeouts bound each network operation, so a server that trickles its headers or
body (a byte a second) keeps a request alive forever, and ``response.json()`` on a body
that never ends fills memory. Every HTTP call the tool makes goes through here instead:
the exchange, from connecting to the last byte read, runs under ``asyncio.wait_for`` with
the caller's deadline (the connection is closed when it passes), and bodies and lines are
read incrementally against a byte cap (``body``, ``lines``).

The client follows no redirect, sends no credential of its own, ignores proxy variables
(``trust_env=False``: a proxy meant for the internet must not see a local server) and asks
for an uncompressed answer (the caps count the bytes that arrive: no decompression bomb).
Sync callers use ``run`` (or ``fetch`` for one GET); async code (a benchmark client)
uses ``client``, ``within``, ``body`` and ``lines`` directly.

Failures are ``HttpProblem`` subclasses whose message is one line without the URL: the
caller says what it asked where. Imports nothing of aim_catalog; httpx is imported inside
the functions, so ``--help`` does not load it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")

MAX_BODY = 16 * 2**20  # bytes: a whole answer (a completion, a model list, hub metadata)
MAX_LINE = 2**20  # bytes: one line of a streamed answer (one server-sent event)
CONNECT_TIMEOUT = 10.0  # seconds: at most, within the deadline


class HttpProblem(Exception):
    """An exchange that failed, said in one line (without the URL)."""


class Unreachable(HttpProblem):
    """No connection could be made (refused, no route, unknown host)."""


class TimedOut(HttpProblem):
    """The whole exchange did not finish within its deadline."""


class TooLarge(HttpProblem):
    """The answer (or one line of it) is larger than the cap."""


class Broken(HttpProblem):
    """The exchange broke off: a protocol error, a reset, a closed connection."""


def size(count: int) -> str:
    """A byte cap as people read it (16 MiB)."""
    return f"{count // 2**20} MiB" if count >= 2**20 and count % 2**20 == 0 else f"{count:,} bytes"


def client(connections: int = 1, *, headers: Mapping[str, str] | None = None) -> httpx.AsyncClient:
    """An async client for bounded exchanges (use it inside ``within``/``run``)."""
    import httpx

    sent = {"Accept-Encoding": "identity", **(headers or {})}
    return httpx.AsyncClient(
        # The deadline bounds the whole exchange; these only bound a connect and each read
        # far below it, so that a dead connection is not waited on until the deadline.
        timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        follow_redirects=False,
        trust_env=False,
        headers=sent,
    )


def problem(exc: Exception) -> HttpProblem:
    """An httpx error as one line."""
    import httpx

    if isinstance(exc, HttpProblem):
        return exc
    detail = (str(exc).strip().splitlines() or [""])[0][:200]
    if isinstance(exc, httpx.TimeoutException):
        return TimedOut(f"no answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        return Unreachable(_os_reason(exc) or detail or "connection failed")
    return Broken(f"{type(exc).__name__}: {detail or 'no detail'}")


def _os_reason(exc: BaseException) -> str | None:
    """The system's reason at the bottom of a connect error ("[Errno 111] Connection
    refused"): the async transport says only "All connection attempts failed" on top."""
    import os

    reason = None
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and isinstance(cause.errno, int):
            text = os.strerror(cause.errno) if cause.errno > 0 else (cause.strerror or str(cause))
            reason = f"[Errno {cause.errno}] {text}"
        cause = cause.__cause__ or cause.__context__
    return reason


async def within(work: Awaitable[T], deadline: float) -> T:
    """``work``, cancelled (its connection closed) when ``deadline`` seconds pass."""
    import httpx

    try:
        return await asyncio.wait_for(work, deadline)
    except asyncio.TimeoutError:
        raise TimedOut(f"no complete answer within {deadline:g} s") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise problem(exc) from None


def run(make: Callable[[], Awaitable[T]], deadline: float) -> T:
    """Run the exchange ``make()`` from sync code, bounded by ``deadline`` seconds."""

    async def bounded() -> T:
        return await within(make(), deadline)

    return asyncio.run(bounded())


async def body(response: httpx.Response, cap: int = MAX_BODY) -> bytes:
    """The response's body, read piece by piece; ``TooLarge`` past ``cap`` bytes."""
    data = bytearray()
    async for piece in response.aiter_raw():
        data += piece
        if len(data) > cap:
            raise TooLarge(f"the answer is larger than {size(cap)}")
    return bytes(data)


async def lines(
    response: httpx.Response, max_line: int = MAX_LINE, max_total: int = MAX_BODY
) -> AsyncIterator[str]:
    """The response's lines (``\\n`` or ``\\r\\n`` ended, decoded as UTF-8), read piece by
    piece; ``TooLarge`` for a line over ``max_line`` bytes or a body over ``max_total``."""
    pending = bytearray()
    total = 0
    async for piece in response.aiter_raw():
        total += len(piece)
        if total > max_total:
            raise TooLarge(f"the answer is larger than {size(max_total)}")
        pending += piece
        start = 0
        while (end := pending.find(b"\n", start)) >= 0:
            if end - start > max_line:
                break
            yield pending[start:end].rstrip(b"\r").decode("utf-8", "replace")
            start = end + 1
        del pending[:start]
        if len(pending) > max_line:
            raise TooLarge(f"a line of the answer is longer than {size(max_line)}")
    if pending:
        yield pending.decode("utf-8", "replace")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes  # empty when the body was not read


def fetch(
    url: str,
    *,
    deadline: float,
    cap: int = MAX_BODY,
    headers: Mapping[str, str] | None = None,
    read_body: bool = True,
) -> Answer:
    """One bounded GET (``read_body=False``: the status and headers only)."""

    async def exchange() -> Answer:
        async with client(headers=headers) as http, http.stream("GET", url) as response:
            data = await body(response, cap) if read_body else b""
            return Answer(response.status_code, {k.lower(): v for k, v in response.headers.items()}, data)

    return run(exchange, deadline)
