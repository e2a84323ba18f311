"""What every result reader shares: the run it yields, checked access to a result object's
fields (numbers range-checked against the catalog's column types, and which key of the file
each column came from, so a figure out of ``recipes.bounds`` after a derivation is refused
naming that key; ``Numbers``: a reader's fixed table of such keys, read at once when all are
as their writer writes them), and reading a file that holds one JSON object, several (one per
line: JSONL, `--append-result`) or a JSON array (InferenceX's ``agg_bmk.json``), each located
by its line, in time linear in its size (an array of flat objects by msgspec's parser, in C;
``FlatArray``: one whose rows share their keys, into one struct a row). ``RunColumns``: runs
read alike, held column by column. A key given twice in one object is a problem (as in a
recipe), not "the last one wins". ``collector_paused``: no cyclic garbage collection while
a file's runs are read or written.

A field that is malformed is a *problem* (the import stops, exit 4, nothing written); a run
that is well formed but not comparable with the catalog's rows (a trace replay, a
multi-node or agentic row) is *skipped* with its reason, and the rest is imported.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, AnyStr, TypeGuard, overload

import msgspec

from aim_catalog.errors import Problem, shown
from aim_catalog.measurements.importers.keys import column_keys, run_key
from aim_catalog.settings import MAX_SQL_INT  # the Integer columns (lengths, concurrency, failed)

MAX_TOKENS = 2**53  # token totals: exact as a double, so means and rates can be derived
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INF = math.inf


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
    # column -> (the file's key, how the column was derived from it: "tput_per_gpu x 4
    # GPU(s)"), where it is not the key of the same name: what a refusal of the value names
    origins: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" + (f" [element {self.element}]" if self.element is not None else "")

    @property
    def key(self) -> str:
        """What identifies a run: its numbers and scenario, not the name of the file it came in
        (computed once: the row is finished before anything asks; kept in the instance's
        ``__dict__``, as ``functools.cached_property`` would, without its lock in 3.11)."""
        key: str | None = self.__dict__.get("_key")
        if key is None:
            key = self.__dict__["_key"] = run_key(self.row)
        return key


@dataclass(eq=False)
class RunColumns:
    """Runs of one file read alike (``inferencex.read_many``, ``read_flat``), held column by column: the
    same writer, model, backend, hardware, precision, speculative decoding and row columns
    (``names``, ``columns``: one sequence of values per name), each row with its own GPU
    count, line and element. ``run(i)`` is row ``i`` as the ``Run`` the row-by-row reading
    gives; ``bench_import`` writes the columns without making one."""

    path: str
    tool: str
    model: str | None
    backend: str | None
    hardware: str | None
    precision: str | None
    spec_decoding: str | None
    names: tuple[str, ...]
    columns: list[Sequence[Any]]
    gpus: Sequence[int]
    lines: Sequence[int]
    elements: Sequence[int | None]
    indexes: Sequence[int]  # each row's index among the file's objects
    origins: dict[int, dict[str, tuple[str, str]]]  # Run.origins, by GPU count

    def __len__(self) -> int:
        return len(self.gpus)

    def run(self, i: int) -> Run:
        gpus = self.gpus[i]
        return Run(
            self.path,
            self.lines[i],
            self.tool,
            self.model,
            self.backend,
            gpus,
            dict(zip(self.names, [column[i] for column in self.columns], strict=True)),
            hardware=self.hardware,
            precision=self.precision,
            spec_decoding=self.spec_decoding,
            element=self.elements[i],
            origins=self.origins[gpus],
        )

    def rows(self) -> Iterator[dict[str, Any]]:
        """Each row as its ``Run.row``."""
        return map(dict, map(zip, itertools.repeat(self.names), zip(*self.columns, strict=True)))

    def keys(self) -> list[str]:
        """Each row's ``Run.key`` (computed once)."""
        keys: list[str] | None = self.__dict__.get("_keys")
        if keys is None:
            keys = self.__dict__["_keys"] = column_keys(self.names, self.columns)
        return keys


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused (then as it was): while a file's runs are
    read or written they all stay alive, so its passes over them (a third of the time of
    reading 100k runs) find nothing to free. Reference counting frees what is dropped."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Skip(Exception):
    """A well-formed run the catalog does not rank with others (the reason says why)."""


def as_count(value: Any, minimum: int = 1, *, digit_strings: bool = True) -> int:
    """``value`` as an integer from ``minimum`` to 2^31-1 (the Integer columns); a float
    that is a whole number counts, and so does a string of digits (``--metadata`` gives
    them) unless ``digit_strings`` is False. ValueError says why not."""
    if digit_strings and isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 12:
        value = int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SQL_INT:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_SQL_INT:
        raise ValueError(f"must be an integer from {minimum} to {MAX_SQL_INT}, got {_short(value)}")
    return value


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
        self.origins: dict[str, tuple[str, str]] = {}  # see Run.origins

    def bad(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.path, self.line, 1, key, message))

    def has(self, key: str) -> bool:
        return self.obj.get(key) is not None

    def number(self, key: str, source: dict[str, Any] | None = None) -> float | None:
        """A non-negative finite number (the Float columns), or None when absent."""
        value = (self.obj if source is None else source).get(key)
        if value is None:
            return None
        if type(value) is float and 0.0 <= value < _INF:  # the usual case, before the checks
            return value
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

    def numbers(
        self, pairs: Iterable[tuple[str, str]], scale: float = 1.0, how: str = ""
    ) -> dict[str, float]:
        """``column: value * scale`` for each ``(key, column)`` whose key holds a number
        (``how`` says what the scale is, for ``origins``: ``" s x 1000"``)."""
        found: dict[str, float] = {}
        get, origins = self.obj.get, self.origins
        for key, column in pairs:  # per run and key: Fields.number inlined for a finite float
            value = get(key)
            if value is None:
                continue
            if type(value) is not float or not 0.0 <= value < _INF:
                value = self.number(key)  # anything else: the checks, and what they say
                if value is None:
                    continue
            found[column] = value * scale
            if key != column:  # a renamed key: a refusal names the file's key (as ``derived``)
                origins[column] = (key, key + how if how else "")
        return found

    def derived(self, column: str, key: str, expression: str) -> None:
        """Say that ``column`` is ``expression`` of the file's ``key`` (see ``Run.origins``)."""
        self.origins[column] = (key, expression)

    def count(self, *keys: str, minimum: int = 1, source: dict[str, Any] | None = None) -> int | None:
        """An integer from ``minimum`` to 2^31-1 (``--metadata`` gives digit strings)."""
        where = self.obj if source is None else source
        for key in keys:
            value = where.get(key)
            if value is None:
                continue
            if type(value) is int and minimum <= value <= MAX_SQL_INT:  # as_count's usual case
                return value
            try:
                return as_count(value, minimum)
            except ValueError as exc:
                self.bad(key, str(exc))
                return None
        return None

    def text(self, *keys: str, max_len: int = 300) -> str | None:
        for key in keys:
            value = self.obj.get(key)
            if value is None:
                continue
            if plain(value, max_len):  # the usual case first
                return value
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


class Numbers:
    """``Fields.numbers`` of pairs a reader fixes once (a module-level table), compiled: the
    keys a result object has are read at once (one ``itemgetter`` per set of keys present,
    made once) and, when all are finite non-negative floats (a run as its writer wrote it),
    taken as they are; otherwise (any other value) ``Fields.numbers`` reads them one by one,
    with its checks and what they say."""

    def __init__(self, pairs: Iterable[tuple[str, str]], scale: float = 1.0, how: str = "") -> None:
        self.pairs = tuple(pairs)
        self.scale, self.how = scale, how
        self.keys = tuple(key for key, _ in self.pairs)
        self._any = frozenset(self.keys)
        self._plans: dict[tuple[bool, ...], _Plan | None] = {}

    def __call__(self, f: Fields) -> dict[str, float]:
        obj = f.obj
        if obj.keys().isdisjoint(self._any):
            return {}
        present = tuple(map(obj.__contains__, self.keys))
        plan = self._plans.get(present) or self._plan(present)
        values = plan.values(obj)
        if not _FLOAT.issuperset(map(type, values)) or not (
            math.isfinite(sum(values)) and min(values) >= 0.0  # a finite sum: no inf or nan in it
        ):
            return f.numbers(self.pairs, self.scale, self.how)
        f.origins.update(plan.origins)
        scale = self.scale
        return dict(zip(plan.columns, [value * scale for value in values], strict=True))

    def _plan(self, present: tuple[bool, ...]) -> _Plan:
        pairs = [pair for pair, there in zip(self.pairs, present, strict=True) if there]
        plan = _Plan(pairs, self.how)
        if len(self._plans) < 64:  # the shapes of a writer's rows: a few
            self._plans[present] = plan
        return plan


class _Plan:
    """What ``Numbers`` reads of an object holding ``pairs``' keys (at least one)."""

    def __init__(self, pairs: list[tuple[str, str]], how: str) -> None:
        self.columns = tuple(column for _, column in pairs)
        self.origins = {column: (key, key + how if how else "") for key, column in pairs if key != column}
        getter = operator.itemgetter(*(key for key, _ in pairs))
        self.values: Callable[[dict[str, Any]], tuple[Any, ...]] = (
            getter if len(pairs) > 1 else lambda obj: (getter(obj),)
        )


_FLOAT = frozenset((float,))


def plain(value: Any, max_len: int) -> TypeGuard[str]:
    """``value`` is text ``Fields.text`` takes as it is, by the quickest test: a ``str`` of
    printable ASCII (no control character), not blank, at most ``max_len`` long. (Other text
    may pass too: ``Fields.text`` says.)"""
    return (
        type(value) is str
        and len(value) <= max_len
        and value.isascii()
        and value.isprintable()
        and bool(value.strip())
    )


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


class DuplicateKey(ValueError):
    """A JSON object names one key twice (``json`` would keep the last silently)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: the object, or ``DuplicateKey`` for its first repeated key."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_unique)
_BLANK = re.compile(r"[ \t\r\n]*")  # JSON's whitespace between an array's elements
_SEPARATOR = re.compile(r"[ \t\r\n]*,[ \t\r\n]*")


def _duplicate(text: str, start: int, first_line: int, exc: DuplicateKey, path: str) -> Problem:
    """Where the key is given again: the line of its second ``"key":`` after ``start``
    (the object's first line when the file spells the key with escapes)."""
    spelled = re.compile(re.escape(json.dumps(exc.key, ensure_ascii=False)) + r"\s*:")
    found = spelled.finditer(text, start)
    next(found, None)
    again = next(found, None)
    line = first_line + text.count("\n", start, again.start()) if again is not None else first_line
    message = "duplicate key: a result object gives it twice (which one is meant is unknown)"
    return Problem(path, line, 1, exc.key, message)


def _overlong(text: str, path: str, first_line: int = 1) -> Problem:
    """Python refuses to parse an integer of thousands of digits (a ValueError that is not a
    JSONDecodeError): say where, not a traceback. Searched only then: a regular expression
    over every file cost more than parsing it."""
    huge = _LONG_DIGITS.search(text)
    if huge is None:
        return Problem(path, first_line, 1, "", "a number is out of range")
    line = first_line + text.count("\n", 0, huge.start())
    return Problem(path, line, 1, "", f"a number with {len(huge.group())} digits is out of range")


def split_objects(text: str, path: str) -> tuple[list[Located], list[Problem]]:
    """The JSON values of a result file with their lines (and array index): one object,
    JSONL, or an array. Time is linear in the file's size."""
    if not text.strip():
        return [], [Problem(path, 1, 1, "", "empty file: no benchmark result")]
    stripped = text.lstrip()
    if stripped.startswith("["):
        fast = _flat_array(text)
        return (fast, []) if fast is not None else _array(text, path)
    first = text.count("\n", 0, len(text) - len(stripped)) + 1
    try:
        whole = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            return [], [Problem(path, exc.lineno, exc.colno, "", f"invalid or truncated JSON: {exc.msg}")]
        return _lines(text, path)
    except DuplicateKey as exc:
        if _several(text):
            return _lines(text, path)
        return [], [_duplicate(text, 0, 1, exc, path)]
    except ValueError:
        return [], [_overlong(text, path)]
    except RecursionError:
        return [], [Problem(path, 1, 1, "", "JSON nested too deeply")]
    return [(first, whole, None)], []


def _several(text: str) -> bool:
    """Whether the file holds more than one JSON value (then it is read line by line)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.msg == "Extra data"
    except (ValueError, RecursionError):  # an overlong integer is reported where it is
        return False
    return False


def _lines(text: str, path: str) -> tuple[list[Located], list[Problem]]:
    out: list[Located] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((number, _DECODER.decode(line), None))
        except json.JSONDecodeError as exc:
            return [], [Problem(path, number, exc.colno, "", f"invalid or truncated JSON: {exc.msg}")]
        except DuplicateKey as exc:
            return [], [_duplicate(line, 0, number, exc, path)]
        except ValueError:
            return [], [_overlong(line, path, number)]
        except RecursionError:
            return [], [Problem(path, number, 1, "", "JSON nested too deeply")]
    return out, []


def _flat_array(text: str) -> list[Located] | None:
    """``_array``'s reading of an array of flat objects (InferenceX's ``agg_bmk.json``), by
    msgspec's parser in C, or None: ``_array`` then reads the file (and says what is wrong).

    Taken only where the two must agree: a ``{`` per element (``_openings``: no object is
    nested, no string holds a ``{``), so the ``{`` are where the elements start (their
    lines, counted on from each other); no key given twice, which msgspec reads as one (the
    last) and ``_array`` refuses (``_one_comma_each``). msgspec reads strict JSON: ``NaN``, a
    number out of a double's range, a lone surrogate, a trailing comma are refused there,
    and ``_array`` says so."""
    try:
        values = _STRICT.decode(str(text))  # str: the text itself (msgspec takes no subclass)
    except (msgspec.MsgspecError, ValueError, RecursionError):  # what _array says
        return None
    if type(values) is not list or not values or set(map(type, values)) != _DICT:
        return None
    sizes = list(map(len, values))
    if not _one_comma_each(text.count(","), sum(sizes), sizes.count(0)):
        return None
    braces = _openings(text, "{", 0, len(values))  # at 0: the "[" (or a blank before it)
    if braces is None:
        return None
    return list(zip(_line_numbers(text, "\n", braces), values, range(len(values)), strict=True))


def _one_comma_each(commas: int, pairs: int, empty: int) -> bool:
    """Whether an array of flat objects holding ``pairs`` pairs in all (``empty`` objects
    none) has just the commas it needs: one between elements and one between the pairs of an
    object. A key given twice (one pair more than the object read holds), a comma in a
    string or a nested array would each be a comma more."""
    return commas == pairs - 1 + empty


def _openings(text: AnyStr, brace: AnyStr, at: int, count: int) -> list[int] | None:
    """Where the ``count`` elements of an array (its ``[`` at ``at``) open, each at the next
    ``brace`` (``{``); None when another follows the last: one in a string (an escape is never
    one) or a nested object would have been taken for an element's."""
    found = []
    for _element in range(count):
        at = text.find(brace, at + 1)
        found.append(at)
    return found if text.find(brace, at + 1) == -1 else None


def _line_numbers(text: AnyStr, newline: AnyStr, braces: list[int]) -> list[int]:
    """The line of each of ``braces`` (offsets in ``text``), counted on from each other."""
    lines, at, line, count = [], 0, 1, text.count
    for brace in braces:
        line += count(newline, at, brace)
        lines.append(line)
        at = brace
    return lines


_STRICT = msgspec.json.Decoder()
_DICT = {dict}


class FlatArray(Sequence[Located]):
    """A JSON array whose elements are flat objects that all hold the same keys (an
    ``agg_bmk.json`` as its writer writes it), read by msgspec into one ``Struct`` a row:
    no dict a row, each key's values taken at once (``columns``). As a sequence, what
    ``split_objects`` gives of the file: each element (line, object, index), the object
    read from its own text, and the lines counted only when one is asked for.

    ``flat_array`` makes one only where the reading is the element-by-element one: the
    keys of every element are the first's (msgspec refuses a row with another key, or
    without one of them; an element is the text from its ``{`` to the next, see
    ``_openings``), no key is given twice (``_one_comma_each``), and each key
    ``types`` names a type for (from the first row's value) holds that type in every row, a
    whole number where a float is named read as the float it is."""

    def __init__(
        self, data: bytes, keys: tuple[str, ...], rows: list[Any], braces: list[int], typed: frozenset[str]
    ) -> None:
        self.data, self.keys, self.rows, self.braces = data, keys, rows, braces
        self.typed = typed  # the keys whose values msgspec checked the type of
        self._fields = dict(zip(keys, (f"k{i}" for i in range(len(keys))), strict=True))
        self.lines: Sequence[int] = _Lines(data, braces)  # each element's, counted when one is asked for

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> Located: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Located]: ...
    def __getitem__(self, index: int | slice) -> Located | Sequence[Located]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return (self.lines[index], self.object(index), index)

    def columns(self, keys: Sequence[str]) -> dict[str, Sequence[Any]]:
        """Each of ``keys``' values, row by row, by one pass over the rows."""
        field = self._fields.__getitem__  # a key's field: msgspec renames them
        return transposed(keys, self.rows, lambda *names: operator.attrgetter(*map(field, names)))

    def object(self, index: int) -> dict[str, Any]:
        """Element ``index`` as a dict, as ``_array`` reads it (its keys in their order)."""
        end = self.braces[index + 1] if index + 1 < len(self.braces) else self.data.rindex(b"]")
        text = self.data[self.braces[index] : end].rstrip().removesuffix(b",")  # a blank after: JSON
        found: dict[str, Any] = _STRICT.decode(text)
        return found


def transposed(
    keys: Sequence[str], rows: Iterable[Any], getter: Callable[..., Callable[[Any], Any]]
) -> dict[str, Sequence[Any]]:
    """Each of ``keys``' values in ``rows``, by one pass over them: ``getter(*keys)`` (as
    ``operator.itemgetter``) gives a row's value of one key, or the tuple of several."""
    if not keys:
        return {}
    get = getter(*keys)
    if len(keys) == 1:
        return {keys[0]: list(map(get, rows))}
    return dict(zip(keys, zip(*map(get, rows), strict=True), strict=True))


class _Lines(Sequence[int]):
    """The line each element of an array starts on (the ``{`` at each of ``braces``), all
    counted when one is first asked for: an import asks for none unless a run needs its own."""

    def __init__(self, data: bytes, braces: list[int]) -> None:
        self.data, self.braces = data, braces
        self._lines: list[int] | None = None

    def __len__(self) -> int:
        return len(self.braces)

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...
    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        if self._lines is None:
            self._lines = _line_numbers(self.data, b"\n", self.braces)
        return self._lines[index]


def flat_array(data: bytes, types: Callable[[str, Any], Any]) -> FlatArray | None:
    """``data`` (a file's bytes, after any byte order mark) as a ``FlatArray``, or None:
    ``split_objects`` then reads it. ``types(key, value)``: the type msgspec checks the key's
    values against, from its value in the first element (``Any``: none)."""
    start = len(data) - len(data.lstrip())
    first = data.find(b"{", start)
    if data[start : start + 1] != b"[" or first < 0 or data[start + 1 : first].strip():
        return None
    try:
        head = _STRICT.decode(data[first : data.index(b"}", first) + 1])
    except (msgspec.MsgspecError, ValueError, RecursionError):
        return None
    if type(head) is not dict or not head:
        return None
    keys = tuple(head)
    kinds = tuple(types(key, value) for key, value in head.items())
    try:
        rows = _rows_decoder(keys, kinds).decode(data)
    except (msgspec.MsgspecError, ValueError, RecursionError):
        return None
    if len(rows) < 2 or not _one_comma_each(data.count(b","), len(rows) * len(keys), 0):
        return None
    braces = _openings(data, b"{", start, len(rows))
    if braces is None:
        return None
    typed = frozenset(key for key, kind in zip(keys, kinds, strict=True) if kind is not Any)
    return FlatArray(data, keys, rows, braces, typed)


@functools.lru_cache(maxsize=16)  # a few writers' shapes
def _rows_decoder(keys: tuple[str, ...], kinds: tuple[Any, ...]) -> msgspec.json.Decoder[Any]:
    pairs = enumerate(zip(keys, kinds, strict=True))
    fields = [(f"k{i}", kind, msgspec.field(name=key)) for i, (key, kind) in pairs]
    row = msgspec.defstruct("Row", fields, forbid_unknown_fields=True)
    return msgspec.json.Decoder(list[row])  # type: ignore[valid-type]


def _array(text: str, path: str) -> tuple[list[Located], list[Problem]]:
    index = text.index("[") + 1
    out: list[Located] = []
    # Per element: JSONDecoder.raw_decode without its frame (its StopIteration said as it says it).
    scan = _DECODER.scan_once  # type: ignore[attr-defined]

    def skip(at: int) -> int:
        blank = _BLANK.match(text, at)
        return blank.end() if blank is not None else at

    def line_of(at: int) -> int:  # the line of the one problem that ends the reading
        return text.count("\n", 0, at) + 1

    index = skip(index)
    if index < len(text) and text[index] == "]":
        return [], [Problem(path, line_of(index), 1, "", "empty array: no benchmark result")]
    # An element's line is counted on from the previous element's, never from the top of the
    # file: counting from the top for each of 380k elements was the quadratic part of an import.
    start, line = 0, 1
    while True:
        try:
            try:
                value, end = scan(text, index)
            except StopIteration as err:
                raise json.JSONDecodeError("Expecting value", text, err.value) from None
        except json.JSONDecodeError as exc:
            return [], [Problem(path, exc.lineno, exc.colno, "", f"invalid or truncated JSON: {exc.msg}")]
        except DuplicateKey as exc:
            return [], [_duplicate(text, index, line_of(index), exc, path)]
        except ValueError:
            return [], [_overlong(text, path)]
        except RecursionError:
            return [], [Problem(path, line_of(index), 1, "", "JSON nested too deeply")]
        line += text.count("\n", start, index)
        start = index
        out.append((line, value, len(out)))
        separator = _SEPARATOR.match(text, end)
        if separator is not None:
            index = separator.end()
            continue
        index = skip(end)
        if index < len(text) and text[index] == "]" and not text[index + 1 :].strip():
            return out, []
        return [], [Problem(path, line_of(index), 1, "", "invalid or truncated JSON array")]
