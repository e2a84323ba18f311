"""The catalog back as recipe YAML: one file per recipe, benchmarks (imported ones too,
with their origin and import key) included, so that ingesting the directory into an empty
catalog gives the same catalog, and re-importing a result file after that adds nothing.

The catalog may be shared, so its rows are not trusted with the file system: every file
name is a validated recipe_id inside ``--out``; files are written into a private temporary
directory first and renamed into place only once all of them are complete, so a failure
(a full disk, a read-only target) leaves no partial export behind.

Nor are they trusted to ingest back: a figure a catalog of an older version let in that
``ingest`` refuses now (infinite, or outside ``bounds``) is left out of its row, with a note
(a row left without a figure is left out), and every file is validated as ``ingest`` would
before anything is written. A file that would still be refused stops the export with the
reason: a backup that cannot be restored is not written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from aim_catalog.backends.registry import BACKENDS
from aim_catalog.errors import EnvironmentProblem, shown
from aim_catalog.notes import Note, quiet
from aim_catalog.recipes import bounds
from aim_catalog.recipes.files import parse_bytes
from aim_catalog.recipes.format import RECIPE_ID_RE
from aim_catalog.recipes.provenance import recipe_source
from aim_catalog.settings import METRIC_FIELDS
from aim_catalog.storage.models import Benchmark, Recipe, ServeConfig
from aim_catalog.writing import write_files

HEADER = "# exported from an aim-catalog catalog\n"
# Not part of a recipe's benchmark row: the row's own keys, and the default origin.
_NOT_EXPORTED = ("id", "serve_config_id")


class NoAliasDumper(yaml.SafeDumper):
    """Never anchors and aliases: our own validator refuses them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def recipe_document(recipe: Recipe, note: Note = quiet) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "recipe_id": recipe.recipe_id,
        "model_id": recipe.model_id,
        "huggingface_id": recipe.huggingface_id,
        "hardware": recipe.hardware,
        "precision": recipe.precision,
    }
    if recipe.status != "current":
        doc["status"] = recipe.status
        doc["retired_reason"] = recipe.retired_reason
        if recipe.retired_on is not None:
            doc["retired_on"] = recipe.retired_on.isoformat()
    source = recipe_source(recipe.document)
    if source is not None:  # where its flags and numbers come from travels with it
        doc["source"] = source
    order = {b: i for i, b in enumerate(BACKENDS)}
    for config in sorted(recipe.serve_configs, key=lambda c: (order.get(c.backend, 99), c.gpu_count)):
        body: dict[str, Any] = {"enabled": config.enabled}
        if config.args:
            body["args"] = dict(config.args)
        if config.image:
            body["image"] = config.image
        if config.env:
            body["env"] = dict(config.env)
        if config.setup:
            body["setup"] = list(config.setup)
        # An AMD AIM profile's metadata: without profile_type, ingest would refuse a profile
        # whose --model is its model_id (recipes.flags.served_models), and --goal would not find it.
        for field in ("goal", "profile_type"):
            if getattr(config, field) is not None:
                body[field] = getattr(config, field)
        if config.manual_only:
            body["manual_selection_only"] = True
        where = f"{recipe.recipe_id} {config.backend} {config.gpu_count} GPU(s)"
        rows = [
            row
            for b in sorted(config.benchmarks, key=lambda b: b.id)
            if (row := _benchmark(b, config.gpu_count, where, note)) is not None
        ]
        if rows:
            body["benchmarks"] = rows
        doc.setdefault(f"{config.backend}_serve", {})[f"{config.gpu_count}_gpu"] = body
    return doc


def _benchmark(row: Benchmark, gpus: int, where: str, note: Note) -> dict[str, Any] | None:
    """Every column of the row that is set (new columns included), in the table's order,
    less the figures no real measurement shows (said); None when no figure is left."""
    out: dict[str, Any] = {}
    for column in Benchmark.__table__.columns:
        value = getattr(row, column.key)
        if column.name in _NOT_EXPORTED or value is None or (column.name == "origin" and value == "recipe"):
            continue
        out[str(column.name)] = value  # a plain str: the YAML dumper refuses quoted_name
    dropped = bounds.problems(out, gpus)
    for name, _ in dropped:
        del out[name]
    said = "; ".join(f"{name} {why}" for name, why in dropped)
    if not any(k in out for k in METRIC_FIELDS):
        note(f"{where}, benchmark row {row.id} left out: no figure ingest accepts ({said})")
        return None
    for name, why in dropped:
        note(f"{where}, benchmark row {row.id}: {name} left out ({why})")
    return out


def export(session: Session, out: Path, note: Note = quiet) -> list[Path]:
    """Write every recipe to ``out/<recipe_id>.yaml``; returns the files written.

    All or nothing: an unsafe recipe_id in the catalog, a file ``ingest`` would refuse or
    any write error raises ``EnvironmentProblem`` and leaves ``out`` as it was. ``note``
    hears each figure left out (see the module's docstring).
    """
    recipes = session.scalars(
        select(Recipe)
        .options(selectinload(Recipe.serve_configs).selectinload(ServeConfig.benchmarks))
        .order_by(Recipe.recipe_id)
    )
    files: dict[str, bytes] = {}
    for recipe in recipes:
        if not RECIPE_ID_RE.fullmatch(recipe.recipe_id):
            raise EnvironmentProblem(
                f"the catalog holds recipe_id {shown(recipe.recipe_id)}, which is not a valid recipe_id "
                f"({RECIPE_ID_RE.pattern}) and cannot name a file: nothing was exported"
            )
        text = yaml.dump(
            recipe_document(recipe, note),
            Dumper=NoAliasDumper,
            sort_keys=False,
            allow_unicode=True,
            width=1000,
        )
        name = f"{recipe.recipe_id}.yaml"
        files[name] = _ingestible(HEADER + text, out / name)
    try:
        return write_files(out, files)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise EnvironmentProblem(f"cannot export to {out}: {reason} (nothing was written)") from None


def _ingestible(text: str, path: Path) -> bytes:
    """The file's bytes, once ``ingest``'s own checks accept them."""
    data = text.encode("utf-8")
    _, problems = parse_bytes(data, str(path))
    if problems:
        raise EnvironmentProblem(
            f"cannot export: ingest would refuse the file written for this catalog's recipe "
            f"({problems[0]}); nothing was written"
        )
    return data
