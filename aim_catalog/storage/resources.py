"""Where the bundled migrations and seed recipes are.

In the repository they sit at the top level, beside ``aim_catalog/`` (the design card's
layout); a wheel maps them into the package at build time (pyproject.toml), so an
installed copy finds them inside itself, whatever the working directory. A source
checkout or an editable install finds them beside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # aim_catalog/


def migrations_dir() -> Path:
    """The Alembic script directory (``env.py``, ``versions/``)."""
    inside = _PACKAGE / "migrations"
    return inside if (inside / "env.py").is_file() else _PACKAGE.parent / "migrations"


def seed_recipe_dir() -> Path:
    """The bundled recipes a new default catalog is filled with."""
    inside = _PACKAGE / "seed_recipes"
    return inside if any(inside.glob("*.yaml")) else _PACKAGE.parent / "seed_recipes"


def seed_measurement_files() -> list[Path]:
    """The bundled measured benchmark rows (``seed_recipes/measurements/*.json``), by name."""
    return sorted((seed_recipe_dir() / "measurements").glob("*.json"))
