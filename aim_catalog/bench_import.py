"""Importing measured results (vLLM, SGLang, InferenceX files; readers in ``importers/``)
into the catalog: which serve config each run belongs to, and writing the rows.

Only the summary numbers are kept (the per-request lists such files may carry, ``ttfts``,
``itls``, ``generated_texts``..., are dropped). Each run gets an import key (a hash of the
numbers and scenario it reports), so importing the same file twice adds nothing.
``import_runs`` writes, in the caller's session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from aim_catalog.db import lock_for_write
from aim_catalog.errors import InvalidRecipeInput, Problem, UsageProblem
from aim_catalog.importers import Parsed, Run, parse_results, read_result_file
from aim_catalog.models import Benchmark, Deployment, Recipe, ServeConfig

__all__ = ["ImportReport", "Parsed", "Run", "Target", "import_runs", "parse_results", "read_result_file"]


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    targets: dict[str, int] = field(default_factory=dict)  # "recipe/backend/N GPU" -> runs added
    notes: list[str] = field(default_factory=list)  # per row: failed requests, skipped runs

    def summary(self) -> str:
        into = ", ".join(f"{n} into {t}" for t, n in sorted(self.targets.items())) or "nothing new"
        return f"imported {self.added} run(s), {self.duplicates} already present ({into})"


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
    if not explicit and run.hardware is not None:
        query = query.where(r.c.hardware == run.hardware)
    if not explicit and run.precision is not None:
        query = query.where(r.c.precision == run.precision)
    rows = session.execute(query.order_by(r.c.recipe_id, sc.c.backend, sc.c.gpu_count)).all()
    if len(rows) == 1:
        return int(rows[0].id)
    asked = ", ".join(
        f"{k} {v}"
        for k, v in (
            ("recipe", target.recipe_id),
            ("model", run.model),
            ("backend", backend),
            ("GPUs", gpus),
            ("hardware", None if explicit else run.hardware),
            ("precision", None if explicit else run.precision),
        )
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
        report.notes += [f"{run.where}: {note}" for note in run.notes]
        report.added += 1
        report.targets[labels[config]] = report.targets.get(labels[config], 0) + 1
    session.flush()
    return report
