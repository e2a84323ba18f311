"""The figures of a benchmark point, from the timings of its completed requests: pure
arithmetic, no I/O. Imports only ``operating.load`` (its ``percentile``).

The definitions are vLLM's benchmark client's (vllm-project/vllm: the timings in
``vllm/benchmarks/lib/endpoint_request_func.py``, ``async_request_openai_chat_completions``,
at commit 02cfb534; the figures in ``vllm/benchmarks/serve.py``, ``calculate_metrics``, at
commit 009e6d4a), per completed request:

- TTFT: from sending the request to its first token: the first streamed piece of text
  (vLLM takes the first chunk with choices, which may be the role chunk with no text);
- ITL: the gaps between one streamed piece of text and the next (every gap of every
  request is one value);
- E2EL: from sending the request to its last piece of text (the usage chunk and
  ``[DONE]`` after it carry none);
- TPOT: ``(E2EL - TTFT) / (completion_tokens - 1)``, for answers of two tokens or more;

and over the point, whose ``duration`` runs from the first request sent to the last answer:
``request_throughput`` completed requests/s, ``output_throughput`` completion tokens/s,
``total_token_throughput`` prompt + completion tokens/s. Token counts are the server's own
(``usage``); where a server did not say them, the figures that need them are None.
Latencies are in milliseconds at p50, p90, p99, p99.9 (numpy's default linear method,
``load.percentile``) and their mean, named as the ``benchmarks`` columns are
(``ttft_ms_p50`` ... ``e2el_ms_mean``: ``settings.METRIC_FIELDS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aim_catalog.operating.load import percentile

KINDS = ("ttft", "tpot", "itl", "e2el")
STATS = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p999", 99.9))
DIGITS = 3  # milliseconds to the microsecond; rates to a thousandth


@dataclass(frozen=True)
class Sample:
    """One completed request's timings (seconds) and the server's token counts."""

    ttft: float
    e2el: float
    itl: tuple[float, ...]
    prompt_tokens: int | None
    completion_tokens: int | None

    @property
    def tpot(self) -> float | None:
        """Seconds per output token after the first (None below two tokens or unknown)."""
        tokens = self.completion_tokens
        if tokens is None or tokens < 2:
            return None
        return (self.e2el - self.ttft) / (tokens - 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, DIGITS)


def latency_columns(kind: str, seconds: Sequence[float]) -> dict[str, float | None]:
    """``{kind}_ms_p50`` ... ``{kind}_ms_mean`` of these values (None for none)."""
    values = [s * 1000 for s in seconds]
    columns = {f"{kind}_ms_{name}": _round(percentile(values, q)) for name, q in STATS}
    columns[f"{kind}_ms_mean"] = _round(sum(values) / len(values)) if values else None
    return columns


def _total(counts: Sequence[int | None]) -> int | None:
    """The sum, or None when any count is unknown (a partial sum would understate a rate)."""
    if any(c is None for c in counts):
        return None
    return sum(c for c in counts if c is not None)


def metrics(samples: Sequence[Sample], duration: float) -> dict[str, float | None]:
    """The benchmark columns of a point whose completed requests are ``samples``."""

    def rate(amount: int | None) -> float | None:
        if amount is None or not samples or duration <= 0:
            return None
        return _round(amount / duration)

    completion = _total([s.completion_tokens for s in samples])
    prompt = _total([s.prompt_tokens for s in samples])
    found: dict[str, float | None] = {
        "output_throughput": rate(completion),
        "total_token_throughput": rate(None if completion is None or prompt is None else completion + prompt),
        "request_throughput": rate(len(samples)),
    }
    found.update(latency_columns("ttft", [s.ttft for s in samples]))
    found.update(latency_columns("tpot", [t for s in samples if (t := s.tpot) is not None]))
    found.update(latency_columns("itl", [gap for s in samples for gap in s.itl]))
    found.update(latency_columns("e2el", [s.e2el for s in samples]))
    return found


def mean_tokens(samples: Sequence[Sample]) -> tuple[int | None, int | None]:
    """Mean prompt and completion tokens per completed request, as the server counted them
    (rounded; None where no request had a count)."""

    def mean(counts: list[int | None]) -> int | None:
        known = [c for c in counts if c is not None]
        return round(sum(known) / len(known)) if known else None

    return mean([s.prompt_tokens for s in samples]), mean([s.completion_tokens for s in samples])
