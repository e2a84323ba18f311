"""Reading benchmark result files: vLLM (every writer since 0.5), SGLang ``bench_serving``
(mid-2024 to the refactored ``metrics.py`` writer), InferenceX ``agg_*.json`` and the
InferenceX app's API rows.

Each writer's module says which versions it reads and where their shape comes from.
Parsing is pure: ``parse_results`` gives the runs, the problems (malformed input: the
import stops) and the skipped runs (well formed, not comparable: each with its reason).
Every run's finished row (after unit conversions and derived totals) is checked against
``recipes.bounds``: a figure that is infinite or physically impossible is a problem naming
the file's key it came from. Time is linear in the file's size, with no per-run work that
could be done once per file: an array whose rows share their keys is read by msgspec into
one struct a row (``common.flat_array``), any other array of flat objects into dicts
(``common._flat_array``), and InferenceX rows as their writer writes them are read column
by column (``inferencex.read_flat``, ``read_many``) and, for an import, kept as columns
(``RunColumns``); each gives what the element-by-element reading gives (unit tests hold
them to it; measured by ``benchmarks/bench_import.py``).
"""

from __future__ import annotations

import functools
import os
import stat
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from aim_catalog.backends.registry import BACKENDS
from aim_catalog.errors import Problem
from aim_catalog.measurements.importers import inferencex, inferencex_api, sglang, vllm
from aim_catalog.measurements.importers.common import (
    Located,
    NotAmd,
    Run,
    RunColumns,
    Skip,
    collector_paused,
    flat_array,
    split_objects,
)
from aim_catalog.notes import Progress
from aim_catalog.recipes import bounds
from aim_catalog.settings import RANK_METRICS

__all__ = ["Parsed", "Run", "Stage", "out_of_bounds", "parse_results", "read_result_file"]

MAX_RESULT_BYTES = 64 << 20  # detailed vLLM results carry per-request lists
TICK = 5000  # runs between two progress reports
# One module per result format, asked in this order (the first whose ``matches`` accepts a
# run reads it). A module has ``TOOL``, ``TITLE``, ``SOURCE``, ``matches`` and ``read``:
# a new format is a new module named here.
READERS: tuple[ModuleType, ...] = (inferencex, inferencex_api, sglang, vllm)
SOURCES = {reader.TOOL: reader.SOURCE for reader in READERS}
_TITLES = list(dict.fromkeys(reader.TITLE for reader in reversed(READERS)))
_BOM = "\ufeff".encode()
UNKNOWN = f"not a {', '.join(_TITLES[:-1])} or {_TITLES[-1]} benchmark result (no known throughput key)"


@dataclass
class Parsed:
    runs: list[Run] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    not_amd: Counter[str] = field(default_factory=Counter)  # hw -> rows (one line per file)
    # parse_results(..., columns=True): runs read column by column, kept so (not in ``runs``)
    batches: list[RunColumns] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # each file read, in order

    def extend(self, other: Parsed) -> None:
        self.runs += other.runs
        self.batches += other.batches
        self.files += other.files
        self.problems += other.problems
        self.skipped += other.skipped
        self.not_amd += other.not_amd


class Stage:
    """A stage of ``progress`` over ``total`` runs: said at 0, every ``TICK`` runs, and at
    its end, with its total (so a bar can be drawn)."""

    def __init__(self, progress: Progress | None, what: str, total: int) -> None:
        self.progress, self.what, self.total = progress, what, total
        self.said = self.done = 0  # the next tick to say; the runs counted by ``reached``

    def at(self, index: int) -> None:
        """Run ``index`` (from 0) is next: each tick up to it not said yet is said."""
        while self.progress is not None and self.said <= index and self.said < self.total:
            self.progress(self.what, self.said, self.total)
            self.said += TICK

    def reached(self, more: int) -> None:
        """``more`` runs, counted on from those before, are about to be handled."""
        if more:
            self.at(self.done + more - 1)
            self.done += more

    def end(self) -> None:
        self.at(self.total - 1)
        if self.progress is not None:
            self.progress(self.what, self.total, self.total)


def read_result_file(path: Path, progress: Progress | None = None, *, columns: bool = False) -> Parsed:
    name = str(path)
    try:
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return Parsed(problems=[Problem(name, 0, 0, "", "not a regular file")])
            if info.st_size > MAX_RESULT_BYTES:
                message = f"file is {info.st_size} bytes; the limit is 64 MiB"
                return Parsed(problems=[Problem(name, 0, 0, "", message)])
            data = handle.read(MAX_RESULT_BYTES + 1)
    except OSError as exc:
        return Parsed(problems=[Problem(name, 0, 0, "", f"cannot read: {exc.strerror or exc}")])
    return parse_results(data, name, progress, columns=columns)


def parse_results(
    data: bytes, path: str, progress: Progress | None = None, *, columns: bool = False
) -> Parsed:
    """One JSON object, JSON objects one per line, or a JSON array of objects. ``progress``
    hears ``checking NAME`` as the runs are read (every ``TICK`` runs, and the last). Runs
    read column by column (``inferencex.read_many``) are made ``Run``s in the file's order,
    or, with ``columns``, kept as they are in ``batches`` (what an import writes)."""
    name = Path(path).name  # once per file: a Path per run cost more than reading the run
    sources = {tool: f"{source}: {name}" for tool, source in SOURCES.items()}
    with collector_paused():
        # An array of rows of one shape (an agg_bmk.json), read into columns by msgspec;
        # anything else (or anything that reading cannot be sure of), object by object.
        flat = flat_array(data.removeprefix(_BOM), inferencex.typed)
        objects: Sequence[Located]
        problems: list[Problem] = []
        if flat is not None:
            objects = flat
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = data.count(b"\n", 0, exc.start) + 1
                return Parsed(problems=[Problem(path, line, 0, "", "not valid UTF-8")])
            objects, problems = split_objects(text.removeprefix("\ufeff"), path)
        parsed = Parsed(problems=problems, files=[path])
        total = len(objects)
        stage = Stage(progress, f"checking {name}", total)
        stage.at(0)  # before the rows read at once: a bar from the start
        # InferenceX rows as the writer writes them, column by column (the first reader: a row
        # it matches is its own); the others, and any that is not as written, one by one.
        source = sources[inferencex.TOOL]
        if flat is not None:
            batches = inferencex.read_flat(flat, path, _engine, source)
        else:
            batches = inferencex.read_many(objects, path, _engine, source) if total > 1 else []
        rest: Iterable[int] = range(total)  # the objects left to read one by one
        read: dict[int, tuple[RunColumns, int]] = {}
        if columns:
            parsed.batches += batches
            rest = sorted(set(rest).difference(*(batch.indexes for batch in batches)))
        else:
            read = {index: (batch, i) for batch in batches for i, index in enumerate(batch.indexes)}
        for index in rest:
            stage.at(index)  # every TICK objects, read here or not
            held = read.get(index)
            if held is not None:
                parsed.runs.append(held[0].run(held[1]))
                continue
            line, obj, element = objects[index]
            if not isinstance(obj, dict):
                kind = type(obj).__name__
                message = _at(element) + f"expected a JSON object per run, got {kind}"
                parsed.problems.append(Problem(path, line, 1, "", message))
                continue
            _one(obj, path, line, sources, element, parsed)
        stage.end()
    if parsed.not_amd:
        parsed.skipped.append(Problem(path, 1, 1, "", not_amd_summary(parsed.not_amd)))
        parsed.not_amd = Counter()
    return parsed


def not_amd_summary(counts: Counter[str]) -> str:
    """``skipped: 1289 rows on non-AMD GPUs (b200 x 235, h200 x 200, ...)``: one line a file."""
    gpus: Counter[str] = Counter()
    for hw, n in counts.items():  # the runner's GPU, as the InferenceX app's hwToGpuKey: b200-trt_1 -> b200
        gpus[hw.lower().rsplit(":", 1)[-1].split("-")[0].split("_")[0] or hw] += n
    each = ", ".join(f"{gpu} x {n}" for gpu, n in sorted(gpus.items(), key=lambda kv: (-kv[1], kv[0])))
    total = sum(counts.values())
    return f"skipped: {total} row{'s' if total != 1 else ''} on non-AMD GPUs ({each})"


def _at(element: int | None) -> str:
    return "" if element is None else f"[element {element}] "


def _one(
    obj: dict[str, Any], path: str, line: int, sources: dict[str, str], element: int | None, into: Parsed
) -> None:
    """The run of one result object, or its problems or why it is skipped, added to ``into``
    (``sources``: each reader's row source, ``"InferenceX: agg_bmk.json"``; ``element``: the
    object's index in an array)."""
    for reader in READERS:
        if reader.matches(obj):
            break
    else:
        into.problems.append(Problem(path, line, 1, "", _at(element) + UNKNOWN))
        return
    try:
        run, fields = reader.read(obj, path, line, _engine)
    except NotAmd as skip:
        into.not_amd[skip.hw] += 1
        return
    except Skip as skip:
        into.skipped.append(Problem(path, line, 1, "", f"{_at(element)}skipped: {skip}"))
        return
    if run is not None and run.row.keys().isdisjoint(RANK_METRICS):
        fields.bad("", "no throughput figure in this run")
        run = None
    if run is not None:
        run.origins = fields.origins
    found = fields.problems if run is None else out_of_bounds(run, run.tensor_parallel)
    if found:
        if element is not None:  # an array (several may share a line): say which element
            found = [replace(p, message=_at(element) + p.message) for p in found]
        into.problems += found
        return
    if run is None:
        return
    run.row.setdefault("source", sources[run.tool])  # API rows: their run URL
    failed = run.row.get("failed")
    if failed:
        run.notes.append(f"{failed} failed request(s): stored, but the row never ranks")
    run.element = element
    into.runs.append(run)


def out_of_bounds(run: Run, gpus: int | None, columns: Iterable[str] | None = None) -> list[Problem]:
    """The figures of ``run`` (or its ``columns``) outside ``recipes.bounds`` for a
    ``gpus``-GPU config, each naming the file's key it came from and how."""
    found = []
    row, limits = run.row, bounds.ranges(gpus)
    for column, value in row.items() if columns is None else ((c, row.get(c)) for c in columns):
        if type(value) is float or type(value) is int:  # in its range: passes bounds.problem
            low, high = limits[column]
            if low <= value <= high:
                continue
        elif value is None or type(value) is str:  # not a number: bounds.problem leaves it
            continue
        why = bounds.problem(column, value, gpus)
        if why is None:
            continue
        key, how = run.origins.get(column, (column, ""))
        message = f"{column} = {how}: {why}" if how else why
        found.append(Problem(run.path, run.line, 1, key, message))
    return found


def _engine(value: Any, default: str | None) -> str | None:
    """The serving engine the client talked to; generic clients (openai...) don't say."""
    if not isinstance(value, str):
        return default
    return _engine_named(value)


@functools.lru_cache(maxsize=64)  # a file names a few, once per run
def _engine_named(value: str) -> str | None:
    lowered = value.lower()
    for backend in BACKENDS:
        if lowered.startswith(backend):
            return backend
    return None
