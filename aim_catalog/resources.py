"""Where the bundled migrations and seed recipes are.

In the repository they sit at the top level, beside ``aim_catalog/`` (the design card's
layout); a wheel maps them into the package at build time (pyproject.toml), so an
installed copy finds them inside itself, whatever the working directory.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str, marker: str) -> Path:
    inside = _PACKAGE / name
    if any(inside.glob(marker)):  # an installed wheel
        return inside
    return _PACKAGE.parent / name  # a source checkout or an editable install


def migrations_dir() -> Path:
    """The Alembic script directory (``env.py``, ``versions/``)."""
    return _bundled("migrations", "env.py")


def seed_recipe_dir() -> Path:
    """The bundled recipes a new default catalog is filled with."""
    return _bundled("seed_recipes", "*.yaml")
