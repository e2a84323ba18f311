"""How good is interpolation between measured concurrencies, on the catalog's own rows.

A curve is the comparable benchmark rows (not smoke tests, no failed requests, unlimited
rate, a concurrency and a throughput) of one serve config at one scenario (nominal, else
mean, input/output lengths) and one image; at a concurrency measured more than once the
latest run counts (``selection.curves.curve_of``). Each interior measured point is held
out in turn and predicted from the rest of its curve the way selection interpolates
(``selection.curves.leave_one_out``: a monotone cubic in log2(concurrency)). The absolute
percentage error |predicted - measured| / measured of each metric (throughput: the
ranking score, output else total token throughput; TTFT p99 and TPOT p99, p50 where a row
has only medians, as SLOs read them) is summarised per group (hardware and backend, and
all) as median and p90 (linear between closest ranks), with how many points were held
out; every held-out point is kept with its figures, so a bad group can be traced to its
curves. A group without an interior point, or a metric without a figure, says n = 0 and
no error: nothing is divided by zero.

One SQL query reads the rows; grouping and arithmetic are Python, O(rows). The
interpolation is ``selection.curves``' own, never redone here. It imports ``selection``
(curves, the score's SQL), ``recipes`` (row origins), ``backends`` (their order),
``storage`` (tables), ``settings`` and ``errors``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, Select, and_, func, select

from aim_catalog.backends.registry import BACKENDS
from aim_catalog.errors import NoSuitableRecipe
from aim_catalog.recipes.format import Origin
from aim_catalog.selection import curves
from aim_catalog.selection.curves import Point
from aim_catalog.selection.matching import score_of
from aim_catalog.settings import DEFAULT_METRIC
from aim_catalog.storage import tables

ALL = "all"
# The metrics scored: name in the report -> its figure of a point.
METRICS = ("throughput", "ttft_p99", "tpot_p99")
LABELS = {"throughput": "throughput", "ttft_p99": "TTFT p99", "tpot_p99": "TPOT p99"}


def figure(point: Point, metric: str) -> float | None:
    """A point's figure for one scored metric."""
    if metric == "throughput":
        return point.figures["score"]
    name = metric.removesuffix("_p99")
    return curves.latency(point.figures, name, "p99")


@dataclass(frozen=True)
class CurveKey:
    """Which curve: a serve config (its recipe's hardware), a scenario and an image."""

    hardware: str
    backend: str
    recipe_id: str
    gpu_count: int
    input_len: int | None  # nominal, else mean, lengths
    output_len: int | None
    image: str | None


@dataclass(frozen=True)
class HeldOut:
    """One interior point of a curve predicted from the rest of it: per metric, the
    measured and predicted figures and the absolute percentage error (None: no figure)."""

    curve: CurveKey
    concurrency: float
    between: tuple[float, float]  # the concurrencies of the measured points it lies between
    measured: Mapping[str, float | None]
    predicted: Mapping[str, float | None]
    error_pct: Mapping[str, float | None]


@dataclass(frozen=True)
class Errors:
    """One metric's absolute percentage errors over a group: how many, median, p90."""

    n: int
    median_pct: float | None
    p90_pct: float | None


@dataclass(frozen=True)
class Group:
    """The curves of one hardware and backend (or all of them) and their errors per metric."""

    hardware: str  # ALL for the overall row
    backend: str
    curves: int
    n: int  # interior points held out
    throughput: Errors
    ttft_p99: Errors
    tpot_p99: Errors


@dataclass(frozen=True)
class Backtest:
    model: str | None
    groups: tuple[Group, ...]  # per hardware and backend, then the overall row
    points: tuple[HeldOut, ...]  # every held-out point, curve by curve

    @property
    def overall(self) -> Group:
        return self.groups[-1]


def abs_pct_error(measured: float | None, predicted: float | None) -> float | None:
    """|predicted - measured| / measured in percent; None without both figures, or when the
    measured one is not a positive finite number (nothing to divide by)."""
    if measured is None or predicted is None:
        return None
    if not (math.isfinite(measured) and math.isfinite(predicted)) or measured <= 0:
        return None
    return abs(predicted - measured) / measured * 100.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1), linear between closest ranks (numpy's default); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def summarize(errors: Sequence[float]) -> Errors:
    return Errors(len(errors), percentile(errors, 0.5), percentile(errors, 0.9))


def held_out(key: CurveKey, curve: Sequence[Point]) -> list[HeldOut]:
    """Each interior point of a curve (points in concurrency order, one per concurrency)
    predicted from the others by ``curves.leave_one_out``."""
    found = []
    for point, guess in curves.leave_one_out(curve):
        measured = {metric: figure(point, metric) for metric in METRICS}
        predicted = {metric: figure(guess, metric) for metric in METRICS}
        errors = {metric: abs_pct_error(measured[metric], predicted[metric]) for metric in METRICS}
        between = (float(guess.rows[0]["concurrency"]), float(guess.rows[-1]["concurrency"]))
        found.append(HeldOut(key, point.concurrency, between, measured, predicted, errors))
    return found


def score_curves(model: str | None, found: Iterable[tuple[CurveKey, Sequence[Point]]]) -> Backtest:
    """The backtest of these curves: groups by hardware and backend, then the overall one."""
    count: dict[tuple[str, str], int] = {}
    held: dict[tuple[str, str], list[HeldOut]] = {}
    for key, curve in found:
        group = (key.hardware, key.backend)
        count[group] = count.get(group, 0) + 1
        held.setdefault(group, []).extend(held_out(key, curve))
    order = {name: i for i, name in enumerate(BACKENDS)}
    keys = sorted(count, key=lambda k: (k[0], order.get(k[1], len(order)), k[1]))
    points = tuple(p for k in keys for p in held[k])
    groups = [_group(*k, count[k], held[k]) for k in keys]
    groups.append(_group(ALL, ALL, sum(count.values()), points))
    return Backtest(model, tuple(groups), points)


def _group(hardware: str, backend: str, count: int, points: Sequence[HeldOut]) -> Group:
    summary = {m: summarize([e for p in points if (e := p.error_pct[m]) is not None]) for m in METRICS}
    return Group(hardware, backend, count, len(points), **summary)


_KEY = len(fields(CurveKey))  # the query's columns naming a curve; CURVE_COLUMNS follow


def backtest(conn: Connection | Any, model: str | None = None) -> Backtest:
    """Every curve of the catalog (of ``model`` only, when given) backtested.
    ``NoSuitableRecipe`` when a model is asked and has no comparable row."""
    rows = list(conn.execute(_query(model)))
    if model is not None and not rows:
        raise NoSuitableRecipe(
            f"no benchmark of {model} to backtest (rows need a concurrency and a throughput, at "
            "unlimited rate, without failed requests; `aim-catalog list-recipes --model "
            f"{model}` shows whether the catalog has it)"
        )
    raw: dict[CurveKey, list[Sequence[Any]]] = {}
    for row in rows:
        values = tuple(row)
        raw.setdefault(CurveKey(*values[:_KEY]), []).append(values[_KEY:])
    found = []
    for key, columns in raw.items():
        points, _ = curves.parse(columns)
        curve, _ = curves.curve_of(points, key.image)
        found.append((key, curve))
    return score_curves(model, found)


def _query(model: str | None) -> Select[Any]:
    r, c, b = tables.recipes, tables.serve_configs, tables.benchmarks
    score = score_of(b, DEFAULT_METRIC)
    conditions = [
        b.c.origin != Origin.SMOKE.value,
        func.coalesce(b.c.failed, 0) == 0,
        b.c.request_rate.is_(None),
        b.c.concurrency.is_not(None),
        score.is_not(None),
    ]
    if model is not None:
        conditions.append(r.c.huggingface_id == model)
    key_in = func.coalesce(b.c.nominal_input_len, b.c.input_len)
    key_out = func.coalesce(b.c.nominal_output_len, b.c.output_len)
    return (
        select(
            r.c.hardware,
            c.c.backend,
            r.c.recipe_id,
            c.c.gpu_count,
            key_in,
            key_out,
            b.c.image,
            *(score if name == "score" else b.c[name] for name in curves.CURVE_COLUMNS),
        )
        .select_from(r.join(c, c.c.recipe_pk == r.c.id).join(b, b.c.serve_config_id == c.c.id))
        .where(and_(*conditions))
        .order_by(r.c.recipe_id, c.c.backend, c.c.gpu_count, key_in, key_out, b.c.image, b.c.id)
    )


def table(result: Backtest) -> tuple[list[str], list[tuple[Any, ...]]]:
    """One row per group: curves, held-out points, then each metric's median and p90 error
    in percent (one decimal; None where there is none)."""
    columns = ["hardware", "backend", "curves", "n"]
    for metric in METRICS:
        columns += [f"{LABELS[metric]} median %", f"{LABELS[metric]} p90 %"]
    rows = []
    for g in result.groups:
        cells: list[Any] = [g.hardware, g.backend, g.curves, g.n]
        for metric in METRICS:
            errors: Errors = getattr(g, metric)
            cells += [_pct(errors.median_pct), _pct(errors.p90_pct)]
        rows.append(tuple(cells))
    return columns, rows


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def gaps(result: Backtest) -> list[str]:
    """What the table cannot say by itself: groups with no interior point, metrics some
    held-out points lack."""
    notes = []
    for g in result.groups:
        where = "overall" if g.hardware == ALL else f"{g.hardware} {g.backend}"
        if g.n == 0:
            notes.append(f"{where}: no curve has an interior point (3 or more concurrencies) to hold out")
            continue
        for metric in METRICS:
            counted = getattr(g, metric).n
            if counted < g.n:
                notes.append(
                    f"{where}: {LABELS[metric]} scored on {counted} of {g.n} points (the others lack it)"
                )
    return notes
