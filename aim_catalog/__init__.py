"""aim-catalog: a SQL catalog of LLM serving recipes for AMD Instinct GPUs.

The Python API (``from aim_catalog import Catalog, SelectionOptions, Request``) is exported
lazily: importing this package imports nothing heavy; SQLAlchemy, YAML and Docker load only
when something that needs them runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from aim_catalog.api import Catalog
    from aim_catalog.errors import CatalogError
    from aim_catalog.launch.plan import LaunchOptions
    from aim_catalog.selection.explaining import Explanation
    from aim_catalog.selection.options import SelectionOptions
    from aim_catalog.selection.request import Candidate, Request, Verdict

# name -> module that defines it
_EXPORTS = {
    "Catalog": "aim_catalog.api",
    "Explanation": "aim_catalog.selection.explaining",
    "SelectionOptions": "aim_catalog.selection.options",
    "Request": "aim_catalog.selection.request",
    "Candidate": "aim_catalog.selection.request",
    "Verdict": "aim_catalog.selection.request",
    "LaunchOptions": "aim_catalog.launch.plan",
    "CatalogError": "aim_catalog.errors",
}

__all__ = [
    "Candidate",
    "Catalog",
    "CatalogError",
    "Explanation",
    "LaunchOptions",
    "Request",
    "SelectionOptions",
    "Verdict",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'aim_catalog' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
