"""What every result reader shares: the run it yields, checked access to a result object's
fields (numbers range-checked against the catalog's column types), and reading a file that
holds one JSON object, several (one per line: JSONL, `--append-result`) or a JSON array
(InferenceX's ``agg_bmk.json``), each located by its line.

A field that is malformed is a *problem* (the import stops, exit 4, nothing written); a run
that is well formed but not comparable with the catalog's rows (a trace replay, a
multi-node or agentic row) is *skipped* with its reason, and the rest is imported.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aim_catalog.errors import Problem, shown
from aim_catalog.settings import MAX_SQL_INT  # the Integer columns (lengths, concurrency, failed)

MAX_TOKENS = 2**53  # token totals: exact as a double, so means and rates can be derived
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LONG_DIGITS = re.compile(r"[0-9]{4000,}")


@dataclass
class Run:
    """One benchmark run read from a result file, mapped onto the benchmark columns."""

    path: str
    line: int
    tool: str  # which writer: vllm | sglang | inferencex
    model: str | None
    backend: str | None  # the serving engine, when the file says
    tensor_parallel: int | None  # GPUs of the serve config, when the file says
    row: dict[str, Any] = field(default_factory=dict)
    hardware: str | None = None  # InferenceX says which GPU
    precision: str | None = None  # ... and which precision
    notes: list[str] = field(default_factory=list)  # said per row at import
    spec_decoding: str | None = None  # InferenceX: "mtp" or "none" (None: the file does not say)
    element: int | None = None  # index in a JSON array file (several may share a line)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" + (f" [element {self.element}]" if self.element is not None else "")

    @property
    def key(self) -> str:
        """What identifies a run: its numbers and scenario, not the name of the file it came in."""
        facts = {k: v for k, v in self.row.items() if k != "source"}
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


class Skip(Exception):
    """A well-formed run the catalog does not rank with others (the reason says why)."""


class NotAmd(Skip):
    """A run on a GPU that is not AMD Instinct: said once per file, counted by ``hw``
    (InferenceX files hold hundreds of NVIDIA rows; one line each drowns the rest)."""

    def __init__(self, hw: str) -> None:
        super().__init__(f"hw {hw!r} is not an AMD Instinct GPU")
        self.hw = hw


class Fields:
    """Checked reads of one result object; every problem names file, line and key."""

    def __init__(self, obj: dict[str, Any], path: str, line: int) -> None:
        self.obj, self.path, self.line = obj, path, line
        self.problems: list[Problem] = []

    def bad(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.path, self.line, 1, key, message))

    def has(self, key: str) -> bool:
        return self.obj.get(key) is not None

    def number(self, key: str, source: dict[str, Any] | None = None) -> float | None:
        """A non-negative finite number (the Float columns), or None when absent."""
        value = (self.obj if source is None else source).get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.bad(key, f"must be a non-negative number, got {shown(value)}")
            return None
        try:
            number = float(value)
        except OverflowError:
            self.bad(key, f"number out of range ({len(str(abs(value)))} digits)")
            return None
        if not math.isfinite(number) or number < 0:
            self.bad(key, f"must be a non-negative number, got {shown(value)}")
            return None
        return number

    def numbers(self, pairs: Iterable[tuple[str, str]], scale: float = 1.0) -> dict[str, float]:
        """``column: value * scale`` for each ``(key, column)`` whose key holds a number."""
        found: dict[str, float] = {}
        for key, column in pairs:
            value = self.number(key)
            if value is not None:
                found[column] = value * scale
        return found

    def count(self, *keys: str, minimum: int = 1, source: dict[str, Any] | None = None) -> int | None:
        """An integer from ``minimum`` to 2^31-1 (``--metadata`` gives digit strings)."""
        where = self.obj if source is None else source
        for key in keys:
            value = where.get(key)
            if value is None:
                continue
            if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 12:
                value = int(value)
            if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SQL_INT:
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_SQL_INT:
                self.bad(key, f"must be an integer from {minimum} to {MAX_SQL_INT}, got {_short(value)}")
                return None
            return value
        return None

    def text(self, *keys: str, max_len: int = 300) -> str | None:
        for key in keys:
            value = self.obj.get(key)
            if value is None:
                continue
            if not isinstance(value, str) or not value.strip():
                self.bad(key, f"must be a non-empty string, got {_short(value)}")
                return None
            if _CONTROL.search(value):
                self.bad(key, "must not contain control characters")
                return None
            if len(value) > max_len:
                self.bad(key, f"longer than {max_len} characters")
                return None
            return value
        return None

    def rate(self, key: str = "request_rate") -> float | None:
        """Requests per second; None for unlimited (``inf``, ``"inf"``, JSON ``Infinity``)."""
        value = self.obj.get(key)
        if value is None or value == "inf" or (isinstance(value, float) and math.isinf(value) and value > 0):
            return None
        if value == "trace":
            raise Skip(
                "a trace replay (request_rate 'trace'): arrivals follow the trace, "
                "so its throughput is not comparable with rate- or concurrency-driven runs"
            )
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                self.bad(key, f"must be a number or 'inf', got {_short(value)}")
                return None
            if math.isinf(value) and value > 0:
                return None
        rate = self.number(key, {key: value})
        if rate == 0:
            self.bad(key, "must be positive")
            return None
        return rate

    def date(self, key: str = "date") -> str | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.bad(key, f"a blank or non-text date ({_short(value)}) cannot be stored")
            return None
        for fmt in ("%Y%m%d-%H%M%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                return datetime.strptime(value.strip(), fmt).isoformat()
            except ValueError:
                continue
        self.bad(key, f"unrecognised date {_short(value)} (expected e.g. 20250131-142500)")
        return None


def _short(value: Any) -> str:
    text = shown(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def mean_length(fields: Fields, total_key: str, completed: int | None, column: str) -> int | None:
    """Mean tokens per completed request (rounded), range-checked as its column."""
    total = fields.obj.get(total_key)
    if total is None or not completed:
        return None
    if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= MAX_TOKENS:
        fields.bad(total_key, f"must be an integer from 0 to {MAX_TOKENS}, got {_short(total)}")
        return None
    value = round(total / completed)
    if not 1 <= value <= MAX_SQL_INT:
        fields.bad(
            total_key,
            f"gives {column} {_short(value)} (total / completed requests), outside 1..{MAX_SQL_INT}",
        )
        return None
    return value


LATENCIES = ("ttft", "tpot", "itl", "e2el")
# A result's statistic -> the column's suffix. p90/p99.9/mean: vLLM writes
# ``p{p_word}_{metric}_ms`` (``p90_ttft_ms``, ``p99.9_ttft_ms``) for --metric-percentiles and
# always ``mean_*_ms``; SGLang ``mean_*_ms``; InferenceX the same in seconds (``p99.9_ttft``).
STATS = (("median", "p50"), ("p99", "p99"), ("p90", "p90"), ("p99.9", "p999"), ("mean", "mean"))


def latency_keys(names: Iterable[tuple[str, str]], template: str) -> list[tuple[str, str]]:
    """``(key, column)`` of every statistic in ``STATS`` of each ``(latency, the file's name for it)``;
    ``template`` spells the file's key from ``stat`` and ``name`` (``"{stat}_{name}_ms"``)."""
    return [
        (template.format(stat=stat, name=key), f"{name}_ms_{suffix}")
        for name, key in names
        for stat, suffix in STATS
    ]


# --------------------------------------------------------------------------- files


Located = tuple[int, Any, "int | None"]  # (line, value, index in the array or None)


def split_objects(text: str, path: str) -> tuple[list[Located], list[Problem]]:
    """The JSON values of a result file with their lines (and array index): one object,
    JSONL, or an array."""
    if not text.strip():
        return [], [Problem(path, 1, 1, "", "empty file: no benchmark result")]
    huge = _LONG_DIGITS.search(text)
    if huge is not None:  # Python refuses to parse such integers; say where, not a traceback
        line = text.count("\n", 0, huge.start()) + 1
        return [], [Problem(path, line, 1, "", f"a number with {len(huge.group())} digits is out of range")]
    stripped = text.lstrip()
    if stripped.startswith("["):
        return _array(text, path)
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            return [], [Problem(path, exc.lineno, exc.colno, "", f"invalid or truncated JSON: {exc.msg}")]
        return _lines(text, path)
    except RecursionError:
        return [], [Problem(path, 1, 1, "", "JSON nested too deeply")]
    return [(text.count("\n", 0, len(text) - len(stripped)) + 1, whole, None)], []


def _lines(text: str, path: str) -> tuple[list[Located], list[Problem]]:
    out: list[Located] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((number, json.loads(line), None))
        except json.JSONDecodeError as exc:
            return [], [Problem(path, number, exc.colno, "", f"invalid or truncated JSON: {exc.msg}")]
        except RecursionError:
            return [], [Problem(path, number, 1, "", "JSON nested too deeply")]
    return out, []


def _array(text: str, path: str) -> tuple[list[Located], list[Problem]]:
    decoder = json.JSONDecoder()
    index = text.index("[") + 1
    out: list[Located] = []

    def skip(at: int) -> int:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        return at

    def line_of(at: int) -> int:
        return text.count("\n", 0, at) + 1

    index = skip(index)
    if index < len(text) and text[index] == "]":
        return [], [Problem(path, line_of(index), 1, "", "empty array: no benchmark result")]
    while True:
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            return [], [Problem(path, exc.lineno, exc.colno, "", f"invalid or truncated JSON: {exc.msg}")]
        except RecursionError:
            return [], [Problem(path, line_of(index), 1, "", "JSON nested too deeply")]
        out.append((line_of(index), value, len(out)))
        index = skip(end)
        if index < len(text) and text[index] == ",":
            index = skip(index + 1)
            continue
        if index < len(text) and text[index] == "]" and not text[index + 1 :].strip():
            return out, []
        return [], [Problem(path, line_of(index), 1, "", "invalid or truncated JSON array")]
