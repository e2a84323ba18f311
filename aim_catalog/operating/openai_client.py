"""``aim-catalog test``: ask a running server for a chat completion and time it.

Speaks the OpenAI-compatible API vLLM and SGLang serve (``GET /v1/models``,
``POST /v1/chat/completions``, streaming as server-sent events ``data: {...}`` ending with
``data: [DONE]``; ``stream_options.include_usage`` asks for a last chunk with the token
counts). Every exchange is bounded (``httpcall``): ``timeout`` seconds for the whole of it,
from connecting to the last byte, at most ``MAX_BODY`` bytes of an answer, ``MAX_LINE`` of
one streamed line, and a stream stops being read past ``max_tokens`` (``replies.Stream``).
What the server says is checked field by field (``replies``) before anything is computed.

Time to first token is measured on a streamed answer (the first chunk that carries text);
without streaming the whole answer arrives at once, so it equals the latency. A load run
(``load.run_load``) streams every request through the same ``chat``.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from aim_catalog import httpcall
from aim_catalog.errors import EnvironmentProblem
from aim_catalog.operating import replies

if TYPE_CHECKING:
    import httpx

DEFAULT_PROMPT = "Say hello in one short sentence."
MAX_REQUESTS = 10_000
MAX_CONCURRENCY = 256
MAX_BODY = httpcall.MAX_BODY
MAX_LINE = httpcall.MAX_LINE
ERROR_BODY = 64 * 1024  # bytes of an error answer read for its message


class SmokeFailed(EnvironmentProblem):
    """The endpoint could not be reached, answered an error or did not answer in time."""


class InvalidAnswer(SmokeFailed):
    """The endpoint answered something no OpenAI-compatible server can mean: a field of the
    wrong type or out of range, NaN or Infinity, more than was asked or than can be read.
    Exit code 4, as for any invalid input: nothing of it is saved."""

    exit_code = 4


@dataclass(frozen=True)
class Reply:
    text: str
    model: str | None
    ttft: float  # seconds to the first token (the whole answer when not streamed)
    latency: float  # seconds to the end of the answer
    prompt_tokens: int | None
    completion_tokens: int
    streamed: bool
    finish_reason: str | None = None

    @property
    def tokens_per_s(self) -> float | None:
        return self.completion_tokens / self.latency if self.latency > 0 else None

    @property
    def tpot(self) -> float | None:
        """Seconds per output token after the first (streamed answers with 2+ tokens)."""
        if not self.streamed or self.completion_tokens < 2:
            return None
        return (self.latency - self.ttft) / (self.completion_tokens - 1)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ttft_ms"] = round(self.ttft * 1000, 3)
        data["latency_ms"] = round(self.latency * 1000, 3)
        data["tokens_per_s"] = self.tokens_per_s
        del data["ttft"], data["latency"]
        return data


def _failure(exc: httpcall.HttpProblem, url: str, what: str) -> SmokeFailed:
    if isinstance(exc, httpcall.Unreachable):
        return SmokeFailed(f"cannot reach {what} at {url}: {exc} (is it running? `aim-catalog ps`)")
    if isinstance(exc, httpcall.TimedOut):
        return SmokeFailed(f"{what} did not answer in time at {url}: {exc} (--timeout)")
    if isinstance(exc, httpcall.TooLarge):
        return InvalidAnswer(f"{what} at {url} sent too much: {exc}; stopped reading")
    return SmokeFailed(f"{what} at {url}: {exc}")


def _invalid(exc: replies.Invalid, url: str, what: str) -> InvalidAnswer:
    return InvalidAnswer(f"{what} at {url} sent an invalid answer: {exc}")


async def _bounded(work: Any, timeout: float, url: str, what: str) -> Any:
    """``work`` within ``timeout`` seconds, every failure as one ``SmokeFailed`` line."""
    try:
        return await httpcall.within(work, timeout)
    except httpcall.HttpProblem as exc:
        raise _failure(exc, url, what) from None
    except replies.Invalid as exc:
        raise _invalid(exc, url, what) from None
    except replies.ServerError as exc:
        raise SmokeFailed(f"{what} failed while streaming at {url}: {exc}") from None


async def error_detail(response: httpx.Response) -> str:
    """``": <the first line of the server's message>"`` of an error answer ("" when it says
    none; at most ``ERROR_BODY`` read): its JSON ``message`` or ``error.message`` (OpenAI's
    and vLLM's shapes), else its text."""
    try:
        raw = await httpcall.body(response, ERROR_BODY)
    except httpcall.TooLarge:
        raw = b""
    message: Any = None
    try:
        body = replies.loads(raw)
        if isinstance(body, dict):
            error = body.get("error")
            message = body.get("message") or (error.get("message") if isinstance(error, dict) else error)
    except replies.Invalid:
        message = raw.decode("utf-8", "replace")
    lines = str(message).strip().splitlines() if message else []
    return f": {lines[0][:200]}" if lines else ""


async def _http_error(response: httpx.Response, url: str, what: str) -> SmokeFailed:
    """The error answer's status and the first line of its message."""
    detail = await error_detail(response)
    return SmokeFailed(f"{what} answered HTTP {response.status_code} at {url}{detail}")


async def served_model(http: httpx.AsyncClient, base: str, what: str, timeout: float) -> str:
    """The first model ``GET /v1/models`` lists: the name requests must use."""
    url = f"{base}/v1/models"

    async def exchange() -> str:
        async with http.stream("GET", url) as response:
            if response.status_code != 200:
                raise await _http_error(response, url, what)
            body = await httpcall.body(response)
        try:
            return replies.served_model(replies.loads(body))
        except replies.Invalid as exc:
            raise InvalidAnswer(
                f"{what} at {url} did not list a model ({exc}; not an OpenAI-compatible server?)"
            ) from None

    return str(await _bounded(exchange(), timeout, url, what))


def _payload(model: str, prompt: str, max_tokens: int, stream: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": stream,
    }
    if stream:
        payload["stream_options"] = {"include_usage": True}
    return payload


async def chat(
    http: httpx.AsyncClient,
    base: str,
    model: str,
    prompt: str,
    max_tokens: int,
    *,
    stream: bool,
    what: str,
    timeout: float,
) -> Reply:
    """One chat completion, timed, bounded and checked."""
    url = f"{base}/v1/chat/completions"
    payload = json.dumps(_payload(model, prompt, max_tokens, stream)).encode()
    headers = {"Content-Type": "application/json"}

    async def exchange() -> Reply:
        started = time.perf_counter()
        async with http.stream("POST", url, content=payload, headers=headers) as response:
            if response.status_code != 200:
                raise await _http_error(response, url, what)
            if stream:
                return await _streamed(response, started, max_tokens, url, what)
            body = await httpcall.body(response)
        return _whole(replies.completion(replies.loads(body), max_tokens), time.perf_counter() - started)

    result: Reply = await _bounded(exchange(), timeout, url, what)
    return result


def _whole(answer: replies.Completion, latency: float) -> Reply:
    usage = answer.usage
    tokens = usage.completion_tokens if usage is not None else None
    return Reply(
        text=answer.text,
        model=answer.model,
        ttft=latency,
        latency=latency,
        prompt_tokens=usage.prompt_tokens if usage is not None else None,
        completion_tokens=tokens if tokens is not None else len(answer.text.split()),
        streamed=False,
        finish_reason=answer.finish_reason,
    )


async def _streamed(response: httpx.Response, started: float, max_tokens: int, url: str, what: str) -> Reply:
    events = replies.Stream(max_tokens)
    ttft: float | None = None
    async for line in httpcall.lines(response):
        if events.feed(line) and ttft is None:
            ttft = time.perf_counter() - started
        if events.done:
            break
    latency = time.perf_counter() - started
    if not events.done and not events.parts:
        raise SmokeFailed(f"{what} at {url} closed the stream without an answer")
    usage = events.usage
    tokens = usage.completion_tokens if usage is not None else None
    return Reply(
        text=events.text,
        model=events.model,
        ttft=ttft if ttft is not None else latency,
        latency=latency,
        prompt_tokens=usage.prompt_tokens if usage is not None else None,
        completion_tokens=tokens if tokens is not None else len(events.parts),
        streamed=True,
        finish_reason=events.finish,
    )


def single(base: str, prompt: str, max_tokens: int, *, stream: bool, what: str, timeout: float) -> Reply:
    """The served model's name, then one chat completion (each within ``timeout`` seconds)."""

    async def both() -> Reply:
        async with httpcall.client() as http:
            model = await served_model(http, base, what, timeout)
            return await chat(
                http, base, model, prompt, max_tokens, stream=stream, what=what, timeout=timeout
            )

    return asyncio.run(both())
