"""Capacity plans: how many GPUs of which config serve a target load within the SLOs, and
at what cost.

The selection statement (``matching``, one query; the SLOs are left out of it so that a
config whose rows all miss them is still seen, for the diagnosis) hands every candidate
config with its rows of the scenario. Per config, here:

- its operating point: with SLOs, the highest-throughput point of its curve that meets them
  all (``curves.under_slo``: measured, or interpolated on the SLO boundary between two
  measured points); without SLOs, its highest measured throughput. Never extrapolated;
- what one replica sustains there: output tokens/s (the row's ``output_throughput``; from
  ``total_token_throughput`` x output/(input + output) when the row has only that, said),
  requests/s (``request_throughput``; else output tokens/s / the row's mean output
  length, said) and concurrent streams (the point's concurrency);
- replicas = ceil(target / per replica), GPUs = replicas x the config's GPUs, headroom =
  replicas x per replica / target - 1;
- with prices: cost per hour (GPU-hours at the hardware's price, plus, with a power price,
  the energy of the point's measured power when every plan has it, so that costs compare),
  cost per million output tokens at the target, and the energy per output token and its
  cost per hour where power was measured.

Ranked by total GPUs, or by cost per hour when every candidate has a price. A config with
no point under the SLOs is listed with why; when none has one, the answer says which SLO
binds first and the best value any config reaches. Multi-node and disaggregated serving
are out of scope (the catalog holds single-node serve configs). Python over the candidates'
rows: O(rows). May import selection's ``curves``, ``matching``, ``evidence``, ``request``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from aim_catalog.selection import curves
from aim_catalog.selection.curves import Point
from aim_catalog.selection.evidence import Evidence, launch_image, of_rows, row_summaries
from aim_catalog.selection.matching import candidate_of
from aim_catalog.selection.request import Candidate, Request

TargetKind = Literal["rate", "tokens", "users"]
UNITS = {"rate": "requests/s", "tokens": "output tokens/s", "users": "concurrent streams"}
SCOPE_NOTE = (
    "single-node serve configs only: multi-node and disaggregated (prefill/decode) serving "
    "were not considered"
)


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    value: float

    def describe(self) -> str:
        return f"{self.value:g} {UNITS[self.kind]}"


@dataclass(frozen=True)
class Prices:
    """Per GPU-hour by hardware (upper-case names), and per kWh; no price is bundled."""

    gpu_hour: Mapping[str, float] = field(default_factory=dict)
    kwh: float | None = None


@dataclass(frozen=True)
class ConfigPlan:
    recipe_id: str
    hardware: str
    precision: str
    backend: str
    gpus_per_replica: int
    image: str | None  # what a launch runs
    concurrency: float  # the operating point, per replica
    kind: Literal["measured", "interpolated"]
    per_replica: dict[str, float]  # rate, tokens, users one replica sustains there
    replicas: int
    gpus: int
    headroom: float
    latencies_ms: dict[str, float | None]  # at the request's percentile
    evidence: dict[str, Any]
    derived: tuple[str, ...] = ()  # figures computed from others, said
    power_w_per_gpu: float | None = None
    # GPU-hours at the hardware's price, plus the energy when every plan's power was measured
    # (costs compare like with like); the energy alone where this plan's power was measured.
    cost_per_hour: float | None = None
    cost_per_million_tokens: float | None = None
    energy_cost_per_hour: float | None = None
    served_tokens_per_s: float = 0.0  # the output tokens/s the target asks of the plan
    joules_per_output_token: float | None = None
    retired: str | None = None

    @property
    def stale(self) -> bool:
        return bool(self.evidence.get("stale"))

    def evidence_sentence(self) -> str:
        """The evidence in one line, with the run(s) it comes from."""
        said = _evidence(self.evidence).sentence() or "no measurement"
        source = self.evidence.get("source")
        return f"{said}; source: {source}" if source else said

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "evidence_sentence": self.evidence_sentence()}


@dataclass(frozen=True)
class Unplanned:
    recipe_id: str
    backend: str
    gpus_per_replica: int
    hardware: str
    reason: str


@dataclass(frozen=True)
class CapacityPlan:
    model: str
    target: Target
    scenario: dict[str, Any]
    slo: dict[str, float]
    percentile: str
    plans: tuple[ConfigPlan, ...]  # best first
    unplanned: tuple[Unplanned, ...]
    ranked_by: Literal["gpus", "cost"]
    notes: tuple[str, ...] = (SCOPE_NOTE,)

    @property
    def best(self) -> ConfigPlan:
        return self.plans[0]

    def warning(self) -> str | None:
        """What the winner's figure stands on when it is not a measurement on its own image."""
        best = self.best
        said = []
        if best.kind == "interpolated":
            said.append("interpolated between measured concurrencies")
        if best.stale:
            said.append(f"measured on {best.evidence.get('measured_image')}, not on the image it launches")
        if best.evidence.get("measured_image") is None:
            said.append("measured on an image the rows do not name")
        return f"this plan rests on evidence {' and '.join(said)}" if said else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "target": asdict(self.target),
            "scenario": self.scenario,
            "slo": self.slo,
            "percentile": self.percentile,
            "ranked_by": self.ranked_by,
            "warning": self.warning(),
            "plans": [p.as_dict() for p in self.plans],
            "unplanned": [asdict(u) for u in self.unplanned],
            "notes": list(self.notes),
        }


class Infeasible(Exception):
    """No candidate config meets the SLOs at any measured concurrency (the message says which
    SLO binds first and the best value a config reaches)."""


def plan(
    rows: Sequence[Any],
    request: Request,
    target: Target,
    *,
    prices: Prices | None = None,
    hardware: frozenset[str] | None = None,
    gpu_counts: frozenset[int] | None = None,
    precisions: frozenset[str] | None = None,
) -> CapacityPlan:
    """The capacity plans of the selection statement's ``rows`` for ``target``; ``Infeasible``
    when no config reaches the SLOs. ``hardware``/``gpu_counts``/``precisions``: the choice
    space (None: any)."""
    prices = prices or Prices()
    planned: list[ConfigPlan] = []
    unplanned: list[Unplanned] = []
    lowest: list[tuple[Candidate, Point]] = []  # each config's least-loaded point, for the diagnosis
    scenario: dict[str, Any] = {}
    for row in rows:
        candidate = candidate_of(row, request)
        if (
            (hardware and candidate.hardware.upper() not in hardware)
            or (gpu_counts and candidate.gpu_count not in gpu_counts)
            or (precisions and candidate.precision not in precisions)
        ):
            continue
        scenario = scenario or {k: v for k, v in (candidate.scenario or {}).items() if k != "default"}
        points, _ = curves.parse(row.curve)
        launch = launch_image(candidate)
        curve, image = curves.curve_of(points, launch)
        if not curve:
            unplanned.append(_unplanned(candidate, "no measured row of the scenario with a concurrency"))
            continue
        lowest.append((candidate, curve[0]))
        point = _operating_point(curve, request)
        if point is None:
            missed = "; ".join(curves.misses(curve[0], request.slo, request.percentile))
            unplanned.append(
                _unplanned(candidate, f"misses the SLOs even at concurrency {_n(curve[0])}: {missed}")
            )
            continue
        found = _plan(candidate, point, image, launch, target, prices, request.percentile)
        if isinstance(found, str):
            unplanned.append(_unplanned(candidate, found))
        else:
            planned.append(found)
    if not planned:
        raise Infeasible(_infeasible(request, lowest, unplanned))
    notes = [SCOPE_NOTE]
    if prices.kwh is not None and prices.gpu_hour:
        if all(p.energy_cost_per_hour is not None for p in planned):
            planned = [_with_energy(p) for p in planned]
        else:
            notes.append(
                "power was measured for some plans only: costs are GPU-hours only, so that they "
                "compare (the energy cost is shown where it was measured)"
            )
    by_cost = all(p.cost_per_hour is not None for p in planned) and bool(prices.gpu_hour)
    unpriced = sorted({p.hardware for p in planned if p.cost_per_hour is None})
    if prices.gpu_hour and unpriced:
        notes.append(f"no GPU-hour price for {', '.join(unpriced)}: ranked by GPUs, not by cost")
    planned.sort(
        key=lambda p: (p.cost_per_hour if by_cost else p.gpus, p.gpus, -p.headroom, p.recipe_id, p.backend)
    )
    return CapacityPlan(
        model=request.model,
        target=target,
        scenario=scenario,
        slo=dict(request.slo),
        percentile=request.percentile,
        plans=tuple(planned),
        unplanned=tuple(unplanned),
        ranked_by="cost" if by_cost else "gpus",
        notes=tuple(notes),
    )


def _per_million(cost: float | None, served: float) -> float | None:
    """The cost of a million output tokens at the target's pace."""
    return None if cost is None or served <= 0 else cost / (served * 3600) * 1e6


def _with_energy(plan: ConfigPlan) -> ConfigPlan:
    from dataclasses import replace

    if plan.cost_per_hour is None or plan.energy_cost_per_hour is None:
        return plan
    total = plan.cost_per_hour + plan.energy_cost_per_hour
    return replace(
        plan, cost_per_hour=total, cost_per_million_tokens=_per_million(total, plan.served_tokens_per_s)
    )


def _operating_point(curve: list[Point], request: Request) -> Point | None:
    if request.slo:
        return curves.under_slo(curve, request.slo, request.percentile)
    scored = [p for p in curve if p.figures["score"] is not None]
    return max(scored, key=lambda p: (p.figures["score"], -p.concurrency)) if scored else None


def _plan(
    candidate: Candidate,
    point: Point,
    image: str | None,
    launch: str | None,
    target: Target,
    prices: Prices,
    percentile: str,
) -> ConfigPlan | str:
    """One config's plan at its operating point, or why it cannot have one."""
    derived: list[str] = []
    out_len = _mean(point, "output_len")
    in_len = _mean(point, "input_len")
    tokens = point.figures.get("output_throughput")
    if tokens is None:
        total = point.figures["score"]
        if total is None or not out_len or in_len is None:
            return "its rows have no output tokens/s (and no lengths to derive them from)"
        tokens = total * out_len / (in_len + out_len)
        derived.append("output tokens/s = total tokens/s x output/(input + output) length")
    rate = point.figures.get("request_throughput")
    if rate is None:
        if not out_len:
            return "its rows say neither requests/s nor the output length to derive them from"
        rate = tokens / out_len
        if target.kind == "rate":
            derived.append(f"requests/s = output tokens/s / {out_len:g} output tokens per request")
    per_replica = {"rate": rate, "tokens": tokens, "users": point.concurrency}
    if per_replica[target.kind] <= 0:
        return f"sustains no {UNITS[target.kind]} at its operating point"
    replicas = max(1, math.ceil(round(target.value / per_replica[target.kind], 9)))
    gpus = replicas * candidate.gpu_count
    power = point.figures.get("power_w_per_gpu")
    price = prices.gpu_hour.get(candidate.hardware.upper())
    cost = None if price is None else gpus * price
    energy = None
    if prices.kwh is not None:
        if power is None:
            derived.append("no power measured: no energy cost")
        else:
            energy = gpus * power / 1000 * prices.kwh
    served = {"rate": target.value * (out_len or 0), "tokens": target.value, "users": 0.0}[target.kind]
    if target.kind == "users":
        served = target.value * tokens / point.concurrency  # each stream at the point's pace
    joules = None if power is None else power * candidate.gpu_count / tokens
    return ConfigPlan(
        recipe_id=candidate.recipe_id,
        hardware=candidate.hardware,
        precision=candidate.precision,
        backend=candidate.backend,
        gpus_per_replica=candidate.gpu_count,
        image=launch,
        concurrency=round(point.concurrency, 2),
        kind=point.kind,
        per_replica=per_replica,
        replicas=replicas,
        gpus=gpus,
        headroom=replicas * per_replica[target.kind] / target.value - 1,
        latencies_ms={name: curves.latency(point.figures, name, percentile) for name in curves.LATENCIES},
        evidence=of_rows(point.kind, row_summaries(point.rows), image, launch).as_dict(),
        derived=tuple(derived),
        power_w_per_gpu=power,
        cost_per_hour=cost,
        cost_per_million_tokens=_per_million(cost, served),
        energy_cost_per_hour=energy,
        served_tokens_per_s=served,
        joules_per_output_token=joules,
        retired=candidate.retired,
    )


def _mean(point: Point, name: str) -> float | None:
    values = [float(r[name]) for r in point.rows if r.get(name) is not None]
    return sum(values) / len(values) if values else None


def _evidence(data: Mapping[str, Any]) -> Evidence:
    return Evidence(**dict(data))


def _unplanned(candidate: Candidate, reason: str) -> Unplanned:
    return Unplanned(candidate.recipe_id, candidate.backend, candidate.gpu_count, candidate.hardware, reason)


def _n(point: Point) -> str:
    return f"{point.concurrency:g}"


def _infeasible(request: Request, lowest: list[tuple[Candidate, Point]], unplanned: list[Unplanned]) -> str:
    """Why no config can serve the load: with SLOs, the SLO that binds first (the one the
    best-placed config misses by the most, relative to its limit) and the best value any
    config reaches for it (at its lowest measured concurrency, where latencies are least)."""
    if not lowest:
        reasons = "; ".join(
            f"{u.recipe_id} {u.backend} {u.gpus_per_replica} GPU: {u.reason}" for u in unplanned
        )
        return (
            f"no candidate config of {request.model} has a measured curve to plan with ({reasons or 'none'})"
        )
    if not request.slo:
        return f"no candidate config of {request.model} has a throughput to plan with"
    without = [
        name
        for name in request.slo
        if all(curves.latency(p.figures, name, request.percentile) is None for _, p in lowest)
    ]
    if without:
        figures = ", ".join(f"{name} {request.percentile}" for name in without)
        return (
            f"no measured row of a candidate config of {request.model} has a {figures} figure: the SLO on it "
            "cannot be checked (another --percentile, or rows that measured it, may)"
        )
    worst: dict[str, tuple[float, Candidate, Point]] = {}
    for candidate, point in lowest:
        for name in request.slo:
            value = curves.latency(point.figures, name, request.percentile)
            if value is not None and (name not in worst or value < worst[name][0]):
                worst[name] = (value, candidate, point)
    over = {
        name: value / request.slo[name] for name, (value, _, _) in worst.items() if value > request.slo[name]
    }
    if not over:
        return (
            f"no single config of {request.model} meets every SLO at once at any measured concurrency "
            f"({', '.join(f'{k} {request.percentile} <= {v:g} ms' for k, v in request.slo.items())})"
        )
    name = max(over, key=lambda k: over[k])
    value, candidate, point = worst[name]
    return (
        f"no config of {request.model} meets {name} {request.percentile} <= {request.slo[name]:g} ms at any "
        f"measured concurrency: it binds first; the best reached is {value:.4g} ms "
        f"({candidate.recipe_id}, {candidate.backend}, {candidate.gpu_count} GPU at concurrency "
        f"{_n(point)}, measured)"
    )


@dataclass(frozen=True)
class PlanOptions:
    """What ``Catalog.plan`` is asked: the model, the target load, the scenario, the SLOs and
    the choice space (None: any hardware, GPU count, precision, backend)."""

    model: str
    target: Target
    input_len: int | None = None
    output_len: int | None = None
    max_ttft_ms: float | None = None
    max_tpot_ms: float | None = None
    max_e2el_ms: float | None = None
    min_interactivity: float | None = None
    percentile: str = curves.DEFAULT_PERCENTILE
    precisions: tuple[str, ...] = ()
    backend: str | None = None
    hardware: tuple[str, ...] = ()
    gpus: tuple[int, ...] = ()
    current_only: bool = False
    prices: Prices = field(default_factory=Prices)

    def __post_init__(self) -> None:
        from aim_catalog import arguments
        from aim_catalog.errors import InvalidArgument, WrongArgumentType
        from aim_catalog.selection.fields import check

        check(self, optional=("backend",), skip=("hardware", "gpus"))  # tuples here, checked below
        if not isinstance(self.target, Target) or self.target.kind not in UNITS:
            raise WrongArgumentType(f"target must be a Target (rate, tokens or users), got {self.target!r}")
        # a load from a millionth to a billion of its unit: beyond, no plan means anything
        arguments.real(self.target.value, f"target {self.target.kind}", low=1e-6, high=1e9, optional=False)
        for name in ("precisions", "hardware", "gpus"):
            if isinstance(getattr(self, name), (str, int)):
                raise WrongArgumentType(f"{name} must be a tuple, got {getattr(self, name)!r}")
        for gpus in self.gpus:
            arguments.integer(gpus, "gpus", low=1, high=1024, optional=False)
        from aim_catalog.settings import ANY, normalize_precision

        # one name per precision (fp4 is mxfp4), "any" lifts a filter, as on select
        precisions = tuple(dict.fromkeys(normalize_precision(str(p).lower()) for p in self.precisions))
        object.__setattr__(self, "precisions", () if ANY in precisions else precisions)
        hardware = tuple(dict.fromkeys(str(h).upper() for h in self.hardware))
        object.__setattr__(self, "hardware", () if ANY.upper() in hardware else hardware)
        if self.percentile not in curves.PERCENTILES:
            raise InvalidArgument(
                f"percentile must be one of {', '.join(curves.PERCENTILES)}, got {self.percentile!r}"
            )

    def request(self, length_tolerance: float) -> Request:
        """The selection request of the plan: one precision or hardware goes into the SQL,
        several are kept in Python over the one query's rows."""
        from aim_catalog.settings import ANY, DEFAULT_METRIC

        return Request(
            model=self.model,
            precision=self.precisions[0].lower() if len(self.precisions) == 1 else ANY,
            backend=(self.backend or ANY).lower(),
            hardware=self.hardware[0].upper() if len(self.hardware) == 1 else None,
            metric=DEFAULT_METRIC,
            input_len=self.input_len,
            output_len=self.output_len,
            max_ttft_ms=self.max_ttft_ms,
            max_tpot_ms=self.max_tpot_ms,
            max_e2el_ms=self.max_e2el_ms,
            min_interactivity=self.min_interactivity,
            percentile=self.percentile,
            length_tolerance=length_tolerance,
            current_only=self.current_only,
        )


def plan_capacity(session: Any, options: PlanOptions, length_tolerance: float) -> CapacityPlan:
    """The plan, from one selection statement (without the SLOs, which are read off the curves
    here) and arithmetic over its rows; ``NoSuitableRecipe`` when nothing can serve the load."""
    from dataclasses import replace

    from aim_catalog.errors import NoSuitableRecipe
    from aim_catalog.selection.listing import no_match_message
    from aim_catalog.selection.matching import query_of
    from aim_catalog.selection.request import dialect_name

    request = options.request(length_tolerance)
    unbounded = replace(request, max_ttft_ms=None, max_tpot_ms=None, max_e2el_ms=None, min_interactivity=None)
    statement, params = query_of(unbounded, dialect_name(session), explain=False)
    rows = session.execute(statement, params).all()
    if not rows:
        raise NoSuitableRecipe(no_match_message(session, unbounded))
    try:
        return plan(
            rows,
            request,
            options.target,
            prices=options.prices,
            hardware=frozenset(h.upper() for h in options.hardware) or None,
            gpu_counts=frozenset(options.gpus) or None,
            precisions=frozenset(p.lower() for p in options.precisions) or None,
        )
    except Infeasible as exc:
        raise NoSuitableRecipe(f"No plan for {options.target.describe()}: {exc}") from None
