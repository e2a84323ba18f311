"""The seed design's recipe selection, as the benchmarks' baseline.

``/work/shared/seed/000_bb08ab0089a1e964.txt`` (Steps 1-3): load every ``*.yaml`` of the
recipes directory with ``yaml.safe_load`` into a dict keyed by recipe_id, then keep the
recipes whose huggingface_id and precision match, that have a ``{backend}_serve`` section
with a ``{N}_gpu`` entry, and whose entry is enabled; the first match wins.

As a cold process, which is how the seed's ``aim-engine`` CLI pays for it on every call::

    python benchmarks/seed_select.py DIR MODEL GPUS --precision bf16 --backend vllm [--c-loader]

``--c-loader`` swaps ``yaml.safe_load`` (PyYAML's pure-Python loader, what the seed calls)
for ``yaml.load(f, Loader=yaml.CSafeLoader)`` to show what libyaml alone would buy it.
Exit code 3 when nothing matches, like ``aim-catalog select``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml


def load_all(directory: Path, c_loader: bool = False) -> dict[str, dict[str, Any]]:
    """Step 1, ``_load_recipes``: every ``*.yaml`` in the directory, keyed by recipe_id."""
    recipes: dict[str, dict[str, Any]] = {}
    for recipe_file in directory.glob("*.yaml"):
        with open(recipe_file) as f:
            recipe = yaml.load(f, Loader=yaml.CSafeLoader) if c_loader else yaml.safe_load(f)
            recipes[recipe["recipe_id"]] = recipe
    return recipes


def find_matching_recipes(
    recipes: dict[str, dict[str, Any]], model_id: str, gpu_count: int, precision: str, backend: str
) -> list[dict[str, Any]]:
    """Step 2, ``find_matching_recipes``, check for check."""
    matching_recipes = []
    backend_key = f"{backend}_serve"
    gpu_key = f"{gpu_count}_gpu"
    for recipe in recipes.values():
        if recipe.get("huggingface_id") != model_id:
            continue
        if recipe.get("precision") != precision:
            continue
        if backend_key not in recipe:
            continue
        if gpu_key not in recipe[backend_key]:
            continue
        if not recipe[backend_key][gpu_key].get("enabled", False):
            continue
        matching_recipes.append(recipe)
    return matching_recipes


def select_recipe(
    recipes: dict[str, dict[str, Any]], model_id: str, gpu_count: int, precision: str, backend: str
) -> dict[str, Any] | None:
    """Step 3, ``select_best_recipe``: the first match."""
    matching = find_matching_recipes(recipes, model_id, gpu_count, precision, backend)
    return matching[0] if matching else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The seed design's selection over a recipe directory.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("model")
    parser.add_argument("gpus", type=int)
    parser.add_argument("--precision", default="bf16")
    parser.add_argument("--backend", default="vllm")
    parser.add_argument("--c-loader", action="store_true", help="libyaml's CSafeLoader instead of safe_load")
    args = parser.parse_args(argv)
    recipes = load_all(args.directory, args.c_loader)
    chosen = select_recipe(recipes, args.model, args.gpus, args.precision, args.backend)
    if chosen is None:
        print(f"No suitable recipe found for {args.model}", file=sys.stderr)
        return 3
    config = chosen[f"{args.backend}_serve"][f"{args.gpus}_gpu"]
    answer = {
        "recipe_id": chosen["recipe_id"],
        "huggingface_id": chosen["huggingface_id"],
        "hardware": chosen.get("hardware"),
        "precision": chosen["precision"],
        "backend": args.backend,
        "gpu_count": args.gpus,
        "args": config.get("args", {}),
        "image": config.get("image"),
    }
    print(json.dumps(answer, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
