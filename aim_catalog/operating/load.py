"""A load run of ``aim-catalog test``: ``requests`` streamed completions, ``concurrency`` at
a time, none sent after a time limit, each bounded as ``openai_client.chat`` bounds one; and
its figures (percentiles, rates) as the benchmark columns a smoke-test row stores.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aim_catalog import httpcall
from aim_catalog.operating.openai_client import InvalidAnswer, Reply, SmokeFailed, chat, served_model


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
    invalid: int = 0  # of the failed: answers that were invalid (not unreachable, not late)

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
        """Mean tokens per completed request; None where unknown (no server said a count)."""
        if not self.completed:
            return None, None
        prompt, completion = (round(n / self.completed) for n in (self.prompt_tokens, self.completion_tokens))
        return prompt or None, completion or None

    def row(self) -> dict[str, Any]:
        """The benchmark row's figures (scenario and metrics; None where unknown)."""
        input_len, output_len = self.mean_lengths()
        return {
            "input_len": input_len,
            "output_len": output_len,
            "concurrency": self.concurrency,
            **self.metrics(),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "concurrency": self.concurrency,
            "completed": self.completed,
            "failed": self.failed,
            "not_sent": self.not_sent,
            "duration_s": round(self.duration, 3),
            "model": self.model,
            **self.row(),
            "errors": self.errors[:5],
        }


@dataclass
class _Tally:
    replies: list[Reply] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    invalid: int = 0
    skipped: int = 0


async def _run(
    base: str,
    prompt: str,
    max_tokens: int,
    concurrency: int,
    requests: int,
    limits: tuple[float, float],
    what: str,
) -> tuple[_Tally, float]:
    time_limit, timeout = limits
    tally = _Tally()
    slots = asyncio.Semaphore(concurrency)
    deadline = time.monotonic() + time_limit
    async with httpcall.client(concurrency) as http:
        model = await served_model(http, base, what, timeout)

        async def one() -> None:
            async with slots:
                if time.monotonic() >= deadline:
                    tally.skipped += 1
                    return
                try:
                    reply = await chat(
                        http, base, model, prompt, max_tokens, stream=True, what=what, timeout=timeout
                    )
                except SmokeFailed as exc:
                    tally.errors.append(str(exc))
                    tally.invalid += isinstance(exc, InvalidAnswer)
                    return
                tally.replies.append(reply)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(requests)))
        return tally, time.perf_counter() - started


def run_load(
    base: str,
    prompt: str,
    max_tokens: int,
    *,
    concurrency: int,
    requests: int,
    time_limit: float,
    timeout: float,
    what: str,
) -> LoadResult:
    """``requests`` streamed completions, ``concurrency`` at a time; none sent after ``time_limit``
    seconds; each bounded by ``timeout`` seconds."""
    tally, duration = asyncio.run(
        _run(base, prompt, max_tokens, concurrency, requests, (time_limit, timeout), what)
    )
    done = tally.replies
    return LoadResult(
        requests=requests,
        concurrency=concurrency,
        completed=len(done),
        failed=len(tally.errors),
        not_sent=tally.skipped,
        duration=duration,
        model=next((r.model for r in done if r.model), None),
        prompt_tokens=sum(r.prompt_tokens or 0 for r in done),
        completion_tokens=sum(r.completion_tokens for r in done),
        ttft_ms=[r.ttft * 1000 for r in done],
        e2el_ms=[r.latency * 1000 for r in done],
        tpot_ms=[t * 1000 for r in done if (t := r.tpot) is not None],
        errors=tally.errors,
        invalid=tally.invalid,
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
