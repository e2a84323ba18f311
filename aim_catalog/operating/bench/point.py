"""One point of a benchmark run: what is asked (``PointSpec``) and what was measured
(``PointResult``). Frozen values, no I/O; ``PointResult.metrics`` are ``benchmarks`` column
names (``output_throughput``, ``ttft_ms_p99``, ...), so a result is a row as it stands."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Dataset = Literal["random", "sharegpt"]


@dataclass(frozen=True)
class PointSpec:
    concurrency: int
    requests: int  # requests measured at this point (after the warm-up)
    input_len: int  # tokens per prompt asked (random dataset)
    output_len: int  # tokens per answer asked, forced (ignore_eos / min_tokens)
    max_duration: float  # seconds: no request is sent after this
    request_rate: float | None = None  # requests/s; None: unlimited (all at once, bounded by concurrency)
    warmup: int = 0  # requests sent first, not measured
    dataset: Dataset = "random"
    dataset_file: str | None = None  # sharegpt: the JSON file of conversations

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PointResult:
    spec: PointSpec
    client: str  # which client measured it, with its version: "aim-catalog builtin 0.1.0"
    completed: int
    failed: int
    duration_s: float  # first request sent to last answer
    input_len: int | None  # mean prompt tokens the server counted (usage), None: unknown
    output_len: int | None  # mean completion tokens the server counted
    # Benchmark columns: throughputs (tokens/s, requests/s) and latencies in ms at p50, p90,
    # p99, p99.9 and mean (ttft, tpot, itl, e2el); None where not measured.
    metrics: dict[str, float | None] = field(default_factory=dict)
    interrupted: bool = False  # stopped (Ctrl-C, time bound) before every request was sent
    # Why requests failed: the first few distinct reasons, one line each ("HTTP 500: ...
    # (3 requests)"); never a secret (no URL, no header).
    errors: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
