"""``aim-catalog test``: ask a running server for a chat completion and time it.

Speaks the OpenAI-compatible API vLLM and SGLang serve (``GET /v1/models``,
``POST /v1/chat/completions``, streaming as server-sent events ``data: {...}`` ending with
``data: [DONE]``; ``stream_options.include_usage`` asks for a last chunk with the token
counts). httpx is the client, imported here only, so ``--help`` does not pay for it.

Time to first token is measured on a streamed answer (the first chunk that carries text);
without streaming the whole answer arrives at once, so it equals the latency. A load run
(``concurrency``/``requests``) streams every request and is bounded in count and time.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from aim_catalog.errors import EnvironmentProblem

if TYPE_CHECKING:
    import httpx

DEFAULT_PROMPT = "Say hello in one short sentence."
MAX_REQUESTS = 10_000
MAX_CONCURRENCY = 256


class SmokeFailed(EnvironmentProblem):
    """The endpoint could not be reached or did not answer a completion properly."""


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


def client(timeout: float, connections: int = 1) -> httpx.Client:
    import httpx

    # trust_env=False: a proxy configured for the internet must not intercept the server.
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        trust_env=False,
    )


def _problem(exc: Exception, url: str, what: str) -> SmokeFailed:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return SmokeFailed(f"{what} did not answer in time at {url} ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        reason = str(exc).strip() or "connection failed"
        return SmokeFailed(f"cannot reach {what} at {url}: {reason} (is it running? `aim-catalog ps`)")
    if isinstance(exc, httpx.HTTPError):
        return SmokeFailed(f"{what} at {url}: {type(exc).__name__}: {str(exc).strip() or 'no detail'}")
    return SmokeFailed(f"{what} at {url}: {exc}")


def _http_error(response: httpx.Response, url: str, what: str) -> SmokeFailed:
    detail = ""
    try:
        body = response.json()
        message = body.get("message") or (body.get("error") or {}).get("message")
        detail = f": {str(message).splitlines()[0][:200]}" if message else ""
    except (ValueError, AttributeError):
        text = response.text.strip().splitlines()
        detail = f": {text[0][:200]}" if text else ""
    return SmokeFailed(f"{what} answered HTTP {response.status_code} at {url}{detail}")


def served_model(http: httpx.Client, base: str, what: str) -> str:
    """The first model ``GET /v1/models`` lists: the name requests must use."""
    import httpx

    url = f"{base}/v1/models"
    try:
        response = http.get(url)
    except httpx.HTTPError as exc:
        raise _problem(exc, url, what) from None
    if response.status_code != 200:
        raise _http_error(response, url, what)
    try:
        return str(response.json()["data"][0]["id"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise SmokeFailed(
            f"{what} at {url} did not list a model (not an OpenAI-compatible server?)"
        ) from None


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


def chat(
    http: httpx.Client, base: str, model: str, prompt: str, max_tokens: int, *, stream: bool, what: str
) -> Reply:
    """One chat completion, timed."""
    import httpx

    url = f"{base}/v1/chat/completions"
    payload = _payload(model, prompt, max_tokens, stream)
    started = time.perf_counter()
    try:
        if not stream:
            response = http.post(url, json=payload)
            latency = time.perf_counter() - started
            if response.status_code != 200:
                raise _http_error(response, url, what)
            return _whole(response, latency, url, what)
        with http.stream("POST", url, json=payload) as response:
            if response.status_code != 200:
                response.read()
                raise _http_error(response, url, what)
            return _streamed(response.iter_lines(), started, url, what)
    except httpx.HTTPError as exc:
        raise _problem(exc, url, what) from None


def _whole(response: httpx.Response, latency: float, url: str, what: str) -> Reply:
    try:
        body = response.json()
        choice = body["choices"][0]
        text = choice["message"].get("content") or ""
        usage = body.get("usage") or {}
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise SmokeFailed(f"{what} at {url} sent an answer that is not a chat completion") from None
    tokens = usage.get("completion_tokens")
    return Reply(
        text=text,
        model=body.get("model"),
        ttft=latency,
        latency=latency,
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=int(tokens) if tokens is not None else len(text.split()),
        streamed=False,
        finish_reason=choice.get("finish_reason"),
    )


def _streamed(lines: Any, started: float, url: str, what: str) -> Reply:
    parts: list[str] = []
    ttft: float | None = None
    chunks = 0
    model = finish = None
    usage: dict[str, Any] = {}
    done = False
    for raw in lines:
        line = raw.strip()
        if not line.startswith("data:"):
            continue  # blank separators, comments (": ping"), event names
        data = line[5:].strip()
        if data == "[DONE]":
            done = True
            break
        try:
            chunk = json.loads(data)
        except ValueError:
            raise SmokeFailed(f"{what} at {url} streamed a line that is not JSON: {data[:80]!r}") from None
        if not isinstance(chunk, dict):
            continue
        if chunk.get("object") == "error" or "error" in chunk:
            message = chunk.get("message") or (chunk.get("error") or {}).get("message") or "error"
            raise SmokeFailed(f"{what} failed while streaming at {url}: {str(message)[:200]}")
        model = chunk.get("model") or model
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if content:
                if ttft is None:
                    ttft = time.perf_counter() - started
                parts.append(content)
                chunks += 1
            finish = choice.get("finish_reason") or finish
    latency = time.perf_counter() - started
    if not done and not parts:
        raise SmokeFailed(f"{what} at {url} closed the stream without an answer")
    tokens = usage.get("completion_tokens")
    return Reply(
        text="".join(parts).strip(),
        model=model,
        ttft=ttft if ttft is not None else latency,
        latency=latency,
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=int(tokens) if tokens is not None else chunks,
        streamed=True,
        finish_reason=finish,
    )


# --------------------------------------------------------------------------- load


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, as vLLM's bench uses)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class LoadResult:
    requests: int  # asked for
    concurrency: int
    completed: int
    failed: int
    not_sent: int  # left when the time limit came
    duration: float  # seconds, first send to last answer
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    ttft_ms: list[float] = field(default_factory=list)
    e2el_ms: list[float] = field(default_factory=list)
    tpot_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def _pct(self, values: list[float], q: float) -> float | None:
        value = percentile(values, q)
        return round(value, 3) if value is not None else None

    def _rate(self, amount: float) -> float | None:
        return round(amount / self.duration, 3) if self.duration > 0 and self.completed else None

    def metrics(self) -> dict[str, Any]:
        """The benchmark columns this run fills (settings.METRIC_FIELDS names)."""
        return {
            "output_throughput": self._rate(self.completion_tokens),
            "total_token_throughput": self._rate(self.completion_tokens + self.prompt_tokens),
            "request_throughput": self._rate(self.completed),
            "ttft_ms_p50": self._pct(self.ttft_ms, 50),
            "ttft_ms_p99": self._pct(self.ttft_ms, 99),
            "tpot_ms_p50": self._pct(self.tpot_ms, 50),
            "tpot_ms_p99": self._pct(self.tpot_ms, 99),
            "e2el_ms_p50": self._pct(self.e2el_ms, 50),
            "e2el_ms_p99": self._pct(self.e2el_ms, 99),
        }

    def mean_lengths(self) -> tuple[int | None, int | None]:
        if not self.completed:
            return None, None
        return round(self.prompt_tokens / self.completed), round(self.completion_tokens / self.completed)

    def as_dict(self) -> dict[str, Any]:
        input_len, output_len = self.mean_lengths()
        return {
            "requests": self.requests,
            "concurrency": self.concurrency,
            "completed": self.completed,
            "failed": self.failed,
            "not_sent": self.not_sent,
            "duration_s": round(self.duration, 3),
            "model": self.model,
            "input_len": input_len,
            "output_len": output_len,
            **self.metrics(),
            "errors": self.errors[:5],
        }


def run_load(
    make_client: Callable[[int], httpx.Client],
    base: str,
    model: str,
    prompt: str,
    max_tokens: int,
    *,
    concurrency: int,
    requests: int,
    time_limit: float,
    what: str,
) -> LoadResult:
    """``requests`` streamed completions, ``concurrency`` at a time; none sent after ``time_limit``."""
    lock = threading.Lock()
    replies: list[Reply] = []
    errors: list[str] = []
    skipped = 0
    deadline = time.monotonic() + time_limit

    with make_client(concurrency) as http:

        def one(_: int) -> None:
            nonlocal skipped
            if time.monotonic() >= deadline:
                with lock:
                    skipped += 1
                return
            try:
                reply = chat(http, base, model, prompt, max_tokens, stream=True, what=what)
            except SmokeFailed as exc:
                with lock:
                    errors.append(str(exc))
                return
            with lock:
                replies.append(reply)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="aim-test") as pool:
            list(pool.map(one, range(requests)))
        duration = time.perf_counter() - started
    return LoadResult(
        requests=requests,
        concurrency=concurrency,
        completed=len(replies),
        failed=len(errors),
        not_sent=skipped,
        duration=duration,
        model=next((r.model for r in replies if r.model), None),
        prompt_tokens=sum(r.prompt_tokens or 0 for r in replies),
        completion_tokens=sum(r.completion_tokens for r in replies),
        ttft_ms=[r.ttft * 1000 for r in replies],
        e2el_ms=[r.latency * 1000 for r in replies],
        tpot_ms=[t * 1000 for r in replies if (t := r.tpot) is not None],
        errors=errors,
    )


def single_as_load(reply: Reply) -> LoadResult:
    """One request as a load result, so ``--save`` stores both the same way."""
    tpot = reply.tpot
    return LoadResult(
        requests=1,
        concurrency=1,
        completed=1,
        failed=0,
        not_sent=0,
        duration=reply.latency,
        model=reply.model,
        prompt_tokens=reply.prompt_tokens or 0,
        completion_tokens=reply.completion_tokens,
        ttft_ms=[reply.ttft * 1000] if reply.streamed else [],
        e2el_ms=[reply.latency * 1000],
        tpot_ms=[tpot * 1000] if tpot is not None else [],
    )
