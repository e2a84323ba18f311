"""Throughput per GPU against interactivity: the chart InferenceX readers know.

For one model, each config (recipe, backend, GPU count) is a series of points, one per
concurrency: x = interactivity (tokens/s per user = 1000 / TPOT p50), y = throughput per
GPU. Only rows that rank (unlimited rate, no failed requests, not smoke tests) of one
scenario are used: the asked lengths (within the selection's tolerance), or else the
lengths the most configs have rows for; every run is a point (two runs at one concurrency
are two points). Interactivity comes from TPOT p50, else p99 (the table says which).
A row whose figures are outside ``recipes.bounds`` (infinite, or impossible) is not charted.
The Pareto frontier is the set of points no other
point beats on both axes. With an SLO (``min_interactivity``: tokens/s per user, i.e. the
charted TPOT at most 1000/x ms), each series also gets its operating point under it, read
off its curve the way ``select`` reads it (``selection.curves.under_slo``): a measured point,
or one interpolated on the SLO boundary, marked as such (kind ``interpolated``), never on
the frontier (which is measured points only). Plotting lives in ``pareto_plot`` (an
optional extra).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Select, and_, func, select

from aim_catalog.backends.registry import BACKEND_LABELS
from aim_catalog.errors import NoSuitableRecipe, UsageProblem
from aim_catalog.recipes import bounds
from aim_catalog.recipes.format import Origin
from aim_catalog.selection.evidence import launch_image
from aim_catalog.selection.matching import length_window
from aim_catalog.settings import DEFAULT_LENGTH_TOLERANCE, RANK_METRICS, normalize_precision
from aim_catalog.storage import tables


@dataclass(frozen=True)
class Point:
    concurrency: float | None  # an interpolated SLO point lies between two measured ones
    per_gpu: float  # throughput / gpu_count
    interactivity: float  # tokens/s per user: 1000 / TPOT (ms)
    frontier: bool = False
    tpot: str = "p50"  # which TPOT the interactivity is from: p50, else p99
    kind: str = "measured"  # measured, or interpolated (an SLO operating point between two)
    image: str | None = None  # the image the row was measured on


@dataclass(frozen=True)
class Series:
    recipe_id: str
    backend: str
    gpu_count: int
    hardware: str
    precision: str
    points: list[Point] = field(default_factory=list)
    scenario: tuple[int | None, int | None] = (None, None)  # the (input, output) lengths charted
    operating: Point | None = None  # under the SLO asked: the series' best point meeting it
    launch_image: str | None = None  # what the config launches now (its curve's image first)

    @property
    def label(self) -> str:
        return f"{self.recipe_id} {BACKEND_LABELS.get(self.backend, self.backend)} {self.gpu_count} GPU"


def scenario_text(series: list[Series]) -> str:
    """``1024/1024 tokens`` (the one scenario charted), or ``lengths unknown``."""
    lengths = series[0].scenario if series else (None, None)
    if lengths == (None, None):
        return "lengths unknown"
    return f"{lengths[0] or '*'}/{lengths[1] or '*'} tokens"


def pareto(
    conn: Connection | Any,
    model: str,
    *,
    hardware: str | None = None,
    precision: str | None = None,
    input_len: int | None = None,
    output_len: int | None = None,
    metric: str = "total_token_throughput",
    tolerance: float = DEFAULT_LENGTH_TOLERANCE,
    min_interactivity: float | None = None,
) -> list[Series]:
    """One scenario at a time: the asked lengths, or else the (nominal, else mean) lengths
    the most configs have chartable rows for (ties: more rows, then shorter lengths); every
    run is a point (two runs at one concurrency are two points)."""
    if metric not in RANK_METRICS[:2]:
        raise UsageProblem(f"unknown metric {metric!r}; choose output_throughput or total_token_throughput")
    asked = {"input_len": input_len, "output_len": output_len}
    found = list(conn.execute(_query(model, hardware, precision, asked, metric, tolerance)))
    timed = [row for row in found if _possible(row, metric)]
    if not timed:
        raise NoSuitableRecipe(_nothing(model, metric, found))
    key_in, key_out = _scenario(timed, asked)
    series: dict[tuple[str, str, int], Series] = {}
    for row in timed:
        if not (
            _near(row.input_len, key_in, asked["input_len"], tolerance)
            and _near(row.output_len, key_out, asked["output_len"], tolerance)
        ):
            continue
        key = (row.recipe_id, row.backend, row.gpu_count)
        if key not in series:
            series[key] = Series(
                row.recipe_id,
                row.backend,
                row.gpu_count,
                row.hardware,
                row.precision,
                scenario=(input_len or key_in, output_len or key_out),
                launch_image=launch_image(row),
            )
        tpot, which = _tpot(row) or (0.0, "")
        series[key].points.append(
            Point(
                row.concurrency,
                row.throughput / row.gpu_count,
                1000.0 / tpot,
                tpot=which,
                image=row.row_image,
            )
        )
    marked = _mark_frontier(list(series.values()))
    if min_interactivity is None:
        return marked
    return [replace(s, operating=_under_slo(s, 1000.0 / min_interactivity)) for s in marked]


def _under_slo(s: Series, tpot_limit: float) -> Point | None:
    """The series' operating point with the charted TPOT at most ``tpot_limit`` ms: its
    curve (one point per concurrency, the last run) read by ``curves.under_slo``."""
    from aim_catalog.selection import curves

    placed = []
    for n, p in enumerate(s.points):
        if p.concurrency is None:
            continue
        figures: dict[str, float | None] = dict.fromkeys(curves.FIGURES)
        figures.update(score=p.per_gpu, tpot_ms_p50=1000.0 / p.interactivity)
        row = {"id": n, "concurrency": p.concurrency, "image": p.image, "measured_at": None}
        placed.append(curves.Point(float(p.concurrency), figures, (row,)))
    curve, _ = curves.curve_of(placed, s.launch_image)  # the rows of one image, as select reads them
    found = curves.under_slo(curve, {"tpot": tpot_limit}, "p50")
    if found is None or found.figures["score"] is None or not found.figures["tpot_ms_p50"]:
        return None
    interpolated = found.kind == "interpolated"
    return Point(
        round(found.concurrency, 2) if interpolated else int(found.concurrency),
        found.figures["score"],
        1000.0 / found.figures["tpot_ms_p50"],
        kind=found.kind,
    )


def _query(
    model: str,
    hardware: str | None,
    precision: str | None,
    asked: dict[str, int | None],
    metric: str,
    tolerance: float,
) -> Select[Any]:
    """The model's benchmark rows that may be charted: ranking rows of enabled configs."""
    r, c, b = tables.recipes, tables.serve_configs, tables.benchmarks
    conditions = [
        r.c.huggingface_id == model,
        c.c.enabled,
        b.c.request_rate.is_(None),
        func.coalesce(b.c.failed, 0) == 0,
        b.c.origin != Origin.SMOKE.value,
        b.c[metric].is_not(None),
    ]
    if hardware is not None:
        conditions.append(r.c.hardware == hardware.upper())
    if precision is not None:
        conditions.append(r.c.precision == normalize_precision(precision))
    for column, value in asked.items():
        if value is not None:
            lo, hi = length_window(value, tolerance)
            conditions.append(b.c[column].between(lo, hi))
    return (
        select(
            r.c.recipe_id,
            r.c.hardware,
            r.c.precision,
            c.c.backend,
            c.c.gpu_count,
            c.c.image,
            b.c.image.label("row_image"),
            b.c.concurrency,
            b.c[metric].label("throughput"),
            b.c.tpot_ms_p50,
            b.c.tpot_ms_p99,
            b.c.input_len,
            b.c.output_len,
            func.coalesce(b.c.nominal_input_len, b.c.input_len).label("key_in"),
            func.coalesce(b.c.nominal_output_len, b.c.output_len).label("key_out"),
        )
        .select_from(r.join(c, c.c.recipe_pk == r.c.id).join(b, b.c.serve_config_id == c.c.id))
        .where(and_(*conditions))
        .order_by(r.c.recipe_id, c.c.backend, c.c.gpu_count, b.c.concurrency, b.c.id)
    )


def _possible(row: Any, metric: str) -> bool:
    """Whether the row has a TPOT and its figures are within ``recipes.bounds`` (an old
    catalog may hold an infinite or absurd one, stored before bounds were checked): only
    such rows are charted, so no infinity is put on the frontier."""
    tpot = _tpot(row)
    return (
        bounds.problem(metric, row.throughput, row.gpu_count) is None
        and tpot is not None
        and bounds.problem(f"tpot_ms_{tpot[1]}", tpot[0]) is None
    )


def _tpot(row: Any) -> tuple[float, str] | None:
    """TPOT in ms: p50, else p99 (InferenceX interactivity is stored as TPOT at import)."""
    if row.tpot_ms_p50 is not None and row.tpot_ms_p50 > 0:
        return float(row.tpot_ms_p50), "p50"
    if row.tpot_ms_p99 is not None and row.tpot_ms_p99 > 0:
        return float(row.tpot_ms_p99), "p99"
    return None


def _scenario(rows: list[Any], asked: dict[str, int | None]) -> tuple[int | None, int | None]:
    """The lengths not asked: the bucket the most configs have rows in."""
    if asked["input_len"] is not None and asked["output_len"] is not None:
        return asked["input_len"], asked["output_len"]
    configs: dict[tuple[int, int], set[tuple[str, str, int]]] = {}
    runs: dict[tuple[int, int], int] = {}
    for row in rows:
        if row.key_in is None or row.key_out is None:
            continue
        bucket = (row.key_in, row.key_out)
        configs.setdefault(bucket, set()).add((row.recipe_id, row.backend, row.gpu_count))
        runs[bucket] = runs.get(bucket, 0) + 1
    if not configs:
        return asked["input_len"], asked["output_len"]
    best = min(configs, key=lambda k: (-len(configs[k]), -runs[k], k))
    return (
        asked["input_len"] if asked["input_len"] is not None else best[0],
        asked["output_len"] if asked["output_len"] is not None else best[1],
    )


def _near(value: int | None, reference: int | None, asked: int | None, tolerance: float) -> bool:
    if asked is not None or reference is None:
        return True  # asked lengths are already filtered in SQL; no reference: any
    if value is None:
        return False
    lo, hi = length_window(reference, tolerance)
    return lo <= value <= hi


def _nothing(model: str, metric: str, found: list[Any]) -> str:
    if found:
        return (
            f"{len(found)} benchmark row(s) of {model} match, but none has a TPOT (p50 or p99) "
            "to put on the interactivity axis (published throughput figures carry none): "
            "import benchmark results with `aim-catalog bench import` to chart them"
        )
    return (
        f"no benchmark of {model} to chart (rows need {metric} and a TPOT, at unlimited rate, "
        "without failed requests, of the asked hardware, precision and lengths)"
    )


def _mark_frontier(series: list[Series]) -> list[Series]:
    everything = [p for s in series for p in s.points]

    def beaten(p: Point) -> bool:
        return any(
            q.per_gpu >= p.per_gpu
            and q.interactivity >= p.interactivity
            and (q.per_gpu > p.per_gpu or q.interactivity > p.interactivity)
            for q in everything
        )

    return [
        replace(
            s,
            points=sorted(
                (replace(p, frontier=not beaten(p)) for p in s.points),
                key=lambda p: (p.interactivity, p.per_gpu),
            ),
        )
        for s in series
    ]


def frontier(series: list[Series]) -> list[tuple[Series, Point]]:
    """The frontier's points, from the most interactive to the highest throughput."""
    points = [(s, p) for s in series for p in s.points if p.frontier]
    return sorted(points, key=lambda sp: -sp[1].interactivity)


def table(series: list[Series]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """One row per charted point, then (with an SLO) each series' operating point: kind
    ``measured (SLO)`` or ``interpolated (SLO)``."""
    columns = [
        "config",
        "scenario",
        "concurrency",
        "tok/s per GPU",
        "tok/s per user",
        "tpot",
        "frontier",
        "kind",
    ]
    rows = []
    for s in series:
        for p in s.points:
            rows.append(_row(s, p, p.kind))
        if s.operating is not None:
            rows.append(_row(s, s.operating, f"{s.operating.kind} (SLO)"))
    return columns, rows


def _row(s: Series, p: Point, kind: str) -> tuple[Any, ...]:
    return (
        s.label,
        scenario_text([s]),
        p.concurrency,
        round(p.per_gpu, 1),
        round(p.interactivity, 1),
        p.tpot,
        "*" if p.frontier else "",
        kind,
    )
