"""Which configs match a request and how they rank, written once as SQL.

``predicates`` names the config-level conditions (model, precision or the pinned recipe,
hardware, backend, GPUs, enabled, not manual-selection-only, SLO); ``row_predicates`` the
benchmark-row ones (a metric, no failed requests, not a smoke test, request rate,
concurrency, lengths, each SLO). ``select`` ANDs them; ``explain`` selects each one's result
as an ``ok_<name>`` column per config (or row) and reads its verdicts from those.

The statement filters recipes by (huggingface_id, precision[, hardware]) on their index,
walks to the serve configs through the unique (recipe, backend, gpu_count) index, and
attaches each config's best benchmark row and, as one JSON column ``curve``, all its rows of
the scenario (``curves.CURVE_COLUMNS``; index lookups per config). It orders by the best
row's metric, configs without a benchmark last, then recipe_id, GPU count and backend, so
the answer is deterministic; ``compare`` then compares the configs' curves at one operating
point. Concurrency is not a row predicate: it is where the curves are read.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Float,
    Label,
    Select,
    and_,
    bindparam,
    case,
    false,
    func,
    or_,
    select,
)

from aim_catalog.selection.curves import CURVE_COLUMNS, DEFAULT_PERCENTILE, FIGURES
from aim_catalog.selection.request import SCENARIO_LENGTHS, Candidate, Request
from aim_catalog.settings import ANY, DEFAULT_METRIC, FALLBACK_METRIC, SMOKE_ORIGIN
from aim_catalog.storage import tables
from aim_catalog.storage.dialects import dialect_of

Named = list[tuple[str, ColumnElement[bool]]]

PROVENANCE = (
    "input_len",
    "output_len",
    "concurrency",
    "source",
    "measured_at",
    "image",
    "nominal_input_len",
    "nominal_output_len",
    "dataset",
    "request_rate",
)
# The row predicates that say why a benchmark row does not rank, in the order explain names them.
ROW_CAUSES = ("failed", "smoke", "rate", "input_len", "output_len")

# Built once: aliasing a table copies all its columns, which costs more than the query.
_INNER = tables.benchmarks.alias("b")
_BEST_ROW = tables.benchmarks.alias("best")
_CURVE = tables.benchmarks.alias("cb")
_FINITE = 1e308  # every finite figure lies within +-_FINITE; an infinite one does not
_SCEN_R = tables.recipes.alias("scen_r")
_SCEN_SC = tables.serve_configs.alias("scen_sc")
_SCEN_B = tables.benchmarks.alias("scen_b")
_PROFILE_ORDER = {"preview": 1, "unoptimized": 2, "general": 3}  # optimized and plain recipes: 0


# How the GPU count filters: exactly the asked count, at most the host's, or not at all.
GpuFilter = Literal["exact", "max", ""]


@dataclass(frozen=True)
class Shape:
    """What decides the SQL text of a request; its values travel as bound parameters."""

    dialect: str
    explain: bool
    metric: str
    hardware: bool
    backend: bool
    gpus: GpuFilter
    scenario: tuple[str, ...]
    slo: tuple[str, ...]
    rate: bool  # a request rate was asked (else: unlimited-rate rows only)
    goal: bool = False  # configs tuned for the asked goal rank first
    pinned: bool = False  # one recipe_id: manual-selection-only configs allowed
    percentile: str = DEFAULT_PERCENTILE  # the SLOs' percentile
    current_only: bool = False  # recipes retired upstream do not compete
    precision: bool = True  # filter by precision (plan may compare every precision: "any")

    @property
    def defaults(self) -> tuple[str, ...]:
        """The lengths not asked: they take the candidates' most common scenario."""
        return tuple(name for name in SCENARIO_LENGTHS if name not in self.scenario)


def shape_of(request: Request, dialect: str, explain: bool) -> Shape:
    gpus: GpuFilter = "exact" if request.gpus is not None else ("max" if request.max_gpus is not None else "")
    return Shape(
        dialect,
        explain,
        request.metric,
        request.hardware is not None,
        request.backend != ANY,
        gpus,
        tuple(name for name in request.scenario if name != "concurrency"),
        tuple(request.slo),
        request.request_rate is not None,
        goal=request.goal is not None,
        pinned=request.recipe is not None,
        percentile=request.percentile,
        current_only=request.current_only,
        precision=request.precision != ANY,
    )


def score_of(table: Any, metric: str) -> ColumnElement[Any]:
    if metric == DEFAULT_METRIC:
        return func.coalesce(table.c[DEFAULT_METRIC], table.c[FALLBACK_METRIC])
    column: ColumnElement[Any] = table.c[metric]
    return column


def predicates(
    shape: Shape, r: Any = tables.recipes, sc: Any = tables.serve_configs, best: Any = None
) -> Named:
    """The config-level conditions of a candidate, by name; with ``best`` (the joined best
    row) and SLOs asked, "slo": the config has a row meeting them."""
    named: Named = [("model", r.c.huggingface_id == bindparam("model")), ("enabled", sc.c.enabled)]
    if shape.pinned:  # like AIM_PROFILE_ID: that recipe, even a manual-selection-only one
        named.append(("recipe", r.c.recipe_id == bindparam("recipe")))
    else:
        if shape.precision:
            named += [("precision", r.c.precision == bindparam("precision"))]
        named += [("automatic", sc.c.manual_only.is_(false()))]
    if shape.current_only:
        named.append(("current", r.c.status == "current"))
    if shape.hardware:
        named.append(("hardware", r.c.hardware == bindparam("hardware")))
    if shape.backend:
        named.append(("backend", sc.c.backend == bindparam("backend")))
    if shape.gpus == "exact":
        named.append(("gpus", sc.c.gpu_count == bindparam("gpus")))
    elif shape.gpus == "max":
        named.append(("gpus", sc.c.gpu_count <= bindparam("gpus")))
    if best is not None and shape.slo:  # an SLO is a constraint: a row must meet it
        named.append(("slo", best.c.id.is_not(None)))
    return named


def slo_value(table: Any, name: str, percentile: str = DEFAULT_PERCENTILE) -> ColumnElement[Any]:
    """A latency at the SLOs' percentile; p99 falls back to p50 (``curves.latency``'s rule)."""
    column: ColumnElement[Any] = table.c[f"{name}_ms_{percentile}"]
    return func.coalesce(column, table.c[f"{name}_ms_p50"]) if percentile == "p99" else column


def row_predicates(table: Any, shape: Shape) -> Named:
    """Which benchmark rows count: with the metric, comparable (no failed requests, not a
    smoke test, unlimited rate unless a rate is asked: the views' rule, migration 0005), of
    the asked scenario (lengths within the tolerance), meeting every SLO."""
    named: Named = [
        ("metric", score_of(table, shape.metric).is_not(None)),
        ("failed", func.coalesce(table.c.failed, 0) == 0),
        (
            "smoke",
            table.c.origin != SMOKE_ORIGIN,
        ),  # `aim-catalog test --save` rows never outrank a benchmark
    ]
    if shape.rate:
        named.append(("rate", table.c.request_rate.between(bindparam("rate_lo"), bindparam("rate_hi"))))
    else:
        named.append(("rate", table.c.request_rate.is_(None)))
    for column in shape.scenario:
        lo: Any = bindparam(f"scenario_{column}_lo")
        hi: Any = bindparam(f"scenario_{column}_hi")
        named.append((column, table.c[column].between(lo, hi)))
    named += [
        (f"slo_{name}", slo_value(table, name, shape.percentile) <= bindparam(f"slo_{name}"))
        for name in shape.slo
    ]
    return named


def conditions(named: Named, keep: Callable[[str], bool] = lambda name: True) -> list[ColumnElement[bool]]:
    """The predicates' expressions (those whose name ``keep`` accepts), to AND."""
    return [expr for name, expr in named if keep(name)]


@functools.lru_cache(maxsize=128)
def checks(shape: Shape) -> tuple[str, ...]:
    """The names of the predicates a candidate must pass (what select ANDs), "slo" last."""
    return tuple(name for name, _ in predicates(shape)) + (("slo",) if shape.slo else ())


def flag_columns(named: Named) -> list[Label[bool]]:
    """Each predicate's result as a boolean column ``ok_<name>``: false, never NULL, where the
    outer join found no config or a compared value is NULL."""
    return [case((expr, True), else_=False).label(f"ok_{name}") for name, expr in named]


def passed(row: Any, name: str) -> bool:
    """A predicate column's value; a predicate the request does not use passes."""
    value = row._mapping.get(f"ok_{name}", True)
    return bool(value)


def length_window(value: int, tolerance: float) -> tuple[int, int]:
    """The mean lengths that match an asked length: within ``tolerance`` of it, inclusive."""
    return math.ceil(round(value * (1 - tolerance), 6)), math.floor(round(value * (1 + tolerance), 6))


def row_params(request: Request) -> dict[str, Any]:
    """The bound values of ``row_predicates``."""
    params: dict[str, Any] = {}
    for column, value in request.scenario.items():
        if column != "concurrency":  # where the curves are read, not a row predicate
            lo, hi = length_window(value, request.length_tolerance)
            params[f"scenario_{column}_lo"], params[f"scenario_{column}_hi"] = lo, hi
    if request.request_rate is not None:
        params["rate_lo"] = request.request_rate * (1 - 1e-6)
        params["rate_hi"] = request.request_rate * (1 + 1e-6)
    params.update({f"slo_{k}": v for k, v in request.slo.items()})
    return params


def params_of(request: Request, shape: Shape) -> dict[str, Any]:
    """The bound values of the statement: its predicates' and the default scenario's."""
    params: dict[str, Any] = {"model": request.model, **row_params(request)}
    if shape.goal:
        params["goal"] = request.goal
    if shape.defaults:
        params["length_tolerance"] = request.length_tolerance
    if shape.pinned:
        params["recipe"] = request.recipe
    if shape.precision and (not shape.pinned or shape.explain):  # explain logs it for a pinned recipe
        params["precision"] = request.precision
    if shape.hardware:
        params["hardware"] = (request.hardware or "").upper()
    if shape.backend:
        params["backend"] = request.backend
    if shape.gpus:
        params["gpus"] = request.gpus if shape.gpus == "exact" else request.max_gpus
    return params


def _default_scenario(shape: Shape) -> dict[str, Any]:
    """Without --input-len/--output-len, rows of one workload rank: the (nominal, else mean)
    input/output lengths that the most candidate configs have a comparable row for; ties go
    to the lengths most of the model's enabled configs have rows for, then to more rows,
    then to the shorter lengths. One scalar subquery per length, uncorrelated (the database
    runs it once), over the model's rows found through the same indexes as the candidates."""
    r, sc, b = _SCEN_R, _SCEN_SC, _SCEN_B
    keys = {name: func.coalesce(b.c[f"nominal_{name}"], b.c[name]) for name in SCENARIO_LENGTHS}
    named = predicates(shape, r, sc)
    candidate = case((and_(*conditions(named, lambda name: name != "model")), sc.c.id))
    base = (
        select(*(key.label(name) for name, key in keys.items()))
        .select_from(r.join(sc, sc.c.recipe_pk == r.c.id).join(b, b.c.serve_config_id == sc.c.id))
        .where(
            *conditions(named, lambda name: name in ("model", "enabled")),  # the model's enabled configs
            *conditions(row_predicates(b, shape)),
            *(key.is_not(None) for key in keys.values()),
        )
        .group_by(*keys.values())
        .order_by(
            func.count(candidate.distinct()).desc(),
            func.count(sc.c.id.distinct()).desc(),
            func.count().desc(),
            *keys.values(),
        )
        .limit(1)
    )
    # One CTE referenced by every use: the database aggregates once per statement, where
    # repeated scalar subqueries were each run again (six times per select).
    scenario = base.cte("default_scenario")
    return {name: select(scenario.c[name]).scalar_subquery() for name in shape.defaults}


def _near(column: Any, reference: Any) -> ColumnElement[bool]:
    """A row length within the tolerance of the default scenario's (any, when no row has one)."""
    tolerance: Any = bindparam("length_tolerance", type_=Float)
    return or_(
        reference.is_(None),
        and_(column >= reference * (1 - tolerance), column <= reference * (1 + tolerance)),
    )


def _order(shape: Shape, rank: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """Goal first (when asked), then the score, then the AIM profile type: without a
    benchmark, optimized (and plain recipes) before preview before unoptimized."""
    sc = tables.serve_configs
    order: list[ColumnElement[Any]] = []
    if shape.goal:
        order.append(case((sc.c.goal == bindparam("goal"), 0), else_=1))
    order.append(rank.desc().nulls_last())
    order.append(case(_PROFILE_ORDER, value=sc.c.profile_type, else_=0))
    return order


def profile_rank(profile_type: str | None) -> int:
    """The ORDER BY key of an AIM profile type, as the statement's CASE."""
    return _PROFILE_ORDER.get(profile_type or "", 0)


@functools.lru_cache(maxsize=128)
def statement(shape: Shape) -> Select[Any]:
    """select: the best candidate (LIMIT 1). explain: every config of the model (and recipes
    without one), best first, with each config predicate's result as an ``ok_`` column."""
    r, sc, inner = tables.recipes, tables.serve_configs, _INNER
    defaults = _default_scenario(shape)
    best_of_config = (
        select(inner)
        .where(
            inner.c.serve_config_id == sc.c.id,
            *conditions(row_predicates(inner, shape)),
            *(_near(inner.c[name], ref) for name, ref in defaults.items()),
        )
        .order_by(score_of(inner, shape.metric).desc(), inner.c.id)
        .limit(1)
    )
    dialect = dialect_of(shape.dialect)
    best, on_best = dialect.best_row_join(best_of_config, _BEST_ROW, inner.c.id)
    cb = _CURVE
    curve = (
        select(dialect.json_rows(*(_curve_column(cb, name, shape.metric) for name in CURVE_COLUMNS)))
        .where(
            cb.c.serve_config_id == sc.c.id,
            *conditions(row_predicates(cb, shape), lambda name: not name.startswith("slo_")),
            *(_near(cb.c[name], ref) for name, ref in defaults.items()),
        )
        .scalar_subquery()
    )
    score = score_of(best, shape.metric)
    # Without a GPU count every size competes per GPU (what serves most on the host).
    rank = score / sc.c.gpu_count if shape.gpus != "exact" else score
    named = predicates(shape, r, sc, best)
    joined = (r.outerjoin if shape.explain else r.join)(sc, sc.c.recipe_pk == r.c.id)
    columns = [
        *(r.c[name] for name in ("recipe_id", "model_id", "huggingface_id", "hardware", "precision")),
        *(r.c[name] for name in ("status", "retired_reason", "retired_on")),
        sc.c.id.label("serve_config_id"),
        *(sc.c[name] for name in ("backend", "gpu_count", "enabled", "args", "env", "image", "setup")),
        *(sc.c[name] for name in ("goal", "profile_type", "manual_only")),
        score.label("score"),
        best.c.id.label("best_id"),
        best.c[DEFAULT_METRIC].label("best_output_throughput"),
        *(best.c[name].label(f"best_{name}") for name in PROVENANCE),
        *(ref.label(f"scenario_{name}") for name, ref in defaults.items()),
        curve.label("curve"),
    ]
    if shape.explain:  # the precision check is logged for a pinned recipe too
        logged = dict(predicates(replace(shape, pinned=False), r, sc) + named)
        columns += flag_columns(list(logged.items()))
    query = (
        select(*columns)
        .select_from(joined.outerjoin(best, on_best))
        .order_by(*_order(shape, rank), r.c.recipe_id, sc.c.gpu_count, sc.c.backend)
    )
    if shape.explain:
        return query.where(*conditions(named, lambda name: name == "model"))  # every config of the model
    return query.where(and_(*conditions(named)))  # every candidate: compare reads their curves


def _curve_column(table: Any, name: str, metric: str) -> ColumnElement[Any]:
    """A field of ``curves.CURVE_COLUMNS`` on a benchmark row: "score" is the ranking metric.
    A figure that is not finite (a legacy infinite row) is NULL: JSON has no infinity, and
    an infinite figure is no measurement."""
    column: ColumnElement[Any] = score_of(table, metric) if name == "score" else table.c[name]
    if name in FIGURES:
        return case((column.between(-_FINITE, _FINITE), column))
    return column


def query_of(request: Request, dialect: str, *, explain: bool) -> tuple[Select[Any], dict[str, Any]]:
    shape = shape_of(request, dialect, explain)
    return statement(shape), params_of(request, shape)


def selection_query(request: Request, dialect: str) -> Select[Any]:
    """The select statement with this request's values bound (for EXPLAIN and the harness)."""
    query, params = query_of(request, dialect, explain=False)
    return query.params(**params)


def candidate_of(row: Any, request: Request) -> Candidate:
    """A row of ``statement`` as the candidate it describes."""
    metric = None
    benchmark = None
    if row.score is not None:
        metric = request.metric
        if request.metric == DEFAULT_METRIC and row.best_output_throughput is None:
            metric = FALLBACK_METRIC
        benchmark = {name: getattr(row, f"best_{name}") for name in PROVENANCE}
    host = request.host
    replicas = host // row.gpu_count if host else None
    defaults = [name for name in SCENARIO_LENGTHS if getattr(request, name) is None]
    scenario = {
        name: getattr(request, name) if name not in defaults else getattr(row, f"scenario_{name}", None)
        for name in SCENARIO_LENGTHS
    }
    return Candidate(
        recipe_id=row.recipe_id,
        model_id=row.model_id,
        huggingface_id=row.huggingface_id,
        hardware=row.hardware,
        precision=row.precision,
        backend=row.backend,
        gpu_count=row.gpu_count,
        enabled=bool(row.enabled),
        args=dict(row.args or {}),
        env=dict(row.env or {}),
        image=row.image,
        setup=tuple(row.setup or ()),
        metric=metric,
        score=row.score,
        benchmark=benchmark,
        serve_config_id=row.serve_config_id,
        per_gpu=None if row.score is None else row.score / row.gpu_count,
        replicas=replicas,
        host_gpus=host,
        host_total=None if row.score is None or replicas is None else replicas * row.score,
        goal=row.goal,
        profile_type=row.profile_type,
        scenario={**scenario, "default": defaults},
        status=row.status,
        retired_reason=row.retired_reason,
        retired_on=row.retired_on.isoformat() if row.retired_on else None,
    )
