"""SemiAnalysis InferenceX (formerly InferenceMAX) results.

Shape, from ``utils/process_result.py`` of ``SemiAnalysisAI/InferenceX`` (commit 843c6254,
2026-08): one ``agg_<name>.json`` object per run with ``hw`` (the runner type: mi300x,
mi325x, mi355x...), ``conc``, ``image``, ``model``, ``framework``, ``precision``, ``isl``,
``osl``, ``disagg``, ``is_multinode``, ``tp``, ``pp``, ``dcp_size``, ``pcp_size``, ``ep``,
``tput_per_gpu``/``output_tput_per_gpu``/``input_tput_per_gpu`` (totals divided by
``tp * pp * pcp_size`` GPUs), then every ``*_ms`` key of the vLLM-style raw result in
seconds with ``_ms`` dropped (``median_ttft``, ``p99_e2el``...; since 1cb92d21d, 2026-03,
also ``p90_*``, ``p99.9_*`` beside ``mean_*``) and ``*_intvty`` (1000 / TPOT), power and
energy where measured (``avg_power_w`` per GPU, ``joules_per_output_token``,
``joules_per_total_token``; none of them when ``power_valid`` is 0), and ``spec_decoding``
(``mtp`` or ``none``: matched to the ``-mtp`` recipes).
Older files (commit 00e51cc7) have only ``tp`` (GPUs = tp). ``utils/collect_results.py``
merges them into one ``agg_bmk.json`` array. The benchmark client always runs the random
dataset at unlimited rate (``benchmarks/benchmark_lib.sh``), so lengths are the nominal
``isl``/``osl``. Multi-node/disaggregated rows and agentic trace rows
(``scenario_type: agentic-coding``, ``utils/agentic``) are skipped, each with its reason;
rows on other GPUs (NVIDIA: most of an ``agg_bmk.json``) are skipped in one line per file.

A row as the writer writes it is read by ``_usual`` (what its GPU, framework, precision and
model say is worked out once and kept: files repeat a few); anything else, by ``_checked``,
which says what is wrong with it. ``read_many`` (rows as dicts) and ``read_flat`` (rows of
one shape, read by msgspec into columns; ``typed``: the types it checks) read a file's rows
as written column by column (what ``_usual`` reads of each, at a fraction of the time),
leaving the rest to them.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aim_catalog.backends.registry import BACKENDS
from aim_catalog.measurements.importers.common import (
    LATENCIES,
    STATS,
    Fields,
    FlatArray,
    Located,
    NotAmd,
    Numbers,
    Run,
    RunColumns,
    Skip,
    latency_keys,
    plain,
    transposed,
)
from aim_catalog.recipes import bounds
from aim_catalog.settings import MAX_SQL_INT, normalize_precision

# This reader's name in Run.tool, in messages, and the writer named in a row's source.
TOOL = "inferencex"
TITLE = "InferenceX"
SOURCE = "InferenceX"
_SECONDS = Numbers(latency_keys(((name, name) for name in LATENCIES), "{stat}_{name}"), 1000.0, " (s) x 1000")
_TOTALS = Numbers((("tput_per_gpu", "total_token_throughput"), ("output_tput_per_gpu", "output_throughput")))
# (key, column, how): TPOT (ms) from interactivity, where the file gives no TPOT of that statistic
_INTERACTIVITY = tuple(
    (f"{stat}_intvty", f"tpot_ms_{suffix}", f"1000 / {stat}_intvty") for stat, suffix in STATS
)
_INTERACTIVITY_KEYS = frozenset(key for key, _, _ in _INTERACTIVITY)
_AMD_GPU = re.compile(r"^(mi[0-9]{3}[a-z]?)(?:[-_].*)?$", re.IGNORECASE)


def matches(obj: dict[str, Any]) -> bool:
    return "tput_per_gpu" in obj or ("hw" in obj and "framework" in obj)


def read(obj: dict[str, Any], path: str, line: int, engine: Any) -> tuple[Run | None, Fields]:
    """The run of one row: ``_usual`` when it reads it, else ``_checked``."""
    return _usual(obj, path, line, engine) or _checked(obj, path, line, engine)


def _usual(obj: dict[str, Any], path: str, line: int, engine: Any) -> tuple[Run, Fields] | None:
    """The run of a row as the writer writes it, or None: ``_checked`` then reads it (and
    says why what it refuses is refused, or why the row is skipped). It takes only values
    ``_checked`` takes as they are (text by ``plain``, counts of type ``int``, figures by
    ``Numbers``), so its run is the one ``_checked`` reads (a unit test holds them to it, key
    by key and value by value), with a third less work per row."""
    get = obj.get
    if not _one_node(get("scenario_type"), get("is_multinode"), get("disagg"), obj):
        return None
    try:
        facts = _facts_of(engine, get("hw"), get("framework"), get("precision"), get("model"))
    except TypeError:  # a list or an object: unhashable
        return None
    if facts is None:
        return None
    hardware, backend, precision, model = facts
    tp: Any = get("tp")
    pp: Any = get("pp")
    pcp: Any = get("pcp_size")
    pp, pcp = 1 if pp is None else pp, 1 if pcp is None else pcp  # absent: 1, as _gpus takes it
    isl, osl, conc = get("isl"), get("osl"), get("conc")
    for count in (tp, pp, pcp, isl, osl, conc):
        if count is not None and (type(count) is not int or not 1 <= count <= MAX_SQL_INT):
            return None
    if tp is None or tp * pp * pcp > 1024:
        return None
    gpus: int = tp * pp * pcp
    image, spec = get("image"), _spec_as_written(get("spec_decoding"), "spec_decoding" in obj)
    if (image is not None and not plain(image, 300)) or spec is _UNSEEN:
        return None
    f = Fields(obj, path, line)
    totals = _TOTALS(f)
    row: dict[str, Any] = {"dataset": "random", **{column: value * gpus for column, value in totals.items()}}
    per_gpu = _PER_GPU.get(gpus) or _per_gpu(gpus)
    for column in totals:
        f.origins[column] = per_gpu[column]
    row.update(_SECONDS(f))
    for key, column, how in () if obj.keys().isdisjoint(_INTERACTIVITY_KEYS) else _INTERACTIVITY:
        interactivity = f.number(key)
        if column not in row and interactivity:
            row[column] = 1000.0 / interactivity
            f.derived(column, key, how)
    if conc is not None:
        row["concurrency"] = conc
    if isl is not None:
        row["input_len"] = isl
    if osl is not None:
        row["output_len"] = osl
    if isl is not None:
        row["nominal_input_len"] = isl
    if osl is not None:
        row["nominal_output_len"] = osl
    if image is not None:
        row["image"] = image
    row.update(energy(f))
    if f.problems:
        return None
    run = Run(
        path,
        line,
        TOOL,
        model,
        backend,
        gpus,
        row,
        hardware=hardware,
        precision=precision,
        spec_decoding=spec,
    )
    return run, f


def read_many(objects: Sequence[Located], path: str, engine: Any, source: str) -> list[RunColumns]:
    """The runs ``_usual`` reads of these objects, read column by column:
    rows that say the same of their scenario, GPU, framework, precision, model, speculative
    decoding and power samples, with the same keys (the rows of one writer: a few groups
    per file; what a run reads of a row depends on which keys it has, not their order), are
    checked at once (types, ranges and ``recipes.bounds``
    by ``min``/``max`` of each column), and their rows made from the columns. A group with
    anything else in it is left out whole: ``_usual`` or ``_checked`` read its rows one by
    one, and say what is wrong. Each run is finished as ``importers._one`` finishes it
    (origins, element, ``source``), so ``RunColumns.run`` gives the run those read (a unit
    test holds them to it), at a fraction of the time a row."""
    read = []
    for keys, indexes, column in _shapes([obj for _line, obj, _element in objects]):
        if not matches(dict.fromkeys(keys)):
            continue
        if column is None:
            column = _columns([key for key in _READ if key in keys], [objects[i][1] for i in indexes])
        lines, elements = [objects[i][0] for i in indexes], [objects[i][2] for i in indexes]
        read += _read_alike(_Rows(keys, indexes, column, lines, elements), path, engine, source)
    return read


def read_flat(flat: FlatArray, path: str, engine: Any, source: str) -> list[RunColumns]:
    """``read_many`` of an array whose rows hold the same keys, read into their columns by
    msgspec (``common.flat_array``; the types ``typed`` names checked as they were read)."""
    keys = flat.keys
    if not matches(dict.fromkeys(keys)):
        return []
    column = flat.columns([key for key in _READ if key in keys])
    indexes = range(len(flat))
    return _read_alike(_Rows(keys, indexes, column, flat.lines, indexes, flat.typed), path, engine, source)


def typed(key: str, value: Any) -> Any:
    """The type ``common.flat_array`` has msgspec check ``key``'s values against, from its
    ``value`` in the first row: a float for a figure ``_read_group`` reads as one (a whole
    number read as its float, as ``Fields.number`` reads it), an int for a count; else none.
    (Asking more than the first row has would only leave the file to be read object by
    object: a key null in every row, say.)"""
    if key in _FIGURES and type(value) is float:
        return float
    if key in _COUNTS and type(value) is int:
        return int
    return Any


@dataclass(frozen=True)
class _Rows:
    """Rows of one file with the same keys: their indexes among the file's objects, the
    values of the keys ``_read_group`` reads (``column``, by key), their lines and elements,
    and the keys whose values are known to be of the type ``typed`` names."""

    keys: tuple[str, ...]
    indexes: Sequence[int]
    column: dict[str, Sequence[Any]]
    lines: Sequence[int]
    elements: Sequence[int | None]
    known: frozenset[str] = frozenset()

    def picked(self, positions: list[int]) -> _Rows:
        """The rows at ``positions``."""
        get = operator.itemgetter(*positions)

        def pick(values: Sequence[Any]) -> list[Any]:
            return list(get(values)) if len(positions) > 1 else [get(values)]

        column: dict[str, Sequence[Any]] = {key: pick(values) for key, values in self.column.items()}
        return _Rows(self.keys, pick(self.indexes), column, pick(self.lines), pick(self.elements), self.known)


def _read_alike(rows: _Rows, path: str, engine: Any, source: str) -> list[RunColumns]:
    """``_read_group`` of each group ``_alike`` makes of these rows."""
    read = []
    for said, positions in _alike(rows.keys, rows.column):
        runs = _read_group(rows if positions is None else rows.picked(positions), said, path, engine, source)
        if runs is not None:
            read.append(runs)
    return read


def _shapes(objs: list[Any]) -> list[tuple[tuple[str, ...], list[int], dict[str, Sequence[Any]] | None]]:
    """The objects (by index) that are dicts, by their keys: at once, with every key's column,
    when all hold the first one's keys (as many keys, each of them in every one: one pass);
    else by the keys (and order) of each."""
    if objs and set(map(type, objs)) == _DICTS and len(set(map(len, objs))) == 1:
        keys = tuple(objs[0])
        try:
            return [(keys, list(range(len(objs))), _columns(list(keys), objs))]
        except KeyError:  # another key in some: by the keys of each
            pass
    shapes: dict[tuple[str, ...], list[int]] = {}
    for index, obj in enumerate(objs):
        if type(obj) is dict:
            shapes.setdefault(tuple(obj), []).append(index)
    return [(keys, indexes, None) for keys, indexes in shapes.items()]


_DICTS = {dict}


def _alike(
    keys: tuple[str, ...], column: dict[str, Sequence[Any]]
) -> list[tuple[tuple[Any, ...], list[int] | None]]:
    """The rows (each with ``keys``; ``column``: their values by key) by what they say of
    ``_SAID``, value and type (``1 == True``, but only ``True`` marks a multi-node row): one
    group of all (None) when all say the same (checked column by column), else a group per
    set of values, by the rows' positions (a row holding a list or an object there is left
    to the checks, which say what is wrong)."""
    asked = [key for key in _SAID if key in keys]
    said = [column[key] for key in asked]
    if all(_one_value(values) for values in said):
        return [(_said(asked, [values[0] for values in said]), None)]
    groups: dict[tuple[Any, ...], list[int]] = {}
    for position, values in enumerate(zip(*said, strict=True)):
        try:
            groups.setdefault((values, tuple(map(type, values))), []).append(position)
        except TypeError:
            continue
    return [(_said(asked, values), part) for (values, _types), part in groups.items()]


def _columns(keys: list[str], objs: list[dict[str, Any]]) -> dict[str, Sequence[Any]]:
    """Each key's values in ``objs`` (each holds every key), by one pass over them."""
    return transposed(keys, objs, operator.itemgetter)


def _one_value(values: Sequence[Any]) -> bool:
    """All ``values`` are one value, of one type (and hashable: a list is left to the checks)."""
    first = values[0]
    try:
        hash(first)
    except TypeError:
        return False
    return values.count(first) == len(values) and len(set(map(type, values))) == 1


def _said(asked: list[str], values: Sequence[Any]) -> tuple[Any, ...]:
    """``values`` of the ``asked`` keys as ``_SAID``'s tuple (None for a key not there)."""
    given = dict(zip(asked, values, strict=True))
    return tuple(given.get(key) for key in _SAID)


# What a group of rows says alike (read_many), in _read_group's order.
_SAID = (
    "scenario_type",
    "is_multinode",
    "disagg",
    "hw",
    "framework",
    "precision",
    "model",
    "spec_decoding",
    "power_valid",
)
_COUNTS = ("tp", "pp", "pcp_size", "isl", "osl", "conc")
# The scenario's columns after the figures, in _usual's order: (the file's key, column).
_SCENARIO = (
    ("conc", "concurrency"),
    ("isl", "input_len"),
    ("osl", "output_len"),
    ("isl", "nominal_input_len"),
    ("osl", "nominal_output_len"),
    ("image", "image"),
)


def _read_group(rows: _Rows, said: tuple[Any, ...], path: str, engine: Any, source: str) -> RunColumns | None:
    """``read_many`` of one group of rows (each saying ``said``): their runs, or None when
    anything in the group is not as ``_usual`` takes it."""
    keys, column, known, indexes = rows.keys, rows.column, rows.known, rows.indexes
    present = frozenset(keys)
    scenario_type, multinode, disagg, hw, framework, precision, model, spec, power_valid = said
    if not _one_node(scenario_type, multinode, disagg, present):
        return None
    facts = _facts_of(engine, hw, framework, precision, model)
    spec = _spec_as_written(spec, "spec_decoding" in present)
    if facts is None or "tp" not in present or spec is _UNSEEN:
        return None
    hardware, backend, normalized, model = facts
    totals = [(key, column) for key, column in _TOTALS.pairs if key in present]
    seconds = [(key, column) for key, column in _SECONDS.pairs if key in present]
    timed = {column for _, column in seconds}
    interactivity = [item for item in _INTERACTIVITY if item[0] in present]
    powers = [] if power_valid in (0, "0") else [pair for pair in ENERGY_KEYS if pair[0] in present]
    counts = [key for key in _COUNTS if key in present]
    floats = [key for key, _ in (*totals, *seconds, *powers)] + [key for key, _, _ in interactivity]
    if not totals:  # no throughput figure: refused, with its reason, by _one
        return None
    size = len(indexes)
    extremes: dict[str, tuple[Any, Any]] = {}  # each key's (min, max)
    for key in counts:
        counted = column[key]
        if key not in known and set(map(type, counted)) != _INT:
            return None
        extremes[key] = low, high = min(counted), max(counted)
        if low < 1 or high > MAX_SQL_INT:
            return None
    scaled = {key for key, _ in (*totals, *seconds)}  # checked once scaled (below)
    for key in floats:
        figures = column[key]  # as Numbers takes them: finite, not negative (a finite sum: no inf, nan)
        if key not in known and set(map(type, figures)) != _FLOAT:
            return None
        if key in scaled:
            continue
        if not math.isfinite(sum(figures)):
            return None
        extremes[key] = low, high = min(figures), max(figures)
        if low < 0.0:
            return None
    if "image" in present:
        try:
            images = set(column["image"])
        except TypeError:
            return None
        if not all(plain(image, 300) for image in images):
            return None
    gpus: Sequence[int] = column["tp"]
    for key in ("pp", "pcp_size"):
        if key in present:
            gpus = list(map(operator.mul, gpus, column[key]))
    spread = sorted(set(gpus))
    if spread[-1] > 1024:
        return None
    # The row's columns, in _usual's order, their values, and each one's (min, max) where
    # known from its key's (``x * c`` and ``c / x`` are monotonic in ``x``, rounding too).
    names: list[str] = ["dataset"]
    values: list[Sequence[Any]] = [[_DATASET] * size]
    spans: list[tuple[Any, Any] | None] = [None]
    # Totals and seconds are checked scaled: a product by a positive number is finite, not
    # negative, where its figure is; and the scaled values, new and side by side in memory,
    # are read faster than the file's, spread over all its objects.
    for name, figures in (
        *((name, list(map(operator.mul, column[key], gpus))) for key, name in totals),
        *((name, [figure * 1000.0 for figure in column[key]]) for key, name in seconds),
    ):
        if not math.isfinite(sum(figures)):
            return None
        least, most = min(figures), max(figures)
        if least < 0.0:
            return None
        names.append(name)
        values.append(figures)
        spans.append((least, most))
    derived = {}
    for key, name, how in interactivity:
        if name not in timed:
            low, high = extremes[key]
            if low == 0.0:  # a row without it: not as the others
                return None
            names.append(name)
            values.append([1000.0 / figure for figure in column[key]])
            spans.append((1000.0 / high, 1000.0 / low))
            derived[name] = (key, how)
    for key, name in _SCENARIO:
        if key in present:
            names.append(name)
            values.append(column[key])
            spans.append(extremes.get(key))
    for key, name in powers:
        names.append(name)
        values.append(column[key])
        spans.append(extremes[key])
    for name, held, span in zip(names, values, spans, strict=True):
        if name in ("dataset", "image"):
            continue
        limits = {count: bounds.ranges(count)[name] for count in spread}
        low, high = max(low for low, _ in limits.values()), min(high for _, high in limits.values())
        least, most = span or (min(held), max(held))
        if least >= low and most <= high:
            continue
        if len(spread) == 1 or not all(
            limits[count][0] <= figure <= limits[count][1] for figure, count in zip(held, gpus, strict=True)
        ):
            return None  # _one says which figure, and why
    origins = {}
    for count in spread:
        per_gpu = _PER_GPU.get(count) or _per_gpu(count)
        origins[count] = {
            **{name: per_gpu[name] for _, name in totals},
            **{name: (key, key + _SECONDS.how) for key, name in seconds},
            **derived,
            **{name: (key, "") for key, name in powers if key != name},
        }
    names.append("source")
    values.append([source] * size)
    return RunColumns(
        path,
        TOOL,
        model,
        backend,
        hardware,
        normalized,
        spec,
        tuple(names),
        values,
        gpus,
        rows.lines,
        rows.elements,
        indexes,
        origins,
    )


_DATASET = "random"  # the benchmark client's dataset (benchmark_lib.sh): lengths are nominal
_INT = {int}
_FLOAT = {float}


def _one_node(scenario_type: Any, multinode: Any, disagg: Any, keys: Any) -> bool:
    """Whether a row (its ``keys``) is a single-node, fixed-length run as ``_usual`` takes it
    (``_comparable`` says why any other is skipped)."""
    if scenario_type is not None and scenario_type != "fixed-seq-len":
        return False
    return not (multinode is True or disagg is True or ("prefill_tp" in keys and "tp" not in keys))


def _spec_as_written(spec: Any, given: bool) -> Any:
    """``spec_decoding`` as ``_spec_decoding`` reads it when it takes it as it is ("none" for
    blank or "none", None when the key is not ``given``), or ``_UNSEEN``: not so."""
    if spec is None or (type(spec) is str and spec.strip().lower() in ("", "none")):
        return "none" if given else None
    return spec if plain(spec, 32) else _UNSEEN


def _facts_of(engine: Any, hw: Any, framework: Any, precision: Any, model: Any) -> _Facts | None:
    """``_facts`` of these values, kept from an earlier row (only texts are read: a str equals
    no other value). TypeError for an unhashable value."""
    facts = _FACTS.get((engine, hw, framework, precision, model), _UNSEEN)
    return _facts(engine, hw, framework, precision, model) if facts is _UNSEEN else facts


def _facts(engine: Any, hw: Any, framework: Any, precision: Any, model: Any) -> _Facts | None:
    """The hardware, backend, precision (normalised) and model ``_checked`` reads of these
    values when it takes them as they are (text; an AMD GPU, a backend of the catalog), or
    None; kept for the next rows (up to 256 sets of values: a file has a few)."""
    found = _AMD_GPU.match(hw) if plain(hw, 64) else None
    usual = plain(framework, 32) and framework.lower() in BACKENDS and plain(precision, 16)
    facts = None
    if found is not None and usual and plain(model, 300):
        facts = (found.group(1).upper(), engine(framework, None), normalize_precision(precision), model)
    if len(_FACTS) < 256:
        _FACTS[(engine, hw, framework, precision, model)] = facts
    return facts


_Facts = tuple[str, "str | None", str, str]
_FACTS: dict[tuple[Any, ...], _Facts | None] = {}
_UNSEEN: Any = object()


def _checked(obj: dict[str, Any], path: str, line: int, engine: Any) -> tuple[Run | None, Fields]:
    """The run of one row, every field checked: a field that is not as expected is a
    problem (saying why), a row that is not comparable ``Skip`` (``NotAmd``)."""
    f = Fields(obj, path, line)
    hardware, framework = _comparable(obj, f)
    gpus = _gpus(f)
    row: dict[str, Any] = {"request_rate": None, "dataset": "random"}
    totals = _TOTALS(f)
    if gpus is not None:
        row.update({column: value * gpus for column, value in totals.items()})
        per_gpu = _PER_GPU.get(gpus) or _per_gpu(gpus)
        for column in totals:
            f.origins[column] = per_gpu[column]
    row.update(_SECONDS(f))
    for key, column, how in () if obj.keys().isdisjoint(_INTERACTIVITY_KEYS) else _INTERACTIVITY:
        interactivity = f.number(key)  # 1000 / TPOT (ms): where TPOT is not given
        if column not in row and interactivity:
            row[column] = 1000.0 / interactivity
            f.derived(column, key, how)
    isl, osl = f.count("isl"), f.count("osl")
    row.update(
        {
            "concurrency": f.count("conc"),
            "input_len": isl,
            "output_len": osl,
            "nominal_input_len": isl,
            "nominal_output_len": osl,
            "image": f.text("image", max_len=300),
        }
    )
    precision = f.text("precision", max_len=16)
    model = f.text("model")
    spec = _spec_decoding(f)
    row.update(energy(f))
    if gpus is None and not f.problems:
        f.bad("tp", "missing: the GPU count of the run is tp * pp * pcp_size")
    if f.problems:
        return None, f
    row = {k: v for k, v in row.items() if v is not None}
    return (
        Run(
            path,
            line,
            TOOL,
            model,
            engine(framework, None),
            gpus,
            row,
            hardware=hardware,
            precision=normalize_precision(precision) if precision else None,
            spec_decoding=spec,
        ),
        f,
    )


def _per_gpu(gpus: int) -> dict[str, tuple[str, str]]:
    """The origins of the totals of a ``gpus``-GPU run (``tput_per_gpu x 8 GPU(s)``), made
    once per GPU count (at most 1024: ``_gpus``)."""
    found = _PER_GPU[gpus] = {column: (key, f"{key} x {gpus} GPU(s)") for key, column in _TOTALS.pairs}
    return found


_PER_GPU: dict[int, dict[str, tuple[str, str]]] = {}


def _comparable(obj: dict[str, Any], f: Fields) -> tuple[str | None, str | None]:
    """The run's AMD GPU model and framework; ``Skip`` for a row not comparable with the
    catalog's (a trace replay, a multi-node/disaggregated row, another framework or GPU)."""
    scenario_type = obj.get("scenario_type")
    if scenario_type not in (None, "fixed-seq-len"):
        raise Skip(f"an agentic trace replay (scenario_type {scenario_type!s:.40}): no fixed lengths")
    hw = f.text("hw", max_len=64)
    found = _AMD_GPU.match(hw) if hw is not None else None
    if hw is not None and found is None:  # before any other reason: one summary line per file
        raise NotAmd(hw)
    # benchmark_lib.sh writes prefill_*/decode_* (defaulting to TP) into every run's metadata:
    # only without ``tp`` do they mark a disaggregated row.
    if (
        obj.get("is_multinode") is True
        or obj.get("disagg") is True
        or ("prefill_tp" in obj and "tp" not in obj)
    ):
        raise Skip("a multi-node/disaggregated row (prefill and decode workers): not one serve config")
    framework = f.text("framework", max_len=32)
    if framework is not None and framework.lower() not in BACKENDS:
        raise Skip(f"framework {framework!r} is not a backend of this catalog ({', '.join(BACKENDS)})")
    return (found.group(1).upper() if found is not None else None), framework


# Power and energy (InferenceX 7a8a5ab13, 2026-05-26; utils/aggregate_power.py @843c6254):
# mean W per GPU, and J per token of the whole deployment (= W per GPU / tokens/s per GPU).
ENERGY_KEYS = (
    ("avg_power_w", "power_w_per_gpu"),
    ("joules_per_output_token", "joules_per_output_token"),
    ("joules_per_total_token", "joules_per_total_token"),
)
# The figures _read_group reads as floats.
_FIGURES = frozenset(
    (*_TOTALS.keys, *_SECONDS.keys, *(key for key, _ in ENERGY_KEYS), *(key for key, _, _ in _INTERACTIVITY))
)
# Every key _read_group may read (and _SAID's), taken from the rows at once.
_READ = (*_SAID, *_COUNTS, *sorted(_FIGURES), "image")
_ENERGY = Numbers(ENERGY_KEYS)


def energy(f: Fields) -> dict[str, float]:
    """The run's power and energy columns; none when the writer marked its power samples
    invalid (``power_valid: 0``, 71362f75a: it then drops the keys, but a file may not)."""
    if f.obj.get("power_valid") in (0, "0"):  # 0 == False == 0.0
        return {}
    return _ENERGY(f)


def _gpus(f: Fields) -> int | None:
    """The run's GPUs: ``tp * pp * pcp_size`` (the divisor of the ``*_per_gpu`` totals)."""
    tp = f.count("tp")
    pp = f.count("pp") or 1
    pcp = f.count("pcp_size") or 1
    gpus = tp * pp * pcp if tp is not None else None
    if gpus is not None and gpus > 1024:
        f.bad("tp", f"tp * pp * pcp_size = {gpus} GPUs is out of range")
        gpus = None
    return gpus


def _spec_decoding(f: Fields) -> str | None:
    """``spec_decoding`` as ``benchmark_lib.sh`` writes it (``"${SPEC_DECODING:-}"``: ``mtp``,
    ``none`` or empty); None when the file predates the key."""
    if "spec_decoding" not in f.obj:
        return None
    value = f.obj["spec_decoding"]
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return "none"
    return f.text("spec_decoding", max_len=32)
