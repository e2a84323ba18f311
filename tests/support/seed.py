"""The bundled catalog (seed_recipes/) as the tests read it."""

from __future__ import annotations

from typing import Any

from aim_catalog.recipes.files import load_recipes
from aim_catalog.storage.resources import seed_recipe_dir

DSR1 = "deepseek-ai/DeepSeek-R1-0528"


GENERATIONS = {"MI300X": "gfx942", "MI325X": "gfx942", "MI355X": "gfx950"}


def generated(recipe: Any) -> bool:
    by = recipe.document["source"].get("generated_by") or ""
    return bool(by.startswith("scripts/gen_inferencex_recipes.py"))


def bundled() -> list[Any]:
    recipes, problems, files = load_recipes([seed_recipe_dir()])
    assert problems == [] and len(recipes) == files
    return recipes
