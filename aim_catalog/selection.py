"""Choosing the best serve config for a request: one indexed SQL query, plus explain.

The query filters recipes by (huggingface_id, precision[, hardware]) on their index, walks
to the serve configs through the unique (recipe, backend, gpu_count) index, and attaches
each config's best benchmark row (an index lookup per config). It orders by that row's
metric, configs without a benchmark last, then recipe_id, GPU count and backend, so the
answer is deterministic. ``explain`` runs the same ordering over every config of the
model and says why each recipe lost.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Union

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Select,
    and_,
    bindparam,
    case,
    false,
    func,
    or_,
    select,
    true,
)

from aim_catalog import tables
from aim_catalog.errors import NoSuitableRecipe, UsageProblem
from aim_catalog.settings import (
    BACKEND_LABELS,
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_LENGTH_TOLERANCE,
    DEFAULT_METRIC,
    DEFAULT_PRECISION,
    FALLBACK_METRIC,
    RANK_METRICS,
    normalize_precision,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# A Session or a Connection: the select path runs on a plain Connection, without the ORM.
Executor = Union["Session", Connection]


def _dialect(executor: Executor) -> str:
    bind = executor.get_bind() if hasattr(executor, "get_bind") else executor
    return str(bind.dialect.name)


_PROVENANCE = (
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


@dataclass(frozen=True)
class Request:
    model: str
    gpus: int | None = None
    precision: str = DEFAULT_PRECISION
    backend: str = DEFAULT_BACKEND  # or "any"
    # The backend was not asked for: a model with no config of the default backend at all
    # is then served by the best of the backends it has (the default names no preference).
    backend_defaulted: bool = False
    hardware: str | None = None  # None: no hardware filter
    hardware_detected: bool = False  # the filter is this host's GPU model, not --hardware
    metric: str = DEFAULT_METRIC
    max_gpus: int | None = None  # with gpus=None: only counts that fit compete
    # Scenario: only benchmark rows of this scenario count. Lengths match rows whose mean
    # lengths are within length_tolerance (a fraction) of the asked ones.
    input_len: int | None = None
    output_len: int | None = None
    concurrency: int | None = None
    # Rows at this request rate (requests/s) rank; None: only rows at unlimited rate, which
    # measure what a config can do (a rate-capped run's throughput is set by its rate).
    request_rate: float | None = None
    length_tolerance: float = DEFAULT_LENGTH_TOLERANCE
    # The host's GPUs, for replicas (None: max_gpus, the detected count).
    host_gpus: int | None = None
    # SLOs (milliseconds, p99 where the row has it, else p50): a config needs a row that
    # meets all of them; a row without the metric does not.
    max_ttft_ms: float | None = None
    max_tpot_ms: float | None = None
    max_e2el_ms: float | None = None
    # AIM profiles (issue 10): prefer configs tuned for this goal; pin one recipe (which may
    # then be a manual-selection-only one, and ignores the precision filter).
    goal: str | None = None  # latency | throughput
    recipe: str | None = None

    @property
    def scenario(self) -> dict[str, int]:
        pairs = (
            ("input_len", self.input_len),
            ("output_len", self.output_len),
            ("concurrency", self.concurrency),
        )
        return {k: v for k, v in pairs if v is not None}

    @property
    def slo(self) -> dict[str, float]:
        pairs = (("ttft", self.max_ttft_ms), ("tpot", self.max_tpot_ms), ("e2el", self.max_e2el_ms))
        return {k: v for k, v in pairs if v is not None}

    @property
    def per_gpu(self) -> bool:
        """Without a GPU count, configs of every size compete by throughput per GPU."""
        return self.gpus is None

    @property
    def host(self) -> int | None:
        return self.host_gpus if self.host_gpus is not None else self.max_gpus

    def __post_init__(self) -> None:
        object.__setattr__(self, "precision", normalize_precision(self.precision))
        if self.model == _general_model():
            raise UsageProblem(
                f"{self.model} is not a model: it holds AMD AIM's general profiles, which answer only "
                "for models no recipe names; ask for a Hugging Face model id"
            )
        if not 0 <= self.length_tolerance < 1 or math.isnan(self.length_tolerance):
            raise UsageProblem(f"length tolerance must be from 0 to below 1, got {self.length_tolerance}")
        if self.request_rate is not None and not (0 < self.request_rate < math.inf):
            raise UsageProblem(f"request rate must be a positive number, got {self.request_rate}")
        if self.backend != "any" and self.backend not in BACKENDS:
            raise UsageProblem(f"unknown backend {self.backend!r}; choose {', '.join(BACKENDS)} or any")
        if self.metric not in RANK_METRICS:
            raise UsageProblem(f"unknown metric {self.metric!r}; choose one of {', '.join(RANK_METRICS)}")
        if self.gpus is not None and self.gpus < 1:
            raise UsageProblem(f"GPU count must be a positive integer, got {self.gpus}")
        if self.goal is not None:
            from aim_catalog.aim_profiles import GOALS  # only when a goal is asked

            if self.goal not in GOALS:
                raise UsageProblem(f"unknown goal {self.goal!r}; choose {' or '.join(GOALS)}")


@dataclass(frozen=True)
class Candidate:
    recipe_id: str
    model_id: str
    huggingface_id: str
    hardware: str
    precision: str
    backend: str
    gpu_count: int
    enabled: bool
    args: dict[str, Any]
    env: dict[str, Any]
    image: str | None
    metric: str | None  # the column the score came from (None: no benchmark)
    score: float | None
    benchmark: dict[str, Any] | None
    serve_config_id: int | None = None
    per_gpu: float | None = None  # score / gpu_count
    replicas: int | None = None  # copies that fit the host's GPUs (None: unknown host)
    host_gpus: int | None = None
    host_total: float | None = None  # replicas x score
    goal: str | None = None  # what the config was tuned for (AIM profile metric), if said
    profile_type: str | None = None  # optimized | preview | unoptimized | general (AIM)
    fallback: bool = False  # a general AIM profile answered: no recipe names the model
    any_backend: bool = False  # the backend was not asked and the model has no config of the default
    # The lengths rows were compared at: the asked ones, or (named in "default") the most
    # common scenario among the candidates; None: no row had lengths.
    scenario: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _score(table: Any, metric: str) -> ColumnElement[Any]:
    if metric == DEFAULT_METRIC:
        return func.coalesce(table.c[DEFAULT_METRIC], table.c[FALLBACK_METRIC])
    column: ColumnElement[Any] = table.c[metric]
    return column


# Built once: aliasing a table copies all its columns, which costs more than the query.
_INNER = tables.benchmarks.alias("b")
_BEST_ROW = tables.benchmarks.alias("best")
_SCEN_R = tables.recipes.alias("scen_r")
_SCEN_SC = tables.serve_configs.alias("scen_sc")
_SCEN_B = tables.benchmarks.alias("scen_b")
SCENARIO_LENGTHS = ("input_len", "output_len")


def _default_scenario(shape: _Shape) -> dict[str, Any]:
    """Without --input-len/--output-len, rows of one workload rank: the (nominal, else mean)
    input/output lengths that the most candidate configs have a comparable row for; ties go
    to the lengths most of the model's enabled configs have rows for, then to more rows,
    then to the shorter lengths. One scalar subquery per length, uncorrelated (the database
    runs it once), over the model's rows found through the same indexes as the candidates."""
    r, sc, b = _SCEN_R, _SCEN_SC, _SCEN_B
    keys = {name: func.coalesce(b.c[f"nominal_{name}"], b.c[name]) for name in SCENARIO_LENGTHS}
    candidate = case((and_(*_filters(shape, r, sc)), sc.c.id))
    base = (
        select(*(key.label(name) for name, key in keys.items()))
        .select_from(r.join(sc, sc.c.recipe_pk == r.c.id).join(b, b.c.serve_config_id == sc.c.id))
        .where(
            r.c.huggingface_id == bindparam("model"),
            sc.c.enabled,
            _score(b, shape.metric).is_not(None),
            *_row_conditions(b, shape),
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


@dataclass(frozen=True)
class _Shape:
    """What decides the SQL text of a request; its values travel as bound parameters."""

    dialect: str
    explain: bool
    metric: str
    hardware: bool
    backend: bool
    gpus: str  # "exact" | "max" | ""
    scenario: tuple[str, ...]
    slo: tuple[str, ...]
    rate: bool  # a request rate was asked (else: unlimited-rate rows only)
    goal: bool = False  # configs tuned for the asked goal rank first
    pinned: bool = False  # one recipe_id: manual-selection-only configs allowed

    @property
    def defaults(self) -> tuple[str, ...]:
        """The lengths not asked: they take the candidates' most common scenario."""
        return tuple(name for name in SCENARIO_LENGTHS if name not in self.scenario)


def _shape(request: Request, dialect: str, explain: bool) -> _Shape:
    gpus = "exact" if request.gpus is not None else ("max" if request.max_gpus is not None else "")
    return _Shape(
        dialect,
        explain,
        request.metric,
        request.hardware is not None,
        request.backend != "any",
        gpus,
        tuple(request.scenario),
        tuple(request.slo),
        request.request_rate is not None,
        goal=request.goal is not None,
        pinned=request.recipe is not None,
    )


def _params(request: Request, shape: _Shape) -> dict[str, Any]:
    params: dict[str, Any] = {"model": request.model}
    if shape.goal:
        params["goal"] = request.goal
    if shape.pinned and not shape.explain:
        params["recipe"] = request.recipe  # (explain: only the default scenario uses it)
    params.update(_scenario_params(request))
    params.update({f"slo_{k}": v for k, v in request.slo.items()})
    if shape.defaults:
        params["length_tolerance"] = request.length_tolerance
        if shape.pinned:
            params["recipe"] = request.recipe
    if not shape.explain or shape.defaults:  # the default scenario's subquery filters as select
        if not shape.pinned:
            params["precision"] = request.precision
        if shape.hardware:
            params["hardware"] = (request.hardware or "").upper()
        if shape.backend:
            params["backend"] = request.backend
        if shape.gpus:
            params["gpus"] = request.gpus if shape.gpus == "exact" else request.max_gpus
    return params


@functools.lru_cache(maxsize=128)
def _statement(shape: _Shape) -> Select[Any]:
    r = tables.recipes
    sc = tables.serve_configs
    inner = _INNER
    inner_score = _score(inner, shape.metric)
    defaults = _default_scenario(shape)
    best_of_config = (
        select(inner)
        .where(
            inner.c.serve_config_id == sc.c.id,
            inner_score.is_not(None),
            *_row_conditions(inner, shape),
            *(_near(inner.c[name], ref) for name, ref in defaults.items()),
        )
        .order_by(inner_score.desc(), inner.c.id)
        .limit(1)
    )
    if shape.dialect == "postgresql":
        best = best_of_config.lateral("best")
        on_best: ColumnElement[bool] = true()
    else:  # SQLite has no LATERAL; a correlated scalar subquery picks the row's id instead
        best = _BEST_ROW  # type: ignore[assignment]
        on_best = best.c.id == best_of_config.with_only_columns(inner.c.id).scalar_subquery()
    score = _score(best, shape.metric)
    # Without a GPU count every size competes per GPU (what serves most on the host).
    rank = score / sc.c.gpu_count if shape.gpus != "exact" else score
    joined = (r.outerjoin if shape.explain else r.join)(sc, sc.c.recipe_pk == r.c.id)
    query = (
        select(
            r.c.recipe_id,
            r.c.model_id,
            r.c.huggingface_id,
            r.c.hardware,
            r.c.precision,
            sc.c.id.label("serve_config_id"),
            sc.c.backend,
            sc.c.gpu_count,
            sc.c.enabled,
            sc.c.args,
            sc.c.env,
            sc.c.image,
            sc.c.goal,
            sc.c.profile_type,
            sc.c.manual_only,
            score.label("score"),
            best.c.id.label("best_id"),
            best.c[DEFAULT_METRIC].label("best_output_throughput"),
            *(best.c[name].label(f"best_{name}") for name in _PROVENANCE),
            *(ref.label(f"scenario_{name}") for name, ref in defaults.items()),
        )
        .select_from(joined.outerjoin(best, on_best))
        .where(r.c.huggingface_id == bindparam("model"))
        .order_by(*_order(shape, rank), r.c.recipe_id, sc.c.gpu_count, sc.c.backend)
    )
    if not shape.explain:
        query = query.where(and_(*_filters(shape))).limit(1)
        if shape.slo:  # an SLO is a constraint: the config must have a row that meets it
            query = query.where(best.c.id.is_not(None))
    return query


def _slo_value(table: Any, name: str) -> ColumnElement[Any]:
    return func.coalesce(table.c[f"{name}_ms_p99"], table.c[f"{name}_ms_p50"])


def _row_conditions(table: Any, shape: _Shape) -> list[ColumnElement[bool]]:
    """Which benchmark rows count: comparable ones (no failed requests, not a smoke test,
    unlimited rate unless a rate is asked) of the asked scenario, meeting every SLO."""
    conditions = _comparable(table, shape.rate)
    for column in shape.scenario:
        if column == "concurrency":
            conditions.append(table.c[column] == bindparam(f"scenario_{column}"))
        else:  # lengths within the tolerance
            lo: Any = bindparam(f"scenario_{column}_lo")
            hi: Any = bindparam(f"scenario_{column}_hi")
            conditions.append(table.c[column].between(lo, hi))
    conditions += [_slo_value(table, name) <= bindparam(f"slo_{name}") for name in shape.slo]
    return conditions


def _comparable(table: Any, rate: bool) -> list[ColumnElement[bool]]:
    """Rows that rank: the same rule as the views' (migration 0005)."""
    conditions: list[ColumnElement[bool]] = [
        func.coalesce(table.c.failed, 0) == 0,
        table.c.origin != "smoke",  # `aim-catalog test --save` rows never outrank a benchmark
    ]
    if rate:
        conditions.append(table.c.request_rate.between(bindparam("rate_lo"), bindparam("rate_hi")))
    else:
        conditions.append(table.c.request_rate.is_(None))
    return conditions


def _scenario_params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for column, value in request.scenario.items():
        if column == "concurrency":
            params[f"scenario_{column}"] = value
        else:
            lo, hi = length_window(value, request.length_tolerance)
            params[f"scenario_{column}_lo"], params[f"scenario_{column}_hi"] = lo, hi
    if request.request_rate is not None:
        params["rate_lo"] = request.request_rate * (1 - 1e-6)
        params["rate_hi"] = request.request_rate * (1 + 1e-6)
    return params


def length_window(value: int, tolerance: float) -> tuple[int, int]:
    """The mean lengths that match an asked length: within ``tolerance`` of it, inclusive."""
    return math.ceil(round(value * (1 - tolerance), 6)), math.floor(round(value * (1 + tolerance), 6))


def _order(shape: _Shape, rank: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """Goal first (when asked), then the score, then the AIM profile type: without a
    benchmark, optimized (and plain recipes) before preview before unoptimized."""
    sc = tables.serve_configs
    order: list[ColumnElement[Any]] = []
    if shape.goal:
        order.append(case((sc.c.goal == bindparam("goal"), 0), else_=1))
    order.append(rank.desc().nulls_last())
    order.append(case({"preview": 1, "unoptimized": 2, "general": 3}, value=sc.c.profile_type, else_=0))
    return order


def _filters(
    shape: _Shape, r: Any = tables.recipes, sc: Any = tables.serve_configs
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [sc.c.enabled]
    if shape.pinned:  # like AIM_PROFILE_ID: that recipe, even a manual-selection-only one
        conditions.append(r.c.recipe_id == bindparam("recipe"))
    else:
        conditions += [r.c.precision == bindparam("precision"), sc.c.manual_only.is_(false())]
    if shape.hardware:
        conditions.append(r.c.hardware == bindparam("hardware"))
    if shape.backend:
        conditions.append(sc.c.backend == bindparam("backend"))
    if shape.gpus == "exact":
        conditions.append(sc.c.gpu_count == bindparam("gpus"))
    elif shape.gpus == "max":
        conditions.append(sc.c.gpu_count <= bindparam("gpus"))
    return conditions


def _query(request: Request, dialect: str, *, explain: bool) -> tuple[Select[Any], dict[str, Any]]:
    shape = _shape(request, dialect, explain)
    return _statement(shape), _params(request, shape)


def selection_query(request: Request, dialect: str) -> Select[Any]:
    """The select statement with this request's values bound (for EXPLAIN and the harness)."""
    statement, params = _query(request, dialect, explain=False)
    return statement.params(**params)


def _candidate(row: Any, request: Request) -> Candidate:
    metric = None
    benchmark = None
    if row.score is not None:
        metric = request.metric
        if request.metric == DEFAULT_METRIC and row.best_output_throughput is None:
            metric = FALLBACK_METRIC
        benchmark = {name: getattr(row, f"best_{name}") for name in _PROVENANCE}
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
    )


def select_best(session: Executor, request: Request) -> Candidate:
    """The winning config, or ``NoSuitableRecipe`` listing what the model supports."""
    dialect = _dialect(session)
    if log.isEnabledFor(logging.DEBUG):
        explain(session, request)  # logs every match check, as the seed design's debug mode
    statement, params = _query(request, dialect, explain=False)
    row = session.execute(statement, params).first()
    fallback = False
    if row is None and _general_fallback(session, request):
        # No recipe names the model: a general AIM profile may serve it (as AIM falls back).
        row = session.execute(statement, {**params, "model": _general_model()}).first()
        fallback = row is not None
    if row is None and _without_default_backend(session, request):
        return replace(select_best(session, replace(request, backend="any")), any_backend=True)
    if row is None:
        raise NoSuitableRecipe(no_match_message(session, request))
    chosen = _candidate(row, request)
    if fallback:
        chosen = replace(chosen, model_id=request.model, huggingface_id=request.model, fallback=True)
    log.info("Selected recipe: %s", chosen.recipe_id)
    return chosen


def goal_note(request: Request, chosen: Candidate) -> str | None:
    """With --goal, when no candidate declares that goal (the goal orders first, so the
    winner would have it): the goal did not change the answer, say so."""
    if request.goal is None or chosen.goal == request.goal:
        return None
    return (
        f"no candidate config declares the goal {request.goal} (AIM profiles do; recipes may set "
        "'goal'): --goal did not change the choice"
    )


def _without_default_backend(session: Executor, request: Request) -> bool:
    """The backend was left to its default and the model has recipes, none with that backend
    (asked only after a miss, so the select path stays one query)."""
    if not request.backend_defaulted or request.backend == "any":
        return False
    backends = {c.backend for c in configurations(session, request.model)}
    return bool(backends) and request.backend not in backends


def resolve_backend(session: Executor, request: Request) -> Request:
    """The request as selection answers it: any backend when the default one has no config."""
    return replace(request, backend="any") if _without_default_backend(session, request) else request


def _general_model() -> str:
    from aim_catalog.aim_profiles import GENERAL_MODEL  # off the select path: only on a miss

    return GENERAL_MODEL


def _general_fallback(session: Executor, request: Request) -> bool:
    """General profiles answer only when no recipe names the model."""
    return request.model != _general_model() and not configurations(session, request.model)


def no_match_message(session: Executor, request: Request) -> str:
    """The seed's message and supported configurations, plus a hint when the hardware filter,
    not the configurations, is what ruled every recipe out."""
    model = request.model
    configs = configurations(session, model)
    text = f"No suitable recipe found for {model}"
    if request.recipe is not None and request.recipe not in {c.recipe_id for c in configs}:
        r = tables.recipes
        owner = session.execute(select(r.c.huggingface_id).where(r.c.recipe_id == request.recipe)).scalar()
        if owner is None:
            text += f" (no such recipe: {request.recipe}; `aim-catalog list-recipes` shows the catalog's)"
        else:
            text += f" (the pinned recipe {request.recipe} is one of {owner}'s, not {model}'s)"
    if not configs:
        return (
            text + f"\n(the catalog has no recipe for {model}; `aim-catalog list-recipes` shows what it has)"
        )
    text += "\n" + "\n".join(supported_configurations(session, model))
    if request.hardware is not None:
        wanted = request.hardware.upper()
        kinds = sorted({c.hardware for c in configs})
        if wanted not in kinds:
            text += (
                f"\n(hardware {wanted} was required, from this host's GPUs or --hardware; this model's "
                f"recipes are for {', '.join(kinds)}: --hardware any lifts the filter)"
            )
    return text


@dataclass(frozen=True)
class Verdict:
    recipe_id: str
    backend: str | None
    gpu_count: int | None
    verdict: str  # chosen | ranked | rejected
    reason: str
    score: float | None
    metric: str | None
    # The image the config would launch with: its own, else the default for its recipe's
    # hardware (images.py); None for a recipe rejected as a whole.
    image: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _launch_image(row: Any) -> str | None:
    """The config's own image, else the default for its backend on the recipe's GPUs."""
    from aim_catalog import images  # explain only: images.json is not read on the select path

    return row.image or images.default_image(row.backend, row.hardware)


def explain(session: Executor, request: Request) -> list[Verdict]:
    """Every recipe of the model with its verdict: chosen, ranked k of n, or why not."""
    request = resolve_backend(session, request)
    dialect = _dialect(session)
    statement, params = _query(request, dialect, explain=True)
    rows = session.execute(statement, params).all()
    fallback = not rows and _general_fallback(session, request)
    if fallback:
        rows = session.execute(statement, {**params, "model": _general_model()}).all()
    by_recipe: dict[str, list[Any]] = {}
    for row in rows:
        by_recipe.setdefault(row.recipe_id, []).append(row)
    eligible = [row for row in rows if row.backend is not None and _passes(row, request)]
    candidates = [row for row in eligible if not request.slo or row.best_id is not None]
    missed_slo = [row for row in eligible if request.slo and row.best_id is None]
    verdicts: list[Verdict] = []
    winner = _candidate(candidates[0], request) if candidates else None
    # Rows outside the scenario chosen from the data are "of other lengths" too.
    chosen_lengths = {
        k: v for k, v in ((winner.scenario or {}) if winner else {}).items() if k in SCENARIO_LENGTHS
    }
    unranked = _unranked_rows(
        session,
        [row.serve_config_id for row in candidates if row.best_id is None],
        replace(request, **{k: v for k, v in chosen_lengths.items() if v is not None}),
    )
    ranked = [_candidate(row, request) for row in candidates]
    for rank, row in enumerate(candidates, start=1):
        found = ranked[rank - 1]
        after = ranked[rank - 2] if rank > 1 else (ranked[1] if len(ranked) > 1 else None)
        reason = _rank_reason(rank, len(candidates), found, after, request)
        if row.serve_config_id in unranked:  # it has rows, none of them comparable: say why
            reason = reason.replace("no benchmark", unranked[row.serve_config_id], 1)
        verdicts.append(
            Verdict(
                row.recipe_id,
                row.backend,
                row.gpu_count,
                "chosen" if rank == 1 else "ranked",
                reason,
                found.score,
                found.metric,
                _launch_image(row),
            )
        )
    slo_reasons = _slo_reasons(session, [row.serve_config_id for row in missed_slo], request)
    for row in missed_slo:
        reason = slo_reasons[row.serve_config_id]
        verdicts.append(
            Verdict(
                row.recipe_id, row.backend, row.gpu_count, "rejected", reason, None, None, _launch_image(row)
            )
        )
    explained = {row.recipe_id for row in eligible}
    for recipe_id in sorted(by_recipe):
        if recipe_id not in explained:
            reason = _rejection(by_recipe[recipe_id], request)
            verdicts.append(
                Verdict(
                    recipe_id,
                    None if request.backend == "any" else request.backend,
                    request.gpus,
                    "rejected",
                    reason,
                    None,
                    None,
                )
            )
    if log.isEnabledFor(logging.DEBUG):
        _log_checks(by_recipe, request)
    if fallback:
        note = f"general AIM profile, a fallback: no recipe names {request.model}; "
        verdicts = [replace(v, reason=note + v.reason) for v in verdicts]
    return verdicts


def _slo_reasons(session: Executor, config_ids: list[int], request: Request) -> dict[int, str]:
    """Why each config has no benchmark row meeting the SLOs (explain only: a second query)."""
    if not config_ids:
        return {}
    b = tables.benchmarks
    shape = _shape(request, _dialect(session), explain=True)
    conditions = _row_conditions(b, shape)
    scenario = conditions[: len(conditions) - len(shape.slo)]  # the SLO is what is explained
    rows = session.execute(
        select(b).where(b.c.serve_config_id.in_(config_ids), *scenario), _scenario_params(request)
    ).all()
    by_config: dict[int, list[Any]] = {}
    for row in rows:
        by_config.setdefault(row.serve_config_id, []).append(row)
    reasons = {}
    for config in config_ids:
        found = by_config.get(config, [])
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


def _unranked_rows(session: Executor, config_ids: list[int], request: Request) -> dict[int, str]:
    """For configs with benchmark rows of which none ranks: why not (explain only)."""
    if not config_ids:
        return {}
    b = tables.benchmarks
    rows = session.execute(select(b).where(b.c.serve_config_id.in_(config_ids))).all()
    why: dict[int, dict[str, int]] = {}
    for row in rows:
        if row.failed:
            cause = "with failed requests"
        elif row.origin == "smoke":
            cause = "smoke tests"
        elif row.request_rate != request.request_rate:
            cause = "at unlimited rate" if row.request_rate is None else "at another request rate"
        elif request.concurrency is not None and row.concurrency != request.concurrency:
            cause = "at another concurrency"
        elif any(
            not _within(getattr(row, column), asked, request.length_tolerance)
            for column, asked in (("input_len", request.input_len), ("output_len", request.output_len))
            if asked is not None
        ):
            cause = "of other lengths"
        else:
            cause = f"without {request.metric}"
        counts = why.setdefault(row.serve_config_id, {})
        counts[cause] = counts.get(cause, 0) + 1
    return {
        config: f"no comparable benchmark ({', '.join(f'{n} {cause}' for cause, n in counts.items())})"
        for config, counts in why.items()
    }


def _within(value: int | None, asked: int, tolerance: float) -> bool:
    lo, hi = length_window(asked, tolerance)
    return value is not None and lo <= value <= hi


def _slo_misses(row: Any, request: Request) -> list[str]:
    out = []
    for name, limit in request.slo.items():
        p99, p50 = getattr(row, f"{name}_ms_p99"), getattr(row, f"{name}_ms_p50")
        value, label = (p99, "p99") if p99 is not None else (p50, "p50")
        if value is None:
            out.append(f"no {name} figure (limit {limit:g} ms)")
        elif value > limit:
            out.append(f"{name} {label} {value:g} ms > {limit:g} ms")
    return out


def _scenario_text(request: Request) -> str:
    return ", ".join(f"{k} {v}" for k, v in request.scenario.items())


def _passes(row: Any, request: Request) -> bool:
    if request.recipe is not None:  # pinned: that recipe, whatever its precision
        return (
            row.recipe_id == request.recipe
            and (request.hardware is None or row.hardware == request.hardware.upper())
            and (request.backend == "any" or row.backend == request.backend)
            and _gpu_fits(row.gpu_count, request)
            and bool(row.enabled)
        )
    return (
        row.precision == request.precision
        and (request.hardware is None or row.hardware == request.hardware.upper())
        and (request.backend == "any" or row.backend == request.backend)
        and _gpu_fits(row.gpu_count, request)
        and bool(row.enabled)
        and not row.manual_only
    )


def _gpu_fits(count: int, request: Request) -> bool:
    if request.gpus is not None:
        return bool(count == request.gpus)
    return request.max_gpus is None or count <= request.max_gpus


def _label(backend: str) -> str:
    return BACKEND_LABELS.get(backend, backend)


_PROFILE_ORDER = {"preview": 1, "unoptimized": 2, "general": 3}  # as _order's CASE


def order_keys(request: Request) -> str:
    """The ORDER BY of the selection query (``_statement``/``_order``), in words."""
    keys = [f"goal {request.goal}"] if request.goal else []
    keys += ["benchmark " + ("per GPU" if request.per_gpu else "score"), "AIM profile type"]
    return ", then ".join([*keys, "recipe_id, GPU count, backend"])


def _decider(first: Candidate, then: Candidate, request: Request) -> str | None:
    """The first key of the query's ORDER BY on which ``first`` came before ``then`` (None:
    the benchmark score, which the reason already shows)."""
    if request.goal and (first.goal == request.goal) != (then.goal == request.goal):
        return f"goal (tuned for {request.goal})"
    key = "per_gpu" if request.per_gpu else "score"
    if getattr(first, key) != getattr(then, key):
        return None
    kinds = (_PROFILE_ORDER.get(first.profile_type or "", 0), _PROFILE_ORDER.get(then.profile_type or "", 0))
    if kinds[0] != kinds[1]:
        return f"AIM profile type ({first.profile_type or 'recipe'} before {then.profile_type})"
    if first.recipe_id != then.recipe_id:
        return "recipe_id"
    if first.gpu_count != then.gpu_count:
        return "GPU count"
    return "backend"


def _rank_reason(rank: int, total: int, found: Candidate, other: Candidate | None, request: Request) -> str:
    """``other``: the runner-up for the winner, else the config ranked just above."""
    where = f"{_label(found.backend)} {found.gpu_count} GPU"
    tail = "no benchmark" if found.score is None else f"{found.metric} {found.score:g}"
    if request.per_gpu and found.per_gpu is not None:
        tail += f" = {found.per_gpu:g} per GPU"
    tail += _measured(found.benchmark)
    if rank == 1:
        key = _decider(found, other, request) if other is not None else None
        extra = ""
        if key and other is not None:
            extra = f"; before {other.recipe_id} ({_label(other.backend)} {other.gpu_count} GPU) by {key}"
        if request.goal and found.goal != request.goal:
            extra += f"; no candidate declares the goal {request.goal}"
        return f"chosen: {where}, {tail}{extra} (best of {total})"
    assert other is not None
    key = _decider(other, found, request)
    if key and key.startswith("goal"):  # the goal comes before the score: no tie
        tail += f" (after {other.recipe_id}, which is tuned for the goal {request.goal})"
    elif key:
        tail += f" (tie; {key} after {other.recipe_id}"
        tail += f" {_label(other.backend)} {other.gpu_count} GPU)" if key in ("GPU count", "backend") else ")"
    return f"ranked {rank} of {total}: {where}, {tail}"


def _measured(bench: dict[str, Any] | None) -> str:
    """The lengths the ranking row really had (and what its client was asked for)."""
    if not bench or bench.get("input_len") is None or bench.get("output_len") is None:
        return ""
    text = f"; row measured {bench['input_len']} in / {bench['output_len']} out tokens per request"
    asked = (bench.get("nominal_input_len"), bench.get("nominal_output_len"))
    if any(asked) and asked != (bench["input_len"], bench["output_len"]):
        text += f" (asked {asked[0] or '-'}/{asked[1] or '-'})"
    if bench.get("dataset"):
        text += f", {bench['dataset']}"
    return text


def _rejection(rows: list[Any], request: Request) -> str:
    first = rows[0]
    if request.recipe is not None and first.recipe_id != request.recipe:
        return f"not the pinned recipe ({request.recipe})"
    if first.precision != request.precision and request.recipe is None:
        return f"precision mismatch: recipe is {first.precision}, asked {request.precision}"
    if request.hardware is not None and first.hardware != request.hardware.upper():
        wanted = request.hardware.upper()
        said = f"host has {wanted}" if request.hardware_detected else f"--hardware asks for {wanted}"
        return f"hardware mismatch: recipe is for {first.hardware}, {said}"
    configured = [row for row in rows if row.backend is not None]
    if request.recipe is None and configured and all(row.manual_only for row in configured):
        return f"manual selection only (an AIM profile): pin it with --recipe {first.recipe_id}"
    configs = [row for row in rows if row.backend is not None]
    if request.backend != "any":
        configs = [row for row in configs if row.backend == request.backend]
        if not configs:
            return f"no such backend: the recipe has no {request.backend}_serve configs"
    counts = sorted({row.gpu_count for row in configs})
    fitting = [row for row in configs if _gpu_fits(row.gpu_count, request)]
    if not fitting:
        have = ", ".join(map(str, counts)) or "none"
        if request.gpus is not None:
            return f"no {request.gpus}-GPU config (has {have})"
        return f"no config fits {request.max_gpus} free GPU(s) (has {have})"
    where = ", ".join(f"{_label(row.backend)} {row.gpu_count} GPU" for row in fitting)
    return f"disabled: {where}"


def _log_checks(by_recipe: dict[str, list[Any]], request: Request) -> None:
    for recipe_id, rows in sorted(by_recipe.items()):
        first = rows[0]
        log.debug("Checking recipe %s", recipe_id)
        log.debug("Model match: True")
        log.debug("Precision match: %s", first.precision == request.precision)
        if request.hardware is not None:
            log.debug("Hardware match: %s", first.hardware == request.hardware.upper())
        backend_rows = [r for r in rows if r.backend is not None and request.backend in ("any", r.backend)]
        log.debug("Backend match: %s", bool(backend_rows))
        fitting = [r for r in backend_rows if _gpu_fits(r.gpu_count, request)]
        log.debug("GPU count match: %s", bool(fitting))
        log.debug("Enabled: %s", any(bool(r.enabled) for r in fitting))


@dataclass(frozen=True)
class ConfigLine:
    recipe_id: str
    hardware: str
    precision: str
    backend: str
    gpu_count: int
    enabled: bool
    manual_only: bool = False  # an AIM profile chosen only when pinned (--recipe)


def configurations(session: Executor, model: str) -> list[ConfigLine]:
    r, sc = tables.recipes, tables.serve_configs
    rows = session.execute(
        select(
            r.c.recipe_id,
            r.c.hardware,
            r.c.precision,
            sc.c.backend,
            sc.c.gpu_count,
            sc.c.enabled,
            sc.c.manual_only,
        )
        .select_from(r.join(sc, sc.c.recipe_pk == r.c.id))
        .where(r.c.huggingface_id == model)
    ).all()
    order = {name: i for i, name in enumerate(BACKENDS)}
    lines = [ConfigLine(*row[:6], manual_only=bool(row.manual_only)) for row in rows]
    return sorted(lines, key=lambda c: (order.get(c.backend, 99), c.precision, c.gpu_count, c.recipe_id))


def supported_configurations(session: Executor, model: str) -> list[str]:
    """The seed design's lines: ``- 4 GPU, bf16, vLLM: ✅ Enabled`` (one per distinct config);
    a config enabled only as manual-selection-only AIM profiles says ``(only with --recipe)``."""
    merged: dict[tuple[str, str, int], tuple[bool, bool]] = {}
    for c in configurations(session, model):
        key = (c.backend, c.precision, c.gpu_count)
        automatic, pinned = merged.get(key, (False, False))
        merged[key] = (automatic or (c.enabled and not c.manual_only), pinned or c.enabled)
    if not merged:
        return []
    lines = [f"{model} supported configurations:"]
    for (backend, precision, gpus), (automatic, enabled) in merged.items():
        state = "✅ Enabled" if automatic else "✅ Enabled (only with --recipe)" if enabled else "❌ Disabled"
        lines.append(f"- {gpus} GPU, {precision}, {_label(backend)}: {state}")
    return lines


def server_argv(args: dict[str, Any]) -> list[str]:
    """Recipe args as argv: ``"true"``/true/null give a bare flag, ``"false"``/false drop it.

    A dotted key (vLLM's ``-cc.pass_config.x``, ``-O.x``, ``--compilation-config.x``) is always
    ``key=value``: vLLM's FlexibleArgumentParser reads the next argv word as a bare dotted key's
    value, so a bare ``-cc.a -cc.b`` would set ``a`` to ``"-cc.b"``; and ``=False`` is a setting,
    not an absent flag. A YAML boolean is written as JSON (``true``/``false``, which vLLM parses
    with ``json.loads``); a string value is written as given (the scripts' ``=True``)."""
    argv: list[str] = []
    for flag, value in args.items():
        if isinstance(flag, str) and flag.startswith("-") and "." in flag:
            if value is None:
                argv.append(flag)  # the lint rejects it; emit as written rather than guess a value
            else:
                text = ("true" if value else "false") if isinstance(value, bool) else str(value)
                argv.append(f"{flag}={text}")
        elif value is None or value is True or (isinstance(value, str) and value.lower() == "true"):
            argv.append(flag)
        elif value is False or (isinstance(value, str) and value.lower() == "false"):
            continue
        else:
            argv.extend([flag, str(value)])
    return argv


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; the catalog stores UTC, so say so."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


@dataclass
class RecipeSummary:
    recipe_id: str
    model_id: str
    huggingface_id: str
    hardware: str
    precision: str
    source_path: str | None
    configs: list[dict[str, Any]]
    benchmarks: int
    updated_at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_recipes(session: Executor, model: str | None = None) -> list[RecipeSummary]:
    r, sc, b = tables.recipes, tables.serve_configs, tables.benchmarks
    bench_count = select(func.count(b.c.id)).where(b.c.serve_config_id == sc.c.id).scalar_subquery()
    query = (
        select(r, sc.c.backend, sc.c.gpu_count, sc.c.enabled, bench_count.label("n_bench"))
        .select_from(r.outerjoin(sc, sc.c.recipe_pk == r.c.id))
        .order_by(r.c.recipe_id, sc.c.backend, sc.c.gpu_count)
    )
    if model is not None:
        query = query.where(r.c.huggingface_id == model)
    out: dict[str, RecipeSummary] = {}
    for row in session.execute(query):
        summary = out.get(row.recipe_id)
        if summary is None:
            summary = out[row.recipe_id] = RecipeSummary(
                row.recipe_id,
                row.model_id,
                row.huggingface_id,
                row.hardware,
                row.precision,
                row.source_path,
                [],
                0,
                _utc(row.updated_at).isoformat(),
            )
        if row.backend is not None:
            summary.configs.append(
                {"backend": row.backend, "gpu_count": row.gpu_count, "enabled": bool(row.enabled)}
            )
            summary.benchmarks += row.n_bench or 0
    return list(out.values())
