"""The catalog back as recipe YAML: one file per recipe, benchmarks (imported ones too)
included, so that ingesting the directory into an empty catalog gives the same catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from aim_catalog.models import Benchmark, Recipe, ServeConfig
from aim_catalog.recipe import BENCHMARK_FIELDS
from aim_catalog.settings import BACKENDS


class _Dumper(yaml.SafeDumper):
    """Never anchors and aliases: our own validator refuses them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def recipe_document(recipe: Recipe) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "recipe_id": recipe.recipe_id,
        "model_id": recipe.model_id,
        "huggingface_id": recipe.huggingface_id,
        "hardware": recipe.hardware,
        "precision": recipe.precision,
    }
    order = {b: i for i, b in enumerate(BACKENDS)}
    for config in sorted(recipe.serve_configs, key=lambda c: (order.get(c.backend, 99), c.gpu_count)):
        body: dict[str, Any] = {"enabled": config.enabled}
        if config.args:
            body["args"] = dict(config.args)
        if config.image:
            body["image"] = config.image
        if config.env:
            body["env"] = dict(config.env)
        rows = [_benchmark(b) for b in sorted(config.benchmarks, key=lambda b: b.id)]
        if rows:
            body["benchmarks"] = rows
        doc.setdefault(f"{config.backend}_serve", {})[f"{config.gpu_count}_gpu"] = body
    return doc


def _benchmark(row: Benchmark) -> dict[str, Any]:
    return {name: getattr(row, name) for name in BENCHMARK_FIELDS if getattr(row, name) is not None}


def export(session: Session, out: Path) -> list[Path]:
    """Write every recipe to ``out/<recipe_id>.yaml``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    recipes = session.scalars(
        select(Recipe)
        .options(selectinload(Recipe.serve_configs).selectinload(ServeConfig.benchmarks))
        .order_by(Recipe.recipe_id)
    )
    written = []
    for recipe in recipes:
        path = out / f"{recipe.recipe_id}.yaml"
        text = yaml.dump(
            recipe_document(recipe), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000
        )
        path.write_text(f"# exported from an aim-catalog catalog\n{text}", encoding="utf-8")
        written.append(path)
    return written
