"""Throughput per GPU against interactivity: the chart InferenceX readers know.

For one model, each config (recipe, backend, GPU count) is a series of points, one per
concurrency: x = interactivity (tokens/s per user = 1000 / TPOT p50), y = throughput per
GPU. Only rows that rank (unlimited rate, no failed requests, not smoke tests) and, when
asked, of the asked lengths (within the selection's tolerance) are used; at one
concurrency a config's best row counts. The Pareto frontier is the set of points no other
point beats on both axes. Plotting lives in ``pareto_plot`` (an optional extra).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, func, select

from aim_catalog import tables
from aim_catalog.errors import NoSuitableRecipe, UsageProblem
from aim_catalog.selection import length_window
from aim_catalog.settings import BACKEND_LABELS, DEFAULT_LENGTH_TOLERANCE, RANK_METRICS, normalize_precision


@dataclass(frozen=True)
class Point:
    concurrency: int | None
    per_gpu: float  # throughput / gpu_count
    interactivity: float  # tokens/s per user: 1000 / TPOT p50 (ms)
    frontier: bool = False


@dataclass
class Series:
    recipe_id: str
    backend: str
    gpu_count: int
    hardware: str
    precision: str
    points: list[Point] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.recipe_id} {BACKEND_LABELS.get(self.backend, self.backend)} {self.gpu_count} GPU"


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
) -> list[Series]:
    if metric not in RANK_METRICS[:2]:
        raise UsageProblem(f"unknown metric {metric!r}; choose output_throughput or total_token_throughput")
    r, c, b = tables.recipes, tables.serve_configs, tables.benchmarks
    conditions = [
        r.c.huggingface_id == model,
        c.c.enabled,
        b.c.request_rate.is_(None),
        func.coalesce(b.c.failed, 0) == 0,
        b.c.origin != "smoke",
        b.c.tpot_ms_p50 > 0,
        b.c[metric].is_not(None),
    ]
    if hardware is not None:
        conditions.append(r.c.hardware == hardware.upper())
    if precision is not None:
        conditions.append(r.c.precision == normalize_precision(precision))
    for column, value in (("input_len", input_len), ("output_len", output_len)):
        if value is not None:
            lo, hi = length_window(value, tolerance)
            conditions.append(b.c[column].between(lo, hi))
    query = (
        select(
            r.c.recipe_id,
            r.c.hardware,
            r.c.precision,
            c.c.backend,
            c.c.gpu_count,
            b.c.concurrency,
            b.c[metric].label("throughput"),
            b.c.tpot_ms_p50,
        )
        .select_from(r.join(c, c.c.recipe_pk == r.c.id).join(b, b.c.serve_config_id == c.c.id))
        .where(and_(*conditions))
        .order_by(r.c.recipe_id, c.c.backend, c.c.gpu_count, b.c.concurrency, b.c.id)
    )
    series: dict[tuple[str, str, int], Series] = {}
    best: dict[tuple[str, str, int, int | None], Point] = {}
    for row in conn.execute(query):
        key = (row.recipe_id, row.backend, row.gpu_count)
        if key not in series:
            series[key] = Series(row.recipe_id, row.backend, row.gpu_count, row.hardware, row.precision)
        point = Point(row.concurrency, row.throughput / row.gpu_count, 1000.0 / row.tpot_ms_p50)
        at = (*key, row.concurrency)
        if at not in best or point.per_gpu > best[at].per_gpu:
            best[at] = point
    if not series:
        raise NoSuitableRecipe(
            f"no benchmark of {model} to chart (rows need {metric} and tpot_ms_p50, "
            "at unlimited rate, without failed requests, of the asked hardware, precision and lengths)"
        )
    for (recipe_id, backend, gpus, _), point in best.items():
        series[(recipe_id, backend, gpus)].points.append(point)
    return _mark_frontier(list(series.values()))


def _mark_frontier(series: list[Series]) -> list[Series]:
    everything = [p for s in series for p in s.points]

    def beaten(p: Point) -> bool:
        return any(
            q.per_gpu >= p.per_gpu
            and q.interactivity >= p.interactivity
            and (q.per_gpu > p.per_gpu or q.interactivity > p.interactivity)
            for q in everything
        )

    for s in series:
        s.points = sorted(
            (Point(p.concurrency, p.per_gpu, p.interactivity, not beaten(p)) for p in s.points),
            key=lambda p: p.interactivity,
        )
    return series


def frontier(series: list[Series]) -> list[tuple[Series, Point]]:
    """The frontier's points, from the most interactive to the highest throughput."""
    points = [(s, p) for s in series for p in s.points if p.frontier]
    return sorted(points, key=lambda sp: -sp[1].interactivity)


def table(series: list[Series]) -> tuple[list[str], list[tuple[Any, ...]]]:
    columns = ["config", "concurrency", "tok/s per GPU", "tok/s per user", "frontier"]
    rows = [
        (s.label, p.concurrency, round(p.per_gpu, 1), round(p.interactivity, 1), "*" if p.frontier else "")
        for s in series
        for p in s.points
    ]
    return columns, rows
