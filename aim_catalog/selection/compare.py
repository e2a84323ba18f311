"""Configs compared at one operating point, never at whatever concurrency each reached.

The selection statement (``matching``) hands every candidate with its rows of the scenario
(the ``curve`` column); here each config's curve (``curves.curve_of``: the rows of the image
it launches now, else of the image measured last) is read at one operating point:

- with SLOs: the highest throughput on the curve whose latencies meet every SLO at the
  asked percentile (at ``--concurrency N`` too: the curve at N, if it meets them);
- with ``--concurrency N``: the curve at N;
- with neither: the highest concurrency that the most configs measured or bracket.

A config whose curve cannot be read there ranks after those that can, with the reason.
When no candidate has a row with a concurrency there is no curve: the statement's order (by
each config's best row) stands. Python over the candidates' rows: O(rows).

May import selection's ``curves``, ``matching``, ``evidence`` and ``request``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from aim_catalog.selection import curves
from aim_catalog.selection.curves import Point
from aim_catalog.selection.evidence import launch_image, row_summaries
from aim_catalog.selection.matching import PROVENANCE, candidate_of, profile_rank
from aim_catalog.selection.request import Candidate, Request


def compare(rows: Sequence[Any], request: Request) -> list[Candidate]:
    """The candidates of the selection statement's ``rows``, best first."""
    found: list[_Config] = []
    for row in rows:
        candidate = candidate_of(row, request)
        points, unplaced = curves.parse(row.curve)
        launch = launch_image(candidate)
        curve, image = curves.curve_of(points, launch)
        found.append(_Config(candidate, curve, image, launch, unplaced))
    if not any(c.curve for c in found) and request.concurrency is None:
        return [c.candidate for c in found]  # no curve: each config's best row
    mode, at = _operating(request, [c.curve for c in found])
    readings = [_reading(c.curve, request, at) for c in found]
    reached = sum(1 for point, _ in readings if point is not None)
    comparison = {
        "mode": mode,
        "concurrency": at,
        "percentile": request.percentile if request.slo else None,
        "reached": reached,
        "compared": sum(1 for c in found if c.curve or c.unplaced),
    }
    judged = [_judged(c, reading, request, comparison) for c, reading in zip(found, readings, strict=True)]
    return sorted(judged, key=lambda c: _order(c, request))


def _operating(request: Request, found: list[list[Point]]) -> tuple[str, float | None]:
    """How configs are compared: (mode, the concurrency they are read at)."""
    if request.slo:
        mode = "slo"
        at = None if request.concurrency is None else float(request.concurrency)
    elif request.concurrency is not None:
        mode, at = "concurrency", float(request.concurrency)
    else:
        common = curves.common_concurrency(found)
        mode, at = "common", (common[0] if common else None)
    return mode, at


def _reading(curve: list[Point], request: Request, at: float | None) -> tuple[Point | None, str]:
    """The curve's operating point, or why it has none."""
    if not curve:
        return None, "no benchmark"
    span = _span(curve)
    if at is not None:
        point = curves.at(curve, at)
        if point is None:
            return None, f"measured at concurrency {span} only: not read at {at:g} (never extrapolated)"
        missed = curves.misses(point, request.slo, request.percentile) if request.slo else []
        if missed:
            return None, f"at concurrency {at:g}: misses the SLO: " + "; ".join(missed)
        return point, ""
    point = curves.under_slo(curve, request.slo, request.percentile)
    if point is None:
        missed = curves.misses(curve[0], request.slo, request.percentile)
        return None, (
            f"no point of its curve (concurrency {span}) meets the SLO; at {curve[0].concurrency:g}: "
            + "; ".join(missed)
        )
    return point, ""


def _span(curve: list[Point]) -> str:
    low, high = curve[0].concurrency, curve[-1].concurrency
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


class _Config(NamedTuple):
    """A candidate with its curve, the image the curve was measured on, the image it
    launches now, and how many of its rows say no concurrency."""

    candidate: Candidate
    curve: list[Point]
    image: str | None
    launch: str | None
    unplaced: int


def _judged(
    config: _Config, reading: tuple[Point | None, str], request: Request, comparison: dict[str, Any]
) -> Candidate:
    """The candidate read at the operating point (``_reading``): its score there, or why it
    has none."""
    candidate, curve, image, unplaced = config.candidate, config.curve, config.image, config.unplaced
    point, why = reading
    if point is None:
        if not curve and unplaced:
            why = f"its {unplaced} row(s) do not say their concurrency: not comparable at an operating point"
        elif curve and image != config.launch:
            why += f" (rows of {image})"
        unreached = None if why == "no benchmark" else why
        return replace(
            candidate,
            score=None,
            per_gpu=None,
            host_total=None,
            benchmark=None,
            unreached=unreached,
            comparison=comparison,
        )
    score = point.figures["score"]
    assert score is not None  # curves keep only rows with a score
    first = point.rows[0]
    benchmark = {name: first.get(name) for name in PROVENANCE}
    return replace(
        candidate,
        metric=candidate.metric or request.metric,
        score=score,
        per_gpu=score / candidate.gpu_count,
        host_total=None if candidate.replicas is None else candidate.replicas * score,
        benchmark=benchmark,
        operating_point={
            **_described(point, image, candidate.gpu_count, request.percentile),
            "warning": curves.falls(curve),
        },
        comparison=comparison,
    )


def _described(point: Point, image: str | None, gpus: int, percentile: str) -> dict[str, Any]:
    """An operating point as answers show it (JSON-ready)."""
    score = point.figures["score"]
    tpot = curves.latency(point.figures, "tpot", percentile)
    return {
        "concurrency": round(point.concurrency, 2),
        "kind": point.kind,
        "between": list(point.between) if point.between else None,
        "throughput": score,
        "throughput_per_gpu": None if score is None else score / gpus,
        "percentile": percentile,
        **{f"{name}_ms": curves.latency(point.figures, name, percentile) for name in curves.LATENCIES},
        "interactivity": None if not tpot else 1000 / tpot,
        "power_w_per_gpu": point.figures["power_w_per_gpu"],
        "image": image,
        "rows": row_summaries(point.rows),
    }


def _order(candidate: Candidate, request: Request) -> tuple[Any, ...]:
    """The statement's ORDER BY over operating points: goal, then configs read at the
    point by their score there, then those that cannot be read, then those without rows."""
    goal = 0 if request.goal is None or candidate.goal == request.goal else 1
    group = 0 if candidate.score is not None else (1 if candidate.unreached else 2)
    key = (candidate.per_gpu if request.per_gpu else candidate.score) or 0.0
    return (
        goal,
        group,
        -key,
        profile_rank(candidate.profile_type),
        candidate.recipe_id,
        candidate.gpu_count,
        candidate.backend,
    )


def comparison_sentence(comparison: dict[str, Any] | None) -> str | None:
    """How the configs were compared, in one line (None: by each config's best row)."""
    if not comparison:
        return None
    reached, compared = comparison["reached"], comparison["compared"]
    at = comparison["concurrency"]
    if comparison["mode"] == "slo":
        where = f" at concurrency {at:g}" if at is not None else ""
        return (
            f"compared at the highest throughput meeting the SLO at {comparison['percentile']}{where}: "
            f"{reached} of {compared} measured configs reach it"
        )
    if comparison["mode"] == "concurrency":
        return f"compared at concurrency {at:g} (asked): {reached} of {compared} measured configs reach it"
    if at is None:
        return None
    return (
        f"compared at concurrency {at:g}, the highest that the most configs measured or bracket "
        f"({reached} of {compared})"
    )
