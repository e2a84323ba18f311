"""The built-in benchmark client (``bench run --client builtin``): asyncio + httpx against
an OpenAI-compatible server, one point (``PointSpec``) at a time, and the server's version.

``run_point`` sends ``spec.warmup`` requests first (not measured), then ``spec.requests``
streamed chat completions (``POST /v1/chat/completions``, ``"stream": true``,
``"stream_options": {"include_usage": true}``), at most ``spec.concurrency`` in flight.
With ``spec.request_rate`` they arrive as a Poisson process, as vLLM's benchmark sends them
(``vllm/benchmarks/serve.py``, ``get_request`` with burstiness 1, vllm-project/vllm at
commit 009e6d4a): exponential gaps of mean 1/rate, seeded, scaled so that the last arrival
falls at ``requests / rate`` seconds; an arrival waits for a free slot. Without a rate they
all go as fast as the concurrency lets them. None is sent after ``spec.max_duration``
seconds (from the start of its phase) nor once ``stop`` is set; on ``stop`` the requests in
flight are abandoned (counted neither completed nor failed) so the caller gets its answer
at once. Either way the result is ``interrupted`` and keeps what finished.

Every answer is exactly ``output_len`` tokens long, forced with the servers' own request
parameters: ``max_tokens`` and ``min_tokens`` = ``output_len`` and ``ignore_eos: true``:
vLLM's ``ChatCompletionRequest`` (``vllm/entrypoints/openai/protocol.py`` at commit
0052bed3: ``ignore_eos: bool = False``, ``min_tokens: int = 0`` among its
"chat-completion-sampling-params", passed on to ``SamplingParams``) and SGLang's
(``python/sglang/srt/entrypoints/openai/protocol.py``, sgl-project/sglang at commit
004c82e0: ``min_tokens: int = 0``, ``ignore_eos: bool = False`` among its "extra parameters
for SRT backend only", passed on as ``min_new_tokens`` and ``ignore_eos``). No temperature
is sent, as vLLM's benchmark sends none (``vllm/benchmarks/lib/endpoint_request_func.py``
at commit 02cfb534): the server's default applies.

A request fails, and is counted (never raised), when the server answers an HTTP error, a
stream that breaks the API (``replies.Stream``: bad JSON, wrong types, more pieces than
``output_len``, an error event, no ``data: [DONE]``, no text at all), or not within
``timeout`` seconds from sending it to its last byte (``httpcall.within``). A streamed line
may be at most ``httpcall.MAX_LINE`` bytes, an answer ``httpcall.MAX_BODY`` plus
``EVENT_BYTES`` per token asked; an error answer's message is ``openai_client.error_detail``.
The timings and figures are ``figures``'; prompt and completion lengths are the server's
``usage`` counts, never the lengths asked.

``server_version`` asks vLLM's ``GET /version`` (``{"version": ...}``:
``vllm/entrypoints/openai/api_server.py``, ``show_version``, at commit 048027fb) or
SGLang's ``GET /get_server_info`` (its server arguments, scheduler info and ``"version"``:
``python/sglang/srt/entrypoints/http_server.py``, ``get_server_info``, at commit
0025436e); only the version is read from the answer, which also holds the server's
arguments (an API key among them): nothing else of it is kept or shown.

Imports ``httpcall``, ``arguments``, ``operating.replies`` and its siblings; httpx is
imported by ``httpcall`` inside its functions, and only the bench commands import this
module, so the CLI's start-up loads none of it.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aim_catalog import arguments, httpcall
from aim_catalog.errors import InvalidArgument, WrongArgumentType, shown
from aim_catalog.operating import replies
from aim_catalog.operating.bench import figures, prompts
from aim_catalog.operating.bench.point import PointResult, PointSpec
from aim_catalog.operating.openai_client import error_detail

if TYPE_CHECKING:
    import httpx

CLIENT = "aim-catalog builtin"
MAX_CONCURRENCY = 4096
MAX_REQUESTS = 1_000_000
MAX_LEN = 2**20  # tokens asked per prompt or answer
EVENT_BYTES = 4096  # bytes one streamed token may take, on top of httpcall.MAX_BODY
ERRORS_KEPT = 5  # distinct failure reasons a result names
STOP_POLL = 0.05  # seconds between two looks at the stop event
VERSION_BODY = 2**20  # bytes of a version answer (SGLang's holds all its arguments)
VERSION_PATHS = {"vllm": ("/version",), "sglang": ("/get_server_info",)}
HEADERS = {"Content-Type": "application/json", "Accept": "text/event-stream"}


def client_name() -> str:
    """``aim-catalog builtin 0.1.0``: this client and the installed package's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{CLIENT} {version('aim-catalog')}"
    except PackageNotFoundError:
        return f"{CLIENT} (version unknown)"


def base_of(url: str) -> str:
    """The server's root URL: ``http://host:8000`` from it, ``.../`` or ``.../v1``."""
    base = url.strip().rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def chat_payload(model: str, prompt: str, output_len: int) -> dict[str, Any]:
    """One streamed chat completion of exactly ``output_len`` tokens."""
    return {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": output_len,
        "min_tokens": output_len,
        "ignore_eos": True,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def arrivals(count: int, rate: float, seed: int = prompts.SEED) -> list[float]:
    """Seconds from the start at which each of ``count`` requests arrives: a Poisson process
    of ``rate`` requests/s (exponential gaps, seeded), scaled so the last one arrives at
    ``count / rate`` s, as vLLM's ``get_request`` does to steady the throughput."""
    rng = random.Random(seed)
    times: list[float] = []
    clock = 0.0
    for _ in range(count):
        clock += rng.expovariate(rate)
        times.append(clock)
    if not times or times[-1] <= 0:
        return times
    scale = (count / rate) / times[-1]
    return [t * scale for t in times]


class _Refused(Exception):
    """A request the server answered with something other than a usable stream."""


@dataclass(frozen=True)
class _Outcome:
    sent: float  # perf_counter when the request went out
    finished: float
    sample: figures.Sample | None
    error: str | None = None


@dataclass
class _Phase:
    count: int
    sent: int = 0
    outcomes: list[_Outcome] = field(default_factory=list)


def _reasons(errors: Sequence[str]) -> tuple[str, ...]:
    """The first ``ERRORS_KEPT`` distinct reasons, each with how many requests it failed."""
    counts = Counter(errors)
    return tuple(
        f"{reason} ({counts[reason]} requests)" if counts[reason] > 1 else reason
        for reason in list(counts)[:ERRORS_KEPT]
    )


async def _refusal(response: httpx.Response) -> _Refused:
    """``HTTP 500: <the first line of the server's message>`` (``openai_client.error_detail``)."""
    return _Refused(f"HTTP {response.status_code}{await error_detail(response)}")


class _Run:
    """One point against one server: its client, its prompts and what came back."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base: str,
        model: str,
        spec: PointSpec,
        timeout: float,
        prompt: Callable[[int], str],
    ) -> None:
        self.http = http
        self.url = f"{base}/v1/chat/completions"
        self.model = model
        self.spec = spec
        self.timeout = timeout
        self.prompt = prompt
        self.cap = httpcall.MAX_BODY + EVENT_BYTES * spec.output_len
        self.halt = asyncio.Event()
        self.stopped = False
        self.flying: set[asyncio.Task[None]] = set()

    def interrupt(self) -> None:
        """Stop: nothing more is sent, and what is in flight is abandoned."""
        self.stopped = True
        self.halt.set()
        for task in list(self.flying):
            task.cancel()

    async def watch(self, stop: threading.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(STOP_POLL)
        self.interrupt()

    async def _exchange(self, payload: bytes, sent: float) -> figures.Sample:
        events = replies.Stream(self.spec.output_len, reasoning=True)
        first: float | None = None
        last: float | None = None
        gaps: list[float] = []
        async with self.http.stream("POST", self.url, content=payload, headers=HEADERS) as response:
            if response.status_code != 200:
                raise await _refusal(response)
            async for line in httpcall.lines(response, httpcall.MAX_LINE, self.cap):
                if events.feed(line):
                    now = time.perf_counter()
                    if last is not None:
                        gaps.append(now - last)
                    first = now if first is None else first
                    last = now
                if events.done:
                    break
        if first is None or last is None:
            raise _Refused("the stream carried no text")
        if not events.done:
            raise _Refused("the stream ended before data: [DONE]")
        usage = events.usage
        return figures.Sample(
            ttft=first - sent,
            e2el=last - sent,
            itl=tuple(gaps),
            prompt_tokens=usage.prompt_tokens if usage is not None else None,
            completion_tokens=usage.completion_tokens if usage is not None else None,
        )

    async def request(self, index: int) -> _Outcome:
        payload = json.dumps(chat_payload(self.model, self.prompt(index), self.spec.output_len)).encode()
        sent = time.perf_counter()
        try:
            sample = await httpcall.within(self._exchange(payload, sent), self.timeout)
        except (httpcall.HttpProblem, _Refused) as exc:
            error = str(exc)
        except replies.Invalid as exc:
            error = f"invalid answer: {exc}"
        except replies.ServerError as exc:
            error = f"error while streaming: {exc}"
        except (OSError, ValueError, RuntimeError) as exc:  # what httpcall does not name; no traceback
            error = f"{type(exc).__name__}: {shown(str(exc), 120)}"
        else:
            return _Outcome(sent, time.perf_counter(), sample)
        return _Outcome(sent, time.perf_counter(), None, error)

    async def _halted_within(self, seconds: float) -> bool:
        """Wait ``seconds``; True when stopped meanwhile."""
        try:
            await asyncio.wait_for(self.halt.wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    async def phase(
        self, first: int, count: int, progress: Callable[[int, int], None] | None = None
    ) -> _Phase:
        """Requests ``first`` .. ``first + count - 1``: sent, timed, bounded."""
        done = _Phase(count)
        slots = asyncio.Semaphore(self.spec.concurrency)
        begun = time.monotonic()
        deadline = begun + self.spec.max_duration
        due = arrivals(count, self.spec.request_rate) if self.spec.request_rate else None

        async def one(index: int) -> None:
            async with slots:
                if self.stopped or time.monotonic() >= deadline:
                    return
                done.sent += 1
                outcome = await self.request(first + index)
            done.outcomes.append(outcome)
            if progress is not None:
                progress(len(done.outcomes), count)

        tasks: list[asyncio.Task[None]] = []
        for index in range(count):
            if due is not None:
                at = begun + due[index]
                if at >= deadline:
                    break
                if (wait := at - time.monotonic()) > 0 and await self._halted_within(wait):
                    break
            if self.stopped:
                break
            task = asyncio.create_task(one(index))
            self.flying.add(task)
            task.add_done_callback(self.flying.discard)
            tasks.append(task)
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, Exception):  # the caller's progress callback failed
                raise result
        return done


async def _measure(
    base: str,
    model: str,
    spec: PointSpec,
    timeout: float,
    progress: Callable[[int, int], None] | None,
    stop: threading.Event | None,
) -> tuple[_Phase, bool]:
    prompt = prompts.prompt_source(spec.dataset, spec.input_len, spec.dataset_file)
    async with httpcall.client(spec.concurrency) as http:
        run = _Run(http, base, model, spec, timeout, prompt)
        watcher = asyncio.create_task(run.watch(stop)) if stop is not None else None
        try:
            if spec.warmup:
                await run.phase(0, spec.warmup)
            if run.stopped:
                return _Phase(spec.requests), True
            measured = await run.phase(spec.warmup, spec.requests, progress)
        finally:
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
        return measured, run.stopped


def _checked(base_url: Any, model: Any, spec: Any, timeout: Any) -> None:
    """The arguments as the CLI would have parsed them, or one line saying which is not."""
    arguments.text(base_url, "base_url")
    arguments.text(model, "model")
    if not isinstance(spec, PointSpec):
        raise WrongArgumentType(f"spec must be a PointSpec, got {shown(spec)}")
    arguments.integer(spec.concurrency, "concurrency", low=1, high=MAX_CONCURRENCY, optional=False)
    arguments.integer(spec.requests, "requests", low=1, high=MAX_REQUESTS, optional=False)
    arguments.integer(spec.warmup, "warmup", low=0, high=MAX_REQUESTS, optional=False)
    arguments.integer(spec.input_len, "input_len", low=1, high=MAX_LEN, optional=False)
    arguments.integer(spec.output_len, "output_len", low=1, high=MAX_LEN, optional=False)
    arguments.real(spec.max_duration, "max_duration", low=0, above=True, optional=False)
    arguments.real(spec.request_rate, "request_rate", low=0, above=True)
    arguments.real(timeout, "timeout", low=0, above=True, optional=False)
    if spec.dataset not in ("random", "sharegpt"):
        raise InvalidArgument(f"dataset must be random or sharegpt, got {shown(spec.dataset)}")


def run_point(
    base_url: str,
    model: str,
    spec: PointSpec,
    *,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    timeout: float = 600.0,
) -> PointResult:
    """Measure one point: ``spec.warmup`` requests, then ``spec.requests`` measured ones,
    each bounded by ``timeout`` seconds. ``progress(done, total)`` after each measured
    request; ``stop`` (set from another thread, e.g. on Ctrl-C) ends it early.

        run_point("http://127.0.0.1:8000", "Qwen/Qwen3-32B",
                  PointSpec(concurrency=4, requests=64, input_len=1024, output_len=1024,
                            max_duration=600))
    """
    _checked(base_url, model, spec, timeout)
    measured, stopped = asyncio.run(_measure(base_of(base_url), model, spec, timeout, progress, stop))
    outcomes = measured.outcomes
    samples = [o.sample for o in outcomes if o.sample is not None]
    duration = max(o.finished for o in outcomes) - min(o.sent for o in outcomes) if outcomes else 0.0
    input_len, output_len = figures.mean_tokens(samples)
    return PointResult(
        spec=spec,
        client=client_name(),
        completed=len(samples),
        failed=len(outcomes) - len(samples),
        duration_s=round(duration, 3),
        input_len=input_len,
        output_len=output_len,
        metrics=figures.metrics(samples, duration),
        interrupted=stopped or measured.sent < spec.requests,
        errors=_reasons([o.error for o in outcomes if o.error is not None]),
    )


def _version_in(body: bytes) -> str | None:
    """The ``"version"`` of a JSON object, when it is a short printable string."""
    try:
        answer = replies.loads(body)
    except replies.Invalid:
        return None
    version = answer.get("version") if isinstance(answer, dict) else None
    if not isinstance(version, str):
        return None
    version = version.strip()
    return version if 0 < len(version) <= 100 and version.isprintable() else None


def server_version(base_url: str, backend: str, timeout: float = 5.0) -> str | None:
    """The server's own version (vLLM's ``/version``, SGLang's ``/get_server_info``; both
    for another backend), or None when it does not say it within ``timeout`` seconds."""
    try:
        base = base_of(base_url)
        paths = VERSION_PATHS.get(str(backend).strip().lower(), ("/version", "/get_server_info"))
        deadline = time.monotonic() + float(timeout)
        for path in paths:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                answer = httpcall.fetch(f"{base}{path}", deadline=left, cap=VERSION_BODY)
            except httpcall.HttpProblem:
                continue
            if answer.status == 200 and (version := _version_in(answer.body)) is not None:
                return version
    except Exception:  # a label for the row, never a reason to fail a run: say nothing
        return None
    return None
