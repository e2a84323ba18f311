"""Curves over concurrency and the operating points read off them: pure arithmetic.

The benchmark rows of one serve config at one scenario (input/output lengths) and one image
form a curve: its measured points by concurrency (a repeated concurrency keeps its latest
run). A figure between two measured concurrencies is interpolated with a monotone cubic in
log2(concurrency), every figure alike: the piecewise cubic Hermite of Fritsch and Carlson
("Monotone Piecewise Cubic Interpolation", SIAM J. Numer. Anal. 17(2), 1980), with the
slopes SciPy's ``PchipInterpolator`` uses (weighted harmonic mean inside, the one-sided
three-point formula at the ends); a curve of two points is a straight line. Between two
measured points each figure moves monotonically from one to the other, never past them.
Outside the measured range nothing is said: never extrapolated. On the bundled InferenceX
curves (``report backtest``) this predicts a held-out throughput with a median error of
1.8%, against 9.2% for a straight line in log2(concurrency). Operating points:

- ``at``: a curve at one concurrency (measured, or interpolated between the two measured
  concurrencies that bracket it);
- ``under_slo``: the highest-scoring point of a curve whose latencies meet every SLO. Every
  figure is monotone along a segment, so the points of a segment that meet the SLOs are one
  interval (its ends found by bisection) and the best of them is one of its ends: a
  measured point or the SLO boundary, interpolated;
- ``common_concurrency``: the highest concurrency that the most curves measured or bracket.

``CURVE_COLUMNS`` is the order of the fields of each row ``matching`` aggregates with the
candidates (one query); this module parses them. O(rows). Imports nothing of aim_catalog.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal

LATENCIES = ("ttft", "tpot", "e2el")
PERCENTILES = ("p50", "p90", "p99")
DEFAULT_PERCENTILE = "p99"
# The figures of a point: the ranking metric ("score") and the latencies the SLOs read.
FIGURES = (
    "score",
    *(f"{name}_ms_{p}" for name in LATENCIES for p in PERCENTILES),
    "power_w_per_gpu",
    "output_throughput",  # what a replica delivers, and how many requests it finishes (plan)
    "request_throughput",
)
# Where a point comes from: the row's id, image, source, date, lengths, dataset and rate.
PROVENANCE = (
    "id",
    "image",
    "source",
    "measured_at",
    "input_len",
    "output_len",
    "nominal_input_len",
    "nominal_output_len",
    "dataset",
    "request_rate",
)
CURVE_COLUMNS = ("concurrency", *FIGURES, *PROVENANCE)

Kind = Literal["measured", "interpolated"]


@dataclass(frozen=True)
class Point:
    concurrency: float
    figures: Mapping[str, float | None]
    rows: tuple[Mapping[str, Any], ...]  # the measured row, or the two that bracket it
    kind: Kind = "measured"

    @property
    def between(self) -> tuple[float, float] | None:
        """The measured concurrencies an interpolated point lies between."""
        if self.kind == "measured":
            return None
        return (self.rows[0]["concurrency"], self.rows[1]["concurrency"])


def parse(raw: Iterable[Sequence[Any]] | None) -> tuple[list[Point], int]:
    """The measured points of an aggregated ``CURVE_COLUMNS`` array (rows with a score and
    a concurrency) and how many rows had a score but no concurrency (they place nowhere)."""
    points: list[Point] = []
    unplaced = 0
    for values in raw or ():
        row = dict(zip(CURVE_COLUMNS, values, strict=True))
        if row["score"] is None:
            continue
        if row["concurrency"] is None or row["concurrency"] <= 0:
            unplaced += 1
            continue
        figures = {name: _number(row[name]) for name in FIGURES}
        provenance = {name: row[name] for name in ("concurrency", *PROVENANCE)}
        points.append(Point(float(row["concurrency"]), figures, (provenance,)))
    return points, unplaced


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def curve_of(points: Sequence[Point], image: str | None) -> tuple[list[Point], str | None]:
    """The curve a config is judged by, and its image: the rows measured on ``image`` (what
    the config launches now) when there are any, else the image measured last (then the one
    with more points). At a concurrency measured more than once, the latest run."""
    by_image: dict[str | None, list[Point]] = {}
    for point in points:
        by_image.setdefault(point.rows[0]["image"], []).append(point)
    if not by_image:
        return [], None
    if image in by_image:
        chosen = image
    else:
        chosen = max(by_image, key=lambda k: (max(_when(p) for p in by_image[k]), len(by_image[k]), k or ""))
    latest: dict[float, Point] = {}
    for point in by_image[chosen]:
        kept = latest.get(point.concurrency)
        if kept is None or _when(point) > _when(kept):
            latest[point.concurrency] = point
    return [latest[c] for c in sorted(latest)], chosen


def _when(point: Point) -> tuple[str, int]:
    row = point.rows[0]
    return (str(row["measured_at"] or ""), int(row["id"] or 0))


def _slopes(xs: Sequence[float], ys: Sequence[float]) -> list[float]:
    """The Hermite slopes of Fritsch-Carlson at each point (as SciPy's PchipInterpolator):
    zero where the data turns, a weighted harmonic mean of the two secants inside, the
    limited one-sided three-point formula at the ends; two points: the secant."""
    h = [b - a for a, b in pairwise(xs)]
    d = [(y1 - y0) / step for (y0, y1), step in zip(pairwise(ys), h, strict=True)]
    if len(d) == 1:
        return [d[0], d[0]]
    m = [0.0] * len(xs)
    for k in range(1, len(xs) - 1):
        if d[k - 1] * d[k] > 0:
            w1, w2 = 2 * h[k] + h[k - 1], h[k] + 2 * h[k - 1]
            m[k] = (w1 + w2) / (w1 / d[k - 1] + w2 / d[k])
    m[0] = _end_slope(h[0], h[1], d[0], d[1])
    m[-1] = _end_slope(h[-1], h[-2], d[-1], d[-2])
    return m


def _end_slope(h0: float, h1: float, d0: float, d1: float) -> float:
    slope = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
    if slope * d0 <= 0:
        return 0.0
    if d0 * d1 <= 0 and abs(slope) > abs(3 * d0):
        return 3 * d0
    return slope


def _x(point: Point) -> float:
    return math.log2(point.concurrency)


def _value(curve: Sequence[Point], i: int, name: str, t: float) -> float | None:
    """Figure ``name`` a fraction ``t`` of the way along segment i (in log2(concurrency)):
    the cubic Hermite over the run of neighbouring points that have the figure."""
    segment = _segment(curve, i, name)
    return None if segment is None else segment(t)


def _segment(curve: Sequence[Point], i: int, name: str) -> Callable[[float], float] | None:
    """Figure ``name`` along segment i as a function of the fraction ``t`` (``_value``'s
    cubic), its slopes computed once; None when an end of the segment lacks the figure."""
    values = [p.figures[name] for p in curve]
    if values[i] is None or values[i + 1] is None:
        return None
    lo, hi = i, i + 1
    while lo > 0 and values[lo - 1] is not None:
        lo -= 1
    while hi < len(curve) - 1 and values[hi + 1] is not None:
        hi += 1
    xs = [_x(p) for p in curve[lo : hi + 1]]
    ys = [float(v) for v in values[lo : hi + 1] if v is not None]
    m = _slopes(xs, ys)
    j, step = i - lo, xs[i - lo + 1] - xs[i - lo]
    y0, y1, m0, m1 = ys[j], ys[j + 1], m[j], m[j + 1]

    def value(t: float) -> float:
        h00, h10 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t
        h01, h11 = -2 * t**3 + 3 * t**2, t**3 - t**2
        return h00 * y0 + h10 * step * m0 + h01 * y1 + h11 * step * m1

    return value


def _between(curve: Sequence[Point], i: int, t: float) -> Point:
    """The point a fraction ``t`` of the way along segment i, in log2(concurrency)."""
    a, b = curve[i], curve[i + 1]
    if t <= 0:
        return a
    if t >= 1:
        return b
    figures = {name: _value(curve, i, name, t) for name in FIGURES}
    c = 2 ** (_x(a) + t * (_x(b) - _x(a)))
    return Point(c, figures, (a.rows[0], b.rows[0]), "interpolated")


def at(curve: Sequence[Point], concurrency: float) -> Point | None:
    """The curve at ``concurrency``: measured, interpolated inside the measured range, or
    None outside it."""
    if not curve or not curve[0].concurrency <= concurrency <= curve[-1].concurrency:
        return None
    for i, (low, high) in enumerate(pairwise(curve)):
        if low.concurrency <= concurrency <= high.concurrency:
            if concurrency == high.concurrency:
                return high
            return _between(curve, i, (math.log2(concurrency) - _x(low)) / (_x(high) - _x(low)))
    return curve[0]  # a curve of one point, at its concurrency


def latency(figures: Mapping[str, float | None], name: str, percentile: str) -> float | None:
    """A latency at a percentile; p99 falls back to p50 for a row that has only medians
    (the SQL predicate's rule, ``matching.slo_value``)."""
    value = figures.get(f"{name}_ms_{percentile}")
    if value is None and percentile == "p99":
        value = figures.get(f"{name}_ms_p50")
    return value


def misses(point: Point, slo: Mapping[str, float], percentile: str) -> list[str]:
    """The SLOs a point misses, in words (empty: it meets them all)."""
    out = []
    for name, limit in slo.items():
        value = latency(point.figures, name, percentile)
        if value is None:
            out.append(f"no {name} {percentile} figure (limit {limit:g} ms)")
        elif value > limit:
            out.append(f"{name} {percentile} {value:.4g} ms > {limit:g} ms")
    return out


def _feasible(
    curve: Sequence[Point], i: int, slo: Mapping[str, float], percentile: str
) -> tuple[float, float] | None:
    """The fraction interval of segment i whose interpolated latencies meet every SLO: each
    latency is monotone along the segment, so each SLO keeps one side of its boundary."""
    lo, hi = 0.0, 1.0
    for name, limit in slo.items():
        x, y = latency(curve[i].figures, name, percentile), latency(curve[i + 1].figures, name, percentile)
        if x is None or y is None or (x > limit and y > limit):
            return None
        if x <= limit and y <= limit:
            continue
        edge = _boundary(curve, i, name, percentile, limit, rising=y > limit)
        if y > limit:
            hi = min(hi, edge)
        else:
            lo = max(lo, edge)
    return (lo, hi) if lo <= hi else None


def _boundary(
    curve: Sequence[Point], i: int, name: str, percentile: str, limit: float, *, rising: bool
) -> float:
    """Where along segment i a latency crosses ``limit`` (bisection: it is monotone there),
    on the side that meets it. Only that latency is interpolated (``latency`` of
    ``_between``'s point, its segment computed once), not every figure at every step."""
    main = _segment(curve, i, f"{name}_ms_{percentile}")
    fallback = _segment(curve, i, f"{name}_ms_p50") if percentile == "p99" and main is None else None
    read = main or fallback
    ends = (latency(curve[i].figures, name, percentile), latency(curve[i + 1].figures, name, percentile))
    meets, misses_at = (0.0, 1.0) if rising else (1.0, 0.0)
    for _ in range(60):
        middle = (meets + misses_at) / 2
        # rounding may reach an end: the measured point there (as ``_between``)
        inside = 0 < middle < 1
        value = ends[middle >= 1] if not inside else None if read is None else read(middle)
        if value is not None and value <= limit:
            meets = middle
        else:
            misses_at = middle
    return meets


def under_slo(curve: Sequence[Point], slo: Mapping[str, float], percentile: str) -> Point | None:
    """The highest-scoring point of the curve that meets every SLO (measured, or on the SLO
    boundary between two measured points); None when no point of it does. A tie goes to
    the lower concurrency."""
    found: list[Point] = [p for p in curve if not misses(p, slo, percentile)]
    for i in range(len(curve) - 1):
        span = _feasible(curve, i, slo, percentile)
        if span is not None:
            found += [_between(curve, i, t) for t in span if 0 < t < 1]
    scored = [p for p in found if p.figures["score"] is not None]
    if not scored:
        return None
    return max(scored, key=lambda p: (p.figures["score"], -p.concurrency))


def common_concurrency(curves: Iterable[Sequence[Point]]) -> tuple[float, int, int] | None:
    """The highest concurrency that the most curves measured or bracket: (concurrency, how
    many curves reach it, how many curves); None without a curve."""
    ranges = [(c[0].concurrency, c[-1].concurrency) for c in curves if c]
    if not ranges:
        return None
    measured = {x for lo, hi in ranges for x in (lo, hi)}
    reached = {x: sum(lo <= x <= hi for lo, hi in ranges) for x in measured}
    best = max(measured, key=lambda x: (reached[x], x))
    return best, reached[best], len(ranges)


def falls(curve: Sequence[Point], fraction: float = 0.5) -> str | None:
    """Where the throughput of a curve falls by more than ``fraction`` from one measured
    concurrency to the next, in words (None: nowhere). More clients rarely serve less than
    half as much: such a row may be a run that failed; it is kept, and said."""
    for a, b in pairwise(curve):
        x, y = a.figures["score"], b.figures["score"]
        if x and y is not None and y < x * (1 - fraction):
            return (
                f"throughput falls {100 * (1 - y / x):.0f}% from concurrency {a.concurrency:g} to "
                f"{b.concurrency:g} ({x:.4g} -> {y:.4g}): that row may be a failed run"
            )
    return None


def leave_one_out(curve: Sequence[Point]) -> Iterable[tuple[Point, Point]]:
    """Each interior measured point of a curve, with its prediction from all the others
    (the curve without it): what a backtest scores."""
    for i in range(1, len(curve) - 1):
        predicted = at([*curve[:i], *curve[i + 1 :]], curve[i].concurrency)
        assert predicted is not None  # an interior point lies inside the others' range
        yield curve[i], predicted
