"""``explain``: every recipe of the model with its verdict (chosen, ranked k of n, or why not).

The verdicts read the predicate columns of the explain statement (``matching.statement``
with ``explain``): the same named conditions the select query ANDs, evaluated per config.
Why a config's benchmark rows do not rank or miss the SLO comes from a second query that
selects the row predicates as columns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select

from aim_catalog.selection.compare import compare
from aim_catalog.selection.evidence import evidence_of, launch_image
from aim_catalog.selection.fallback import general_fallback, resolve_backend
from aim_catalog.selection.listing import backend_label
from aim_catalog.selection.matching import (
    ROW_CAUSES,
    checks,
    conditions,
    flag_columns,
    params_of,
    passed,
    row_params,
    row_predicates,
    shape_of,
    statement,
)
from aim_catalog.selection.ranking import rank_reason
from aim_catalog.selection.request import (
    SCENARIO_LENGTHS,
    Executor,
    Request,
    Verdict,
    VerdictKind,
    dialect_name,
    general_model,
)
from aim_catalog.settings import ANY
from aim_catalog.storage import tables

# The logger select's -v reads (the match checks AIM Engine's debug mode logged): selection's.
log = logging.getLogger("aim_catalog.selection")

_CAUSES = {
    "failed": "with failed requests",
    "smoke": "smoke tests",
    "concurrency": "at another concurrency",
    "input_len": "of other lengths",
    "output_len": "of other lengths",
}


@dataclass(frozen=True)
class Explanation:
    """``Catalog.explain``'s answer: the request as compared, one verdict per config, and
    (when nothing was chosen) the message ``select`` would give."""

    request: Request
    verdicts: tuple[Verdict, ...]
    no_match: str | None

    @property
    def chosen(self) -> Verdict | None:
        return next((v for v in self.verdicts if v.verdict == "chosen"), None)


def explain(session: Executor, request: Request) -> list[Verdict]:
    """Every recipe of the model with its verdict: chosen, ranked k of n, or why not."""
    request = resolve_backend(session, request)
    shape = shape_of(request, dialect_name(session), explain=True)
    query, params = statement(shape), params_of(request, shape)
    rows = session.execute(query, params).all()
    fallback = not rows and general_fallback(session, request)
    if fallback:
        rows = session.execute(query, {**params, "model": general_model()}).all()
    names = checks(shape)
    eligible = [row for row in rows if all(passed(row, name) for name in names if name != "slo")]
    candidates = [row for row in eligible if passed(row, "slo")]
    missed_slo = [row for row in eligible if not passed(row, "slo")]
    verdicts = _ranked(session, candidates, request)
    slo_reasons = _slo_reasons(session, [row.serve_config_id for row in missed_slo], request)
    for row in missed_slo:
        reason = slo_reasons[row.serve_config_id]
        verdicts.append(
            Verdict(
                row.recipe_id,
                row.backend,
                row.gpu_count,
                "rejected",
                reason,
                None,
                None,
                launch_image(row),
                setup=tuple(row.setup or ()),
            )
        )
    by_recipe: dict[str, list[Any]] = {}
    for row in rows:
        by_recipe.setdefault(row.recipe_id, []).append(row)
    explained = {row.recipe_id for row in eligible}
    for recipe_id in sorted(set(by_recipe) - explained):
        reason = _rejection(by_recipe[recipe_id], request, names)
        backend = None if request.backend == ANY else request.backend
        verdicts.append(Verdict(recipe_id, backend, request.gpus, "rejected", reason, None, None))
    if log.isEnabledFor(logging.DEBUG):
        _log_checks(by_recipe, request)
    if fallback:
        note = f"general AIM profile, a fallback: no recipe names {request.model}; "
        verdicts = [replace(v, reason=note + v.reason) for v in verdicts]
    return verdicts


def _ranked(session: Executor, candidates: list[Any], request: Request) -> list[Verdict]:
    """The candidates' verdicts, in rank order: chosen, then ranked k of n."""
    ranked = compare(candidates, request)
    by_config = {row.serve_config_id: row for row in candidates}
    # Rows outside the scenario chosen from the data are "of other lengths" too.
    chosen = (ranked[0].scenario or {}) if ranked else {}
    lengths = {k: v for k, v in chosen.items() if k in SCENARIO_LENGTHS and v is not None}
    unranked = _unranked_rows(
        session,
        [row.serve_config_id for row in candidates if row.best_id is None],
        replace(request, **lengths),
    )
    verdicts = []
    for rank, found in enumerate(ranked, start=1):
        row = by_config[found.serve_config_id]
        after = ranked[rank - 2] if rank > 1 else (ranked[1] if len(ranked) > 1 else None)
        # A config with rows, none of them comparable, says why instead of "no benchmark".
        why = found.unreached or unranked.get(row.serve_config_id, "no benchmark")
        reason = rank_reason(rank, len(candidates), found, after, request, unscored=why)
        verdict: VerdictKind = "chosen" if rank == 1 else "ranked"
        verdicts.append(
            Verdict(
                row.recipe_id,
                row.backend,
                row.gpu_count,
                verdict,
                reason,
                found.score,
                found.metric,
                launch_image(row),
                operating_point=found.operating_point,
                evidence=evidence_of(found).as_dict(),
                retired=found.retired,
                setup=found.setup,
            )
        )
    return verdicts


def _reason_rows(
    session: Executor,
    request: Request,
    config_ids: list[int],
    where: Callable[[str], bool],
    flag: Callable[[str], bool],
) -> dict[int, list[Any]]:
    """The benchmark rows of these configs (explain's second query), by config: filtered by
    the row predicates ``where`` accepts, with ``ok_`` columns for those ``flag`` accepts."""
    b = tables.benchmarks
    named = row_predicates(b, shape_of(request, dialect_name(session), explain=True))
    query = select(b, *flag_columns([(name, expr) for name, expr in named if flag(name)]))
    query = query.where(b.c.serve_config_id.in_(config_ids), *conditions(named, where))
    by_config: dict[int, list[Any]] = {}
    for row in session.execute(query.order_by(b.c.id), row_params(request)):
        by_config.setdefault(row.serve_config_id, []).append(row)
    return by_config


def _slo_reasons(session: Executor, config_ids: list[int], request: Request) -> dict[int, str]:
    """Why each config has no benchmark row meeting the SLOs (explain only: a second query)."""
    if not config_ids:
        return {}

    def is_slo(name: str) -> bool:
        return name.startswith("slo_")

    # The rows of the scenario (the SLO, and the metric, are what is explained).
    rows = _reason_rows(session, request, config_ids, lambda n: n != "metric" and not is_slo(n), is_slo)
    reasons = {}
    for config in config_ids:
        found = rows.get(config, [])
        if not found:
            where = f" for {_scenario_text(request)}" if request.scenario else ""
            reasons[config] = f"SLO unproven: no benchmark{where}"
            continue
        # The row closest to passing: fewest SLO misses.
        misses = min((_slo_misses(row, request) for row in found), key=len)
        if misses:
            reasons[config] = "misses the SLO: " + "; ".join(misses)
        else:
            reasons[config] = f"its rows that meet the SLO have no {request.metric}"
    return reasons


def _slo_misses(row: Any, request: Request) -> list[str]:
    """The SLOs a row's ``ok_slo_`` columns say it misses, with its figures."""
    out = []
    for name, limit in request.slo.items():
        if passed(row, f"slo_{name}"):
            continue
        p99, p50 = getattr(row, f"{name}_ms_p99"), getattr(row, f"{name}_ms_p50")
        value, label = (p99, "p99") if p99 is not None else (p50, "p50")
        if value is None:
            out.append(f"no {name} figure (limit {limit:g} ms)")
        else:
            out.append(f"{name} {label} {value:g} ms > {limit:g} ms")
    return out


def _scenario_text(request: Request) -> str:
    return ", ".join(f"{k} {v}" for k, v in request.scenario.items())


def _unranked_rows(session: Executor, config_ids: list[int], request: Request) -> dict[int, str]:
    """For configs with benchmark rows of which none ranks: why not (explain only)."""
    if not config_ids:
        return {}
    rows = _reason_rows(session, request, config_ids, lambda name: False, lambda name: name in ROW_CAUSES)
    why: dict[int, dict[str, int]] = {}
    for config, found in rows.items():
        counts = why.setdefault(config, {})
        for row in found:
            cause = _row_cause(row, request)
            counts[cause] = counts.get(cause, 0) + 1
    return {
        config: f"no comparable benchmark ({', '.join(f'{n} {cause}' for cause, n in counts.items())})"
        for config, counts in why.items()
    }


def _row_cause(row: Any, request: Request) -> str:
    """The first row predicate (``ok_`` column) a benchmark row fails, in words."""
    failing = next((name for name in ROW_CAUSES if not passed(row, name)), None)
    if failing is None:
        return f"without {request.metric}"
    if failing == "rate":
        return "at unlimited rate" if row.request_rate is None else "at another request rate"
    return _CAUSES[failing]


def _rejection(rows: list[Any], request: Request, names: Sequence[str]) -> str:
    """Why no config of a recipe is a candidate: the first of the select's predicates
    (``ok_`` columns) that every config fails."""

    def fails(row: Any, name: str) -> bool:
        return name in names and not passed(row, name)

    first = rows[0]
    if fails(first, "recipe"):
        return f"not the pinned recipe ({request.recipe})"
    if fails(first, "current"):
        when = f" on {first.retired_on}" if first.retired_on else ""
        return f"retired upstream{when} (--current-only): {first.retired_reason}"
    if fails(first, "precision"):
        return f"precision mismatch: recipe is {first.precision}, asked {request.precision}"
    if fails(first, "hardware"):
        wanted = (request.hardware or "").upper()
        said = f"host has {wanted}" if request.hardware_detected else f"--hardware asks for {wanted}"
        return f"hardware mismatch: recipe is for {first.hardware}, {said}"
    configured = [row for row in rows if row.backend is not None]
    if configured and all(fails(row, "automatic") for row in configured):
        return f"manual selection only (an AIM profile): pin it with --recipe {first.recipe_id}"
    configs = [row for row in configured if not fails(row, "backend")]
    if not configs and "backend" in names:
        return f"no such backend: the recipe has no {request.backend}_serve configs"
    counts = sorted({row.gpu_count for row in configs})
    fitting = [row for row in configs if not fails(row, "gpus")]
    if not fitting:
        have = ", ".join(map(str, counts)) or "none"
        if request.gpus is not None:
            return f"no {request.gpus}-GPU config (has {have})"
        return f"no config fits {request.max_gpus} free GPU(s) (has {have})"
    where = ", ".join(f"{backend_label(row.backend)} {row.gpu_count} GPU" for row in fitting)
    return f"disabled: {where}"


def log_checks(session: Executor, request: Request) -> None:
    """The match checks ``select -v`` logs, as AIM Engine's debug mode did: the explain
    statement alone (one query, its predicate columns), not a whole ``explain``."""
    request = resolve_backend(session, request)
    shape = shape_of(request, dialect_name(session), explain=True)
    by_recipe: dict[str, list[Any]] = {}
    for row in session.execute(statement(shape), params_of(request, shape)):
        by_recipe.setdefault(row.recipe_id, []).append(row)
    _log_checks(by_recipe, request)


def _log_checks(by_recipe: dict[str, list[Any]], request: Request) -> None:
    """The match-check lines AIM Engine's debug mode printed, read from the predicate columns."""
    for recipe_id, rows in sorted(by_recipe.items()):
        first = rows[0]
        log.debug("Checking recipe %s", recipe_id)
        log.debug("Model match: %s", passed(first, "model"))
        log.debug("Precision match: %s", passed(first, "precision"))
        if request.hardware is not None:
            log.debug("Hardware match: %s", passed(first, "hardware"))
        backend_rows = [r for r in rows if r.backend is not None and passed(r, "backend")]
        log.debug("Backend match: %s", bool(backend_rows))
        fitting = [r for r in backend_rows if passed(r, "gpus")]
        log.debug("GPU count match: %s", bool(fitting))
        log.debug("Enabled: %s", any(passed(r, "enabled") for r in fitting))
