"""What a catalog holds, and other writers of it: the revision, counts and contents a test
compares, a raw connection holding the write lock, a real `aim-catalog ingest` process."""

from __future__ import annotations

import contextlib
import select
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy import select as sql_select

from aim_catalog.recipes.format import BENCHMARK_FIELDS
from aim_catalog.storage import db
from aim_catalog.storage.dialects.base import WRITE_LOCK_KEY
from aim_catalog.storage.models import Benchmark, Recipe, ServeConfig

BIN = Path(sys.executable).parent  # the installed console scripts


def revision(url: str) -> str | None:
    engine = db.make_engine(url)
    try:
        return db.revision_of(engine)
    finally:
        engine.dispose()


@contextlib.contextmanager
def write_lock_held(url: str) -> Iterator[None]:
    """Another writer: a raw connection holding the catalog write lock until the block ends."""
    parsed = make_url(db.normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        raw = sqlite3.connect(str(parsed.database), isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            raw.execute("ROLLBACK")
            raw.close()
        return
    engine: Engine = db.make_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def recipes_in(url: str) -> int:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM recipes")).scalar()
    engine.dispose()
    return int(count or 0)


def ingest_process(url: str, folder: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    argv = [str(BIN / "aim-catalog"), "--db", url, "ingest", str(folder)]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


WAITING = "another process is writing the catalog; waiting for it"


def first_stderr_line(proc: subprocess.Popen[str], within: float) -> str:
    """The process's first line on stderr; fails (killing it) if none comes in time."""
    assert proc.stderr is not None
    ready, _, _ = select.select([proc.stderr], [], [], within)
    if not ready:
        proc.kill()
        proc.communicate()
        pytest.fail(f"no line on stderr within {within} s")
    return proc.stderr.readline()


def content(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """What a catalog holds, without ids, paths, hashes or timestamps (typed by the models)."""
    r, c, b = Recipe.__table__, ServeConfig.__table__, Benchmark.__table__
    metrics = [b.c[name] for name in BENCHMARK_FIELDS]
    queries = {
        "recipes": sql_select(r.c.recipe_id, r.c.model_id, r.c.huggingface_id, r.c.hardware, r.c.precision),
        "configs": sql_select(
            r.c.recipe_id, c.c.backend, c.c.gpu_count, c.c.enabled, c.c.args, c.c.env, c.c.image
        ).select_from(r.join(c, c.c.recipe_pk == r.c.id)),
        "benchmarks": sql_select(r.c.recipe_id, c.c.backend, c.c.gpu_count, *metrics).select_from(
            r.join(c, c.c.recipe_pk == r.c.id).join(b, b.c.serve_config_id == c.c.id)
        ),
    }
    engine: Engine = db.make_engine(url)
    with engine.connect() as conn:
        out = {name: sorted((tuple(row) for row in conn.execute(q)), key=repr) for name, q in queries.items()}
    engine.dispose()
    return out
