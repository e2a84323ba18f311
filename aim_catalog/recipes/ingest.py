"""Validated recipes -> one transaction of upserts.

The caller owns the session and decides whether to commit (``--dry-run`` rolls back).
Unchanged files (same content hash, same path) are skipped, so re-ingesting changes no
row and no timestamp; changed recipes are updated in place, keeping their serve config
ids stable; ``prune_dirs`` removes recipes whose files are gone from those directories.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from aim_catalog.errors import InvalidRecipeInput, Problem
from aim_catalog.recipes.files import load_files
from aim_catalog.recipes.format import Origin, RecipeDoc
from aim_catalog.storage.dialects import insert_missing, lock_for_write, upsert
from aim_catalog.storage.models import Benchmark, Recipe, ServeConfig
from aim_catalog.storage.resources import seed_recipe_dir

# Bound parameters per IN (...) list: well under SQLite's and PostgreSQL's limits.
CHUNK = 500
T = TypeVar("T")


@dataclass(frozen=True)
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    files: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        text = (
            f"added {len(self.added)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, removed {len(self.removed)}"
        )
        return text + (" (dry run: nothing written)" if self.dry_run else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "files": self.files,
            "dry_run": self.dry_run,
        }


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def known_files(session: Session, paths: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``source path -> (content sha256, recipe_id)`` for the given paths already ingested."""
    found: dict[str, tuple[str, str]] = {}
    columns = select(Recipe.source_path, Recipe.content_sha256, Recipe.recipe_id)
    # source_path has no index: one scan of the table beats a scan per chunk of paths.
    queries = [columns] if len(paths) > CHUNK else [columns.where(Recipe.source_path.in_(paths))]
    wanted = set(paths)
    for query in queries if paths else []:
        for path, sha, recipe_id in session.execute(query):
            if path in wanted:
                found[path] = (sha, recipe_id)
    return found


def ingest_files(
    session: Session,
    files: Sequence[Path],
    *,
    prune_dirs: Iterable[Path] = (),
    load: Callable[..., tuple[list[RecipeDoc], list[Problem]]] | None = None,
) -> IngestReport:
    """What ``aim-catalog ingest`` does: files -> catalog, parsing only new or changed files.

    Files are read, parsed and validated before the write lock is taken, so other writers
    queue only behind the writes themselves, not behind YAML parsing. Once the lock is
    held, a file skipped as unchanged whose catalog row another writer changed meanwhile
    is parsed then. Any invalid file raises ``InvalidRecipeInput`` before a single write.
    ``load`` is ``files.load_files`` or a wrapper of it (a progress bar).
    """
    load = load or load_files
    paths = [str(f) for f in files]
    known = known_files(session, paths)
    # End the read: SQLite cannot turn a read snapshot that another writer has since
    # moved past into a write (it fails at once instead of waiting for the lock).
    session.rollback()
    recipes, problems = load(files, known={path: sha for path, (sha, _) in known.items()})
    if problems:
        raise InvalidRecipeInput(problems)
    lock_for_write(session)
    parsed = {r.path for r in recipes}
    now_known = known_files(session, [p for p in paths if p in known and p not in parsed])
    moved = [Path(p) for p in paths if p in known and p not in parsed and now_known.get(p) != known[p]]
    if moved:  # rare: another writer changed these rows between our read and our lock
        more, problems = load(
            moved, known={p: now_known[str(p)][0] for p in map(str, moved) if p in now_known}
        )
        problems += _duplicates(recipes, more)
        if problems:
            raise InvalidRecipeInput(problems)
        recipes = [*recipes, *more]
        parsed |= {r.path for r in more}
    unchanged = [recipe_id for path, (_, recipe_id) in now_known.items() if path not in parsed]
    return ingest(session, recipes, unchanged=unchanged, prune_dirs=prune_dirs)


def _duplicates(first: Sequence[RecipeDoc], more: Sequence[RecipeDoc]) -> list[Problem]:
    seen = {r.recipe_id: r for r in first}
    return [
        r.id_problem(f"duplicate recipe_id {r.recipe_id!r}; also in {seen[r.recipe_id].path}")
        for r in more
        if r.recipe_id in seen
    ]


def ingest(
    session: Session,
    recipes: Sequence[RecipeDoc],
    *,
    unchanged: Sequence[str] = (),
    prune_dirs: Iterable[Path] = (),
    now: datetime | None = None,
) -> IngestReport:
    """Write ``recipes`` (already validated, recipe_ids unique) into the catalog.

    ``unchanged`` are recipe_ids whose files the caller found identical to the catalog
    (by ``known_files``) and did not parse: reported as unchanged, never pruned.
    """
    lock_for_write(session)
    now = now or datetime.now(timezone.utc)
    added: list[str] = []
    updated: list[str] = []
    same: list[str] = list(unchanged)
    existing = _existing(session, [r.recipe_id for r in recipes])
    conflicts = _claimed_elsewhere(recipes, existing)
    if conflicts:
        raise InvalidRecipeInput(conflicts)
    changed: list[RecipeDoc] = []
    for recipe in recipes:
        known = existing.get(recipe.recipe_id)
        if known is None:
            added.append(recipe.recipe_id)
            changed.append(recipe)
        elif known[1] == recipe.sha256 and known[2] == recipe.path:
            same.append(recipe.recipe_id)
        else:
            updated.append(recipe.recipe_id)
            changed.append(recipe)
    if changed:
        _write(session, changed, now)
    removed = _prune(session, prune_dirs, {r.recipe_id for r in recipes} | set(unchanged))
    return IngestReport(added, updated, same, removed, files=len(recipes) + len(unchanged))


def _claimed_elsewhere(
    recipes: Sequence[RecipeDoc], existing: dict[str, tuple[int, str, str | None]]
) -> list[Problem]:
    """A recipe_id belongs to one file: another file may take it over only once that file is gone.

    Bundled seed recipes are the exception: a user's file with the same id replaces them.
    """
    batch = {r.path for r in recipes}
    seeds = str(seed_recipe_dir()) + os.sep
    problems = []
    for recipe in recipes:
        known = existing.get(recipe.recipe_id)
        owner = known[2] if known else None
        if owner is None or owner == recipe.path or owner in batch or owner.startswith(seeds):
            continue
        if Path(owner).exists():
            problems.append(
                recipe.id_problem(
                    f"recipe_id {recipe.recipe_id!r} is already in the catalog from {owner}, which "
                    "still exists; rename one of them, or remove that file first"
                )
            )
    return problems


def _existing(session: Session, recipe_ids: Sequence[str]) -> dict[str, tuple[int, str, str | None]]:
    found: dict[str, tuple[int, str, str | None]] = {}
    for part in chunks(recipe_ids):
        rows = session.execute(
            select(Recipe.recipe_id, Recipe.id, Recipe.content_sha256, Recipe.source_path).where(
                Recipe.recipe_id.in_(part)
            )
        )
        for recipe_id, pk, sha, path in rows:
            found[recipe_id] = (pk, sha, path)
    return found


def _write(session: Session, recipes: Sequence[RecipeDoc], now: datetime) -> None:
    pks = _upsert_recipes(session, recipes, now)
    config_ids, bench_by_key = _upsert_configs(session, recipes, pks)
    kept = set(config_ids.values())
    stale: list[int] = []
    for part in chunks(list(pks.values())):
        ids = session.scalars(select(ServeConfig.id).where(ServeConfig.recipe_pk.in_(part)))
        stale.extend(i for i in ids if i not in kept)
    for part in chunks(stale):
        session.execute(delete(ServeConfig).where(ServeConfig.id.in_(part)))
    _replace_benchmarks(session, config_ids, bench_by_key)


def _upsert_recipes(session: Session, recipes: Sequence[RecipeDoc], now: datetime) -> dict[str, int]:
    """Insert or update the recipes' rows; ``recipe_id -> primary key``."""
    recipe_rows = [
        {
            "recipe_id": r.recipe_id,
            "model_id": r.model_id,
            "huggingface_id": r.huggingface_id,
            "hardware": r.hardware,
            "precision": r.precision,
            "source_path": r.path,
            "content_sha256": r.sha256,
            "document": r.document,
            "created_at": now,
            "updated_at": now,
            "general": r.general,  # an AIM general profile: answers only models no recipe names
            "status": r.status,  # current | retired (with why and when)
            "retired_reason": r.retired_reason,
            "retired_on": r.retired_on,
        }
        for r in recipes
    ]
    columns = [c for c in recipe_rows[0] if c not in ("recipe_id", "created_at")]
    return {
        row.recipe_id: row.id
        for row in upsert(
            session,
            Recipe.__table__,
            recipe_rows,
            key=["recipe_id"],
            update=columns,
            returning=["id", "recipe_id"],
        )
    }


_ConfigKey = tuple[int, str, int]  # (recipe primary key, backend, GPU count)


def _upsert_configs(
    session: Session, recipes: Sequence[RecipeDoc], pks: dict[str, int]
) -> tuple[dict[_ConfigKey, int], dict[_ConfigKey, list[dict[str, Any]]]]:
    """Insert or update the serve configs (ids stay stable); their ids and benchmark rows by key."""
    config_rows = []
    bench_by_key: dict[_ConfigKey, list[dict[str, Any]]] = {}
    for r in recipes:
        for c in r.serve_configs:
            key = (pks[r.recipe_id], c.backend, c.gpu_count)
            config_rows.append(
                {
                    "recipe_pk": key[0],
                    "backend": c.backend,
                    "gpu_count": c.gpu_count,
                    "enabled": c.enabled,
                    "args": c.args,
                    "env": c.env,
                    "image": c.image,
                    "goal": c.goal,  # AIM profile metadata: what the config is tuned for
                    "profile_type": c.profile_type,
                    "manual_only": c.manual_only,
                    "setup": list(c.setup),  # pip install lines run before the server
                }
            )
            bench_by_key[key] = c.benchmarks
    config_ids = {
        (row.recipe_pk, row.backend, row.gpu_count): row.id
        for row in upsert(
            session,
            ServeConfig.__table__,
            config_rows,
            key=["recipe_pk", "backend", "gpu_count"],
            update=["enabled", "args", "env", "image", "goal", "profile_type", "manual_only", "setup"],
            returning=["id", "recipe_pk", "backend", "gpu_count"],
        )
    }
    return config_ids, bench_by_key


def _replace_benchmarks(
    session: Session,
    config_ids: dict[_ConfigKey, int],
    bench_by_key: dict[_ConfigKey, list[dict[str, Any]]],
) -> None:
    # A changed recipe's own benchmarks are replaced wholesale (the file is the truth);
    # rows brought in by `bench import` stay.
    for part in chunks(sorted(set(config_ids.values()))):
        session.execute(
            delete(Benchmark).where(
                Benchmark.serve_config_id.in_(part), Benchmark.origin == Origin.RECIPE.value
            )
        )
    bench_rows = [
        {**_BENCH_DEFAULTS, **row, "serve_config_id": config_ids[key]}
        for key, rows in bench_by_key.items()
        for row in rows
    ]
    own = [row for row in bench_rows if row["import_key"] is None]
    if own:
        session.execute(insert(Benchmark), own)
    # Imported rows written back by `export` keep their import key: one already in the
    # catalog (imported rows survive re-ingests) is not added twice.
    imported = [row for row in bench_rows if row["import_key"] is not None]
    if imported:
        insert_missing(session, Benchmark.__table__, imported, key=["serve_config_id", "import_key"])


_BENCH_DEFAULTS: dict[str, Any] = {
    **{c.name: None for c in Benchmark.__table__.columns if c.name not in ("id", "serve_config_id")},
    "origin": Origin.RECIPE.value,
}


def _prune(session: Session, dirs: Iterable[Path], keep: set[str]) -> list[str]:
    removed: list[str] = []
    for directory in dirs:
        prefix = str(directory.resolve()).rstrip("/") + "/"
        rows = session.execute(
            select(Recipe.id, Recipe.recipe_id).where(Recipe.source_path.startswith(prefix, autoescape=True))
        )
        gone = [(pk, rid) for pk, rid in rows if rid not in keep and rid not in removed]
        for part in chunks(gone):
            session.execute(delete(Recipe).where(Recipe.id.in_([pk for pk, _ in part])))
        removed.extend(rid for _, rid in gone)
    return sorted(removed)
