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
which says what is wrong with it.
"""

from __future__ import annotations

import re
from typing import Any

from aim_catalog.backends.registry import BACKENDS
from aim_catalog.measurements.importers.common import (
    LATENCIES,
    STATS,
    Fields,
    NotAmd,
    Numbers,
    Run,
    Skip,
    latency_keys,
    plain,
)
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
    scenario_type = get("scenario_type")
    if (scenario_type is not None and scenario_type != "fixed-seq-len") or (
        get("is_multinode") is True or get("disagg") is True or ("prefill_tp" in obj and "tp" not in obj)
    ):
        return None
    texts = (engine, get("hw"), get("framework"), get("precision"), get("model"))
    try:
        facts = _FACTS.get(texts, _UNSEEN)  # only texts (a str equals no other value) are read
    except TypeError:  # a list or an object: unhashable
        return None
    if facts is _UNSEEN:
        facts = _facts(*texts)
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
    image, spec = get("image"), get("spec_decoding")
    if image is not None and not plain(image, 300):
        return None
    if spec is None or (type(spec) is str and spec.strip().lower() in ("", "none")):
        spec = "none" if "spec_decoding" in obj else None
    elif not plain(spec, 32):
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
