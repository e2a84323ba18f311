"""Physical bounds of a benchmark row's figures: what no real measurement can show.

A row's numbers are checked twice. Their SQL type's bounds (``checker``, the importers'
``Fields``) say whether a value can be stored; these say whether it can be *true*. A finite
but absurd figure (1e300 tokens/s, a TTFT of 1e-9 ms) would otherwise be stored and rank
first. Every path a row takes into the catalog (a recipe file, ``bench import``, ``test
--save``) checks the finished row here, after every unit conversion and derivation, so a
value that only becomes absurd (or infinite) once scaled is caught too.

The limits are deliberately loose, far outside any published figure, so that no real
measurement is refused: the real InferenceX rows of 2025-10 to 2026-06 (``../shared/reference/
inferencex-results``) reach 1.2e5 input tokens/s per GPU, TTFTs from 22 ms and TPOTs from
1.8 ms. ``problem`` says why a figure is refused; ``ranges`` gives the same bounds as
numbers to compare with, for checking many rows. Imports only ``settings``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any

from aim_catalog.settings import MAX_SQL_INT

MAX_TOKENS_PER_S_PER_GPU = 1e6  # tokens/s per GPU: ~10x the highest real figure above
MAX_REQUESTS_PER_S_PER_GPU = 1e6  # every request is at least one token
MAX_LATENCY_MS = 86_400_000.0  # one day: no benchmark request waits longer
MIN_LATENCY_MS = {
    "ttft": 0.01,  # 10 µs: less than one network round trip, let alone a prefill
    "e2el": 0.01,
    "tpot": 0.001,  # 1 µs per token per request: 10^6 tokens/s from one sequence
    "itl": 0.001,
}
MAX_POWER_W_PER_GPU = 10_000.0  # W: ~7x the highest board power of an Instinct GPU (MI355X, 1400 W)
MAX_JOULES_PER_TOKEN = 1_000_000.0  # J: a GPU at full power for ~10 minutes per token
MAX_LENGTH = 10_000_000  # tokens: the longest published context window (10M, Llama 4 Scout)
MAX_CONCURRENCY = 1_000_000
NODE_GPUS = 8  # the GPU count assumed when a row's is unknown: one node (8 GPUs, AMD Instinct OAM)

_RATES = {
    "output_throughput": (MAX_TOKENS_PER_S_PER_GPU, "tokens/s"),
    "total_token_throughput": (MAX_TOKENS_PER_S_PER_GPU, "tokens/s"),
    "request_throughput": (MAX_REQUESTS_PER_S_PER_GPU, "requests/s"),
}
_ENERGY = {
    "power_w_per_gpu": (MAX_POWER_W_PER_GPU, "W per GPU"),
    "joules_per_output_token": (MAX_JOULES_PER_TOKEN, "J per token"),
    "joules_per_total_token": (MAX_JOULES_PER_TOKEN, "J per token"),
}
_SCENARIO = {"input_len": MAX_LENGTH, "output_len": MAX_LENGTH, "concurrency": MAX_CONCURRENCY}


def describe() -> str:
    """The bounds in one sentence (for --help and documentation)."""
    return (
        f"figures must be finite and physically possible: at most {MAX_TOKENS_PER_S_PER_GPU:.0e} tokens/s "
        f"per GPU, latencies from {MIN_LATENCY_MS['ttft']} ms (TTFT, E2EL) or "
        f"{MIN_LATENCY_MS['tpot']} ms (TPOT, ITL) to one day, lengths up to {MAX_LENGTH:,} tokens, "
        f"power up to {MAX_POWER_W_PER_GPU:,.0f} W per GPU"
    )


def problem(column: str, value: Any, gpus: int | None = None) -> str | None:
    """Why ``value`` cannot be a real ``column`` of a row of a ``gpus``-GPU config; None: it can.

    Values that are not numbers are left to the type checks (they say what was expected).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value}"
    if column in _SCENARIO:
        top = _SCENARIO[column]
        if not 1 <= value <= top:
            return f"must be from 1 to {top:,}, got {_fmt(value)}"
        return None
    if column in _RATES:
        per_gpu, unit = _RATES[column]
        count = gpus if gpus and gpus > 0 else NODE_GPUS
        if value < 0:
            return f"must not be negative, got {_fmt(value)}"
        if value > per_gpu * count:
            said = f"{count} GPU(s)" if gpus else f"GPU count unknown, taken as {NODE_GPUS}"
            return (
                f"{_fmt(value)} {unit} is not a real measurement: "
                f"more than {per_gpu:.0e} {unit} per GPU ({said})"
            )
        return None
    if column in _ENERGY:
        most, unit = _ENERGY[column]
        if not 0 < value <= most:
            return f"{_fmt(value)} {unit} is not a real measurement: must be above 0 and at most {most:,.0f}"
        return None
    kind = column.split("_ms_", 1)[0] if "_ms_" in column else None
    if kind in MIN_LATENCY_MS:
        low = MIN_LATENCY_MS[kind]
        if not low <= value <= MAX_LATENCY_MS:
            return (
                f"{_fmt(value)} ms is not a real measurement: {kind.upper()} must be "
                f"from {low} ms to {MAX_LATENCY_MS:,.0f} ms (one day)"
            )
    return None


def ranges(gpus: int | None) -> dict[str, tuple[float, float]]:
    """``column: (low, high)`` for a ``gpus``-GPU config: a number (an ``int`` or ``float``)
    from low to high is one ``problem`` passes, so a row's figures are checked by a lookup and
    two comparisons (``problem`` says why of the others: they are not all refused). Filled on
    use, one table per GPU count."""
    table = _RANGES.get(gpus)
    if table is None:
        table = _Ranges(gpus)
        if len(_RANGES) < 64:  # the usual GPU counts: kept (a file of odd ones does not grow it)
            _RANGES[gpus] = table
    return table


class _Ranges(dict[str, tuple[float, float]]):
    """The ranges of ``ranges(gpus)``, each worked out from ``problem``'s limits once."""

    def __init__(self, gpus: int | None) -> None:
        super().__init__()
        self.gpus = gpus

    def __missing__(self, column: str) -> tuple[float, float]:
        found = self[column] = _range(column, self.gpus)
        return found


_RANGES: dict[int | None, _Ranges] = {}
_FINITE = (-sys.float_info.max, sys.float_info.max)


def _range(column: str, gpus: int | None) -> tuple[float, float]:
    if column in _SCENARIO:
        return 1, _SCENARIO[column]
    if column in _RATES:
        return 0, _RATES[column][0] * (gpus if gpus and gpus > 0 else NODE_GPUS)
    if column in _ENERGY:
        return math.ulp(0.0), _ENERGY[column][0]  # above 0: the least positive number
    kind = column.split("_ms_", 1)[0] if "_ms_" in column else None
    if kind in MIN_LATENCY_MS:
        return MIN_LATENCY_MS[kind], MAX_LATENCY_MS
    return _FINITE


def problems(row: Mapping[str, Any], gpus: int | None = None) -> list[tuple[str, str]]:
    """``(column, why)`` for every figure of ``row`` outside the bounds."""
    found = []
    for column, value in row.items():
        why = problem(column, value, gpus)
        if why is not None:
            found.append((column, why))
    return found


def _fmt(value: float) -> str:
    if isinstance(value, int) and abs(value) <= MAX_SQL_INT:
        return f"{value:,}"
    return f"{value:.6g}"
