"""Choosing the best serve config for a request: one indexed SQL query.

The query and the predicates it ANDs are ``matching``'s; ``explain`` (``explaining``) reads
the same predicates per config. This module answers ``select`` (with the general-profile
and any-backend fallbacks, asked only after a miss) and is the import point of the
selection API: ``Request``, ``Candidate``, ``select_best``, ``explain`` and the listings.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from aim_catalog.backends.server_args import server_argv
from aim_catalog.errors import NoSuitableRecipe
from aim_catalog.selection.explaining import explain
from aim_catalog.selection.fallback import general_fallback, resolve_backend, without_default_backend
from aim_catalog.selection.listing import (
    RecipeSummary,
    configurations,
    list_recipes,
    no_match_message,
    supported_configurations,
)
from aim_catalog.selection.matching import candidate_of, length_window, query_of, selection_query
from aim_catalog.selection.ranking import order_keys
from aim_catalog.selection.request import (
    ANY,
    Candidate,
    ConfigLine,
    Executor,
    Request,
    Verdict,
    dialect_name,
    general_model,
)

__all__ = [
    "Candidate",
    "ConfigLine",
    "Executor",
    "RecipeSummary",
    "Request",
    "Verdict",
    "configurations",
    "explain",
    "goal_note",
    "length_window",
    "list_recipes",
    "no_match_message",
    "order_keys",
    "resolve_backend",
    "select_best",
    "selection_query",
    "server_argv",
    "supported_configurations",
]

log = logging.getLogger(__name__)


def select_best(session: Executor, request: Request) -> Candidate:
    """The winning config, or ``NoSuitableRecipe`` listing what the model supports."""
    if log.isEnabledFor(logging.DEBUG):
        explain(session, request)  # logs every match check, as the seed design's debug mode
    statement, params = query_of(request, dialect_name(session), explain=False)
    row = session.execute(statement, params).first()
    fallback = False
    if row is None and general_fallback(session, request):
        # No recipe names the model: a general AIM profile may serve it (as AIM falls back).
        row = session.execute(statement, {**params, "model": general_model()}).first()
        fallback = row is not None
    if row is None and without_default_backend(session, request):
        return replace(select_best(session, replace(request, backend=ANY)), any_backend=True)
    if row is None:
        raise NoSuitableRecipe(no_match_message(session, request))
    chosen = candidate_of(row, request)
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
