"""The ranking in words: the selection query's ORDER BY, and which key of it put one
candidate before another (explain's "chosen" and "ranked k of n" reasons)."""

from __future__ import annotations

from typing import Any

from aim_catalog.selection.evidence import evidence_of
from aim_catalog.selection.listing import backend_label
from aim_catalog.selection.matching import profile_rank
from aim_catalog.selection.request import Candidate, Request


def order_keys(request: Request) -> str:
    """The ORDER BY of the selection query (``matching.statement``), in words."""
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
    if profile_rank(first.profile_type) != profile_rank(then.profile_type):
        return f"AIM profile type ({first.profile_type or 'recipe'} before {then.profile_type})"
    if first.recipe_id != then.recipe_id:
        return "recipe_id"
    if first.gpu_count != then.gpu_count:
        return "GPU count"
    return "backend"


def rank_reason(
    rank: int,
    total: int,
    found: Candidate,
    other: Candidate | None,
    request: Request,
    *,
    unscored: str = "no benchmark",
) -> str:
    """``other``: the runner-up for the winner, else the config ranked just above;
    ``unscored``: what to say of a config without a comparable row (why it has none)."""
    where = f"{backend_label(found.backend)} {found.gpu_count} GPU"
    tail = unscored if found.score is None else f"{found.metric} {found.score:g}"
    if request.per_gpu and found.per_gpu is not None:
        tail += f" = {found.per_gpu:g} per GPU"
    tail += _at(found.operating_point) + _measured(found.benchmark)
    said = evidence_of(found).sentence()
    if said:
        tail += f"; {said}"
    if found.operating_point and found.operating_point.get("warning"):
        tail += f"; note: {found.operating_point['warning']}"
    if rank == 1:
        key = _decider(found, other, request) if other is not None else None
        extra = ""
        if key and other is not None:
            extra = (
                f"; before {other.recipe_id} ({backend_label(other.backend)} {other.gpu_count} GPU) by {key}"
            )
        if request.goal and found.goal != request.goal:
            extra += f"; no candidate declares the goal {request.goal}"
        return f"chosen: {where}, {tail}{extra} (best of {total})"
    assert other is not None
    key = _decider(other, found, request)
    if key and key.startswith("goal"):  # the goal comes before the score: no tie
        tail += f" (after {other.recipe_id}, which is tuned for the goal {request.goal})"
    elif key:
        tail += f" (tie; {key} after {other.recipe_id}"
        tail += (
            f" {backend_label(other.backend)} {other.gpu_count} GPU)"
            if key in ("GPU count", "backend")
            else ")"
        )
    return f"ranked {rank} of {total}: {where}, {tail}"


def _at(point: dict[str, Any] | None) -> str:
    """Where on its curve the figure was read (configs compared on curves)."""
    if not point:
        return ""
    if point["between"]:
        low, high = point["between"]
        return f" at concurrency {point['concurrency']:g} (interpolated between {low:g} and {high:g})"
    return f" at concurrency {point['concurrency']:g}"


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
