"""Choosing the best serve config for a request: one indexed SQL query.

The query and the predicates it ANDs are ``matching``'s, the comparison of the candidates'
curves at one operating point ``compare``'s; ``explain`` (``explaining``) reads the same
predicates per config. This module answers ``select``, with the general-profile
and any-backend fallbacks, asked only after a miss.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from aim_catalog.selection.compare import compare
from aim_catalog.selection.matching import query_of
from aim_catalog.selection.request import Candidate, Executor, Request, dialect_name, general_model
from aim_catalog.settings import ANY

log = logging.getLogger(__name__)


def select_best(session: Executor, request: Request) -> Candidate:
    """The winning config, or ``NoSuitableRecipe`` listing what the model supports."""
    if log.isEnabledFor(logging.DEBUG):
        from aim_catalog.selection.explaining import log_checks

        log_checks(session, request)  # every match check, as AIM Engine's debug mode logged
    statement, params = query_of(request, dialect_name(session), explain=False)
    rows = session.execute(statement, params).all()
    if not rows:
        return _after_miss(session, request, statement, params)
    chosen = compare(rows, request)[0]
    log.info("Selected recipe: %s", chosen.recipe_id)
    return chosen


def _after_miss(session: Executor, request: Request, statement: Any, params: dict[str, Any]) -> Candidate:
    """No candidate: a general AIM profile, or the best of any backend (when the backend was
    defaulted), else ``NoSuitableRecipe``. Its modules are imported only on a miss."""
    from aim_catalog.errors import NoSuitableRecipe
    from aim_catalog.selection.fallback import general_fallback, without_default_backend
    from aim_catalog.selection.listing import configurations, no_match_message

    configs = configurations(session, request.model)  # read once for the three questions
    if general_fallback(session, request, configs):
        # No recipe names the model: a general AIM profile may serve it (as AIM falls back).
        rows = session.execute(statement, {**params, "model": general_model()}).all()
        if rows:
            chosen = compare(rows, request)[0]
            log.info("Selected recipe: %s", chosen.recipe_id)
            return replace(chosen, model_id=request.model, huggingface_id=request.model, fallback=True)
    if without_default_backend(session, request, configs):
        return replace(select_best(session, replace(request, backend=ANY)), any_backend=True)
    raise NoSuitableRecipe(no_match_message(session, request, configs))


def goal_note(request: Request, chosen: Candidate) -> str | None:
    """With --goal, when no candidate declares that goal (the goal orders first, so the
    winner would have it): the goal did not change the answer, say so."""
    if request.goal is None or chosen.goal == request.goal:
        return None
    return (
        f"no candidate config declares the goal {request.goal} (AIM profiles do; recipes may set "
        "'goal'): --goal did not change the choice"
    )
