"""How a request is answered when the model's configs leave it open: asked only after a
miss (or by explain), so the select path stays one query.

A model no recipe names is served by AMD AIM's general profiles; a model with no config of
the default backend (the backend not asked) by the best of the backends it has.
"""

from __future__ import annotations

from dataclasses import replace

from aim_catalog.selection.listing import configurations
from aim_catalog.selection.request import Candidate, ConfigLine, Executor, Request, general_model
from aim_catalog.settings import ANY


def general_fallback(session: Executor, request: Request, configs: list[ConfigLine] | None = None) -> bool:
    """General profiles answer only when no recipe names the model (``configs``: the model's
    ``listing.configurations``, when the caller has read them already)."""
    if request.model == general_model():
        return False
    return not (configurations(session, request.model) if configs is None else configs)


def without_default_backend(
    session: Executor, request: Request, configs: list[ConfigLine] | None = None
) -> bool:
    """The backend was left to its default and the model has recipes, none with that backend."""
    if not request.backend_defaulted or request.backend == ANY:
        return False
    configs = configurations(session, request.model) if configs is None else configs
    backends = {c.backend for c in configs}
    return bool(backends) and request.backend not in backends


def resolve_backend(session: Executor, request: Request) -> Request:
    """The request as selection answers it: any backend when the default one has no config.
    The answer settles the default (``backend_defaulted`` is then False), so resolving a
    resolved request asks the catalog nothing."""
    if not request.backend_defaulted:
        return request
    backend = ANY if without_default_backend(session, request) else request.backend
    return replace(request, backend=backend, backend_defaulted=False)


def no_default_backend(chosen: Candidate) -> str:
    """Why the backend was chosen across all of them (the default one has no config)."""
    from aim_catalog.backends.registry import BACKEND_LABELS, DEFAULT_BACKEND

    default = BACKEND_LABELS.get(DEFAULT_BACKEND, DEFAULT_BACKEND)
    return f"{chosen.huggingface_id} has no {default} config; --backend picks one"
