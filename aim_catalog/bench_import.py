"""Importing measured results: `vllm bench serve --save-result` JSON and
`python -m sglang.bench_serving --output-file` JSONL, mapped onto the benchmark columns.

Only the summary numbers are kept (the per-request lists such files may carry, ``ttfts``,
``itls``, ``generated_texts``..., are dropped). Each run gets an import key (a hash of the
numbers and scenario it reports), so importing the same file twice adds nothing. Parsing
is pure; ``import_runs`` writes, in the caller's session.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from aim_catalog.db import lock_for_write
from aim_catalog.errors import InvalidRecipeInput, Problem, UsageProblem, shown
from aim_catalog.models import Benchmark, Deployment, Recipe, ServeConfig
from aim_catalog.settings import BACKENDS

MAX_RESULT_BYTES = 64 << 20  # detailed vLLM results carry per-request lists

# result key -> benchmark column, per tool
VLLM_METRICS = {
    "output_throughput": "output_throughput",
    "total_token_throughput": "total_token_throughput",
    "request_throughput": "request_throughput",
    "median_ttft_ms": "ttft_ms_p50",
    "p99_ttft_ms": "ttft_ms_p99",
    "median_tpot_ms": "tpot_ms_p50",
    "p99_tpot_ms": "tpot_ms_p99",
    "median_itl_ms": "itl_ms_p50",
    "p99_itl_ms": "itl_ms_p99",
    "median_e2el_ms": "e2el_ms_p50",
    "p99_e2el_ms": "e2el_ms_p99",
}
SGLANG_METRICS = {
    "output_throughput": "output_throughput",
    "total_throughput": "total_token_throughput",
    "request_throughput": "request_throughput",
    "median_ttft_ms": "ttft_ms_p50",
    "p99_ttft_ms": "ttft_ms_p99",
    "median_tpot_ms": "tpot_ms_p50",
    "p99_tpot_ms": "tpot_ms_p99",
    "median_itl_ms": "itl_ms_p50",
    "p99_itl_ms": "itl_ms_p99",
    "median_e2e_latency_ms": "e2el_ms_p50",
    "p99_e2e_latency_ms": "e2el_ms_p99",
}
TP_KEYS = ("tensor_parallel_size", "tp_size", "tp")


@dataclass
class Run:
    """One benchmark run read from a result file."""

    path: str
    line: int
    tool: str  # vllm | sglang (which benchmark client wrote the file)
    model: str | None
    backend: str | None  # the serving engine, when the file says
    tensor_parallel: int | None
    row: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def key(self) -> str:
        """What identifies a run: its numbers and scenario, not the name of the file it came in."""
        facts = {k: v for k, v in self.row.items() if k != "source"}
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    targets: dict[str, int] = field(default_factory=dict)  # "recipe/backend/N GPU" -> runs added

    def summary(self) -> str:
        into = ", ".join(f"{n} into {t}" for t, n in sorted(self.targets.items())) or "nothing new"
        return f"imported {self.added} run(s), {self.duplicates} already present ({into})"


# --------------------------------------------------------------------------- parsing


def read_result_file(path: Path) -> tuple[list[Run], list[Problem]]:
    name = str(path)
    try:
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return [], [Problem(name, 0, 0, "", "not a regular file")]
            if info.st_size > MAX_RESULT_BYTES:
                return [], [Problem(name, 0, 0, "", f"file is {info.st_size} bytes; the limit is 64 MiB")]
            data = handle.read(MAX_RESULT_BYTES + 1)
    except OSError as exc:
        return [], [Problem(name, 0, 0, "", f"cannot read: {exc.strerror or exc}")]
    return parse_results(data, name)


def parse_results(data: bytes, path: str) -> tuple[list[Run], list[Problem]]:
    """A vLLM JSON document, or SGLang's JSONL (one JSON object per line)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [Problem(path, data.count(b"\n", 0, exc.start) + 1, 0, "", "not valid UTF-8")]
    if not text.strip():
        return [], [Problem(path, 1, 1, "", "empty file: no benchmark result")]
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            return [], [_json_problem(path, exc)]
        return _parse_lines(text, path)
    except RecursionError:
        return [], [Problem(path, 1, 1, "", "JSON nested too deeply")]
    if not isinstance(whole, dict):
        return [], [Problem(path, 1, 1, "", f"expected a JSON object per run, got {type(whole).__name__}")]
    return _runs([(1, whole)], path)


def _parse_lines(text: str, path: str) -> tuple[list[Run], list[Problem]]:
    objects: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            return [], [Problem(path, number, exc.colno, "", f"invalid or truncated JSON: {exc.msg}")]
        except RecursionError:
            return [], [Problem(path, number, 1, "", "JSON nested too deeply")]
        if not isinstance(obj, dict):
            return [], [Problem(path, number, 1, "", f"expected a JSON object, got {type(obj).__name__}")]
        objects.append((number, obj))
    return _runs(objects, path)


def _json_problem(path: str, exc: json.JSONDecodeError) -> Problem:
    return Problem(path, exc.lineno, exc.colno, "", f"invalid or truncated JSON: {exc.msg}")


def _runs(objects: Iterable[tuple[int, dict[str, Any]]], path: str) -> tuple[list[Run], list[Problem]]:
    runs, problems = [], []
    for line, obj in objects:
        run, found = _run(obj, path, line)
        problems.extend(found)
        if run is not None:
            runs.append(run)
    return runs, problems


def _run(obj: dict[str, Any], path: str, line: int) -> tuple[Run | None, list[Problem]]:
    if "total_token_throughput" in obj or "median_e2el_ms" in obj:
        tool, metrics = "vllm", VLLM_METRICS
    elif "total_throughput" in obj or "median_e2e_latency_ms" in obj:
        tool, metrics = "sglang", SGLANG_METRICS
    else:
        return None, [
            Problem(path, line, 1, "", "not a vLLM or SGLang benchmark result (no known throughput key)")
        ]
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(path, line, 1, key, message))

    row: dict[str, Any] = {}
    for key, column in metrics.items():
        value = obj.get(key)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value < 0
        ):
            bad(key, f"must be a non-negative number, got {shown(value)}")
        else:
            row[column] = float(value)
    if not any(k in row for k in ("output_throughput", "total_token_throughput", "request_throughput")):
        bad("", "no throughput figure in this run")
    scenario = _scenario(obj, tool, bad)
    row.update(scenario)
    if isinstance(obj.get("date"), str):
        row["measured_at"] = _date(obj["date"])
    model = obj.get("model_id") or obj.get("model")
    backend = _engine(obj.get("backend"), tool)
    tp = _int(obj, TP_KEYS, bad)
    row["source"] = f"{'vllm bench serve' if tool == 'vllm' else 'sglang.bench_serving'}: {Path(path).name}"
    if problems:
        return None, problems
    return Run(path, line, tool, model if isinstance(model, str) else None, backend, tp, row), []


def _scenario(obj: dict[str, Any], tool: str, bad: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    concurrency = _int(obj, ("max_concurrency",), bad)
    if concurrency is not None:
        out["concurrency"] = concurrency
    for column, keys in (
        ("input_len", ("random_input_len", "input_len")),
        ("output_len", ("random_output_len", "output_len")),
    ):
        value = _int(obj, keys, bad)
        if value is None and tool == "vllm":
            # vLLM's result has no dataset lengths unless given as --metadata; the means do.
            total = obj.get({"input_len": "total_input_tokens", "output_len": "total_output_tokens"}[column])
            completed = obj.get("completed")
            if isinstance(total, int) and isinstance(completed, int) and completed > 0:
                value = round(total / completed)
        if value is not None:
            out[column] = value
    return out


def _int(obj: dict[str, Any], keys: Sequence[str], bad: Any) -> int | None:
    for key in keys:
        value = obj.get(key)
        if value is None:
            continue
        if isinstance(value, str) and value.strip().isdigit():  # --metadata values are strings
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
            bad(key, f"must be a positive integer, got {shown(value)}")
            return None
        return value
    return None


def _engine(value: Any, tool: str) -> str | None:
    """The serving engine the client talked to; vLLM's generic clients (openai...) don't say."""
    if not isinstance(value, str):
        return tool if tool == "sglang" else None
    lowered = value.lower()
    for backend in BACKENDS:
        if lowered.startswith(backend):
            return backend
    return None


def _date(value: str) -> str:
    for fmt in ("%Y%m%d-%H%M%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(value, fmt).isoformat()
        except ValueError:
            continue
    return value[:40]


# --------------------------------------------------------------------------- targets and writing


@dataclass(frozen=True)
class Target:
    recipe_id: str | None = None
    backend: str | None = None
    gpus: int | None = None
    deployment: str | None = None


def _label(recipe_id: str, backend: str, gpus: int) -> str:
    return f"{recipe_id}/{backend}/{gpus} GPU"


def resolve(session: Session, run: Run, target: Target) -> int:
    """The serve config id this run belongs to, or an error naming the candidates."""
    if target.deployment is not None:
        found = session.scalars(
            select(Deployment).where(Deployment.name == target.deployment).order_by(Deployment.id.desc())
        ).first()
        if found is None or found.serve_config_id is None:
            raise UsageProblem(f"no deployment {target.deployment!r} with a serve config in the catalog")
        return found.serve_config_id
    r, sc = Recipe.__table__, ServeConfig.__table__
    query = select(sc.c.id, r.c.recipe_id, sc.c.backend, sc.c.gpu_count).select_from(
        r.join(sc, sc.c.recipe_pk == r.c.id)
    )
    explicit = target.recipe_id is not None
    if explicit:
        query = query.where(r.c.recipe_id == target.recipe_id)
    elif run.model:
        query = query.where(or_(r.c.huggingface_id == run.model, r.c.model_id == run.model))
    else:
        raise InvalidRecipeInput(
            [
                Problem(
                    run.path,
                    run.line,
                    1,
                    "model_id",
                    "the run names no model: use --recipe ID --backend B --gpus N",
                )
            ]
        )
    backend = target.backend or run.backend
    gpus = target.gpus or (None if explicit else run.tensor_parallel)
    if backend is not None:
        query = query.where(sc.c.backend == backend)
    if gpus is not None:
        query = query.where(sc.c.gpu_count == gpus)
    rows = session.execute(query.order_by(r.c.recipe_id, sc.c.backend, sc.c.gpu_count)).all()
    if len(rows) == 1:
        return int(rows[0].id)
    asked = ", ".join(
        f"{k} {v}"
        for k, v in (("recipe", target.recipe_id), ("model", run.model), ("backend", backend), ("GPUs", gpus))
        if v
    )
    if not rows:
        message = f"no serve config matches ({asked})"
    else:
        listed = "; ".join(_label(row.recipe_id, row.backend, row.gpu_count) for row in rows[:20])
        more = f" and {len(rows) - 20} more" if len(rows) > 20 else ""
        message = (
            f"{len(rows)} serve configs match ({asked}): {listed}{more}; "
            "choose one with --recipe, --backend and --gpus"
        )
    raise InvalidRecipeInput([Problem(run.path, run.line, 1, "", message)])


def import_runs(session: Session, runs: Sequence[Run], target: Target) -> ImportReport:
    """Write the runs into the catalog (one transaction, the caller's); skip ones already there."""
    lock_for_write(session)
    resolved = [(run, resolve(session, run, target)) for run in runs]  # every target, before any write
    report = ImportReport()
    labels = {
        row.id: _label(row.recipe_id, row.backend, row.gpu_count)
        for row in session.execute(
            select(ServeConfig.id, Recipe.recipe_id, ServeConfig.backend, ServeConfig.gpu_count)
            .join(Recipe, Recipe.id == ServeConfig.recipe_pk)
            .where(ServeConfig.id.in_({config for _, config in resolved}))
        )
    }
    seen: set[tuple[int, str]] = set()
    for run, config in resolved:
        key = (config, run.key)
        exists = session.scalar(
            select(Benchmark.id).where(Benchmark.serve_config_id == config, Benchmark.import_key == run.key)
        )
        if exists is not None or key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        session.add(Benchmark(serve_config_id=config, origin="import", import_key=run.key, **run.row))
        report.added += 1
        report.targets[labels[config]] = report.targets.get(labels[config], 0) + 1
    session.flush()
    return report
