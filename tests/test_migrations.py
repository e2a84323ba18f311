"""Migrations are the only schema creator: one head, every step up and down, models == DDL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from support.paths import REPO  # alembic.ini, pyproject.toml, migrations/

from aim_catalog.errors import SchemaOutOfDate, UsageProblem
from aim_catalog.recipes.seed import seed_catalog
from aim_catalog.storage import db
from aim_catalog.storage.dialects import lock_for_write
from aim_catalog.storage.models import Base
from aim_catalog.storage.resources import seed_recipe_dir

TABLES = {"recipes", "serve_configs", "benchmarks", "deployments"}


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(db.alembic_config())


def test_single_head_matches_the_constant_the_hot_path_uses() -> None:
    heads = scripts().get_heads()
    assert heads == [db.HEAD_REVISION]


def test_migrations_ship_inside_the_installed_package() -> None:
    assert (db.MIGRATIONS_DIR / "env.py").is_file()
    shipped = list((db.MIGRATIONS_DIR / "versions").glob("0*.py"))
    assert len(shipped) == len(list(scripts().walk_revisions())) >= 2


def test_the_wheel_lists_every_package_of_the_source_tree() -> None:
    # migrations/ and seed_recipes/ are mapped into the package, so pyproject.toml lists the
    # packages by hand: a new subpackage missing there would be missing from the wheel.
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    inits = (REPO / "aim_catalog").rglob("__init__.py")
    in_tree = {".".join(p.parent.relative_to(REPO).parts) for p in inits}
    assert in_tree <= set(setuptools["packages"])
    assert setuptools["package-dir"] == {
        "aim_catalog.migrations": "migrations",
        "aim_catalog.seed_recipes": "seed_recipes",
    }
    assert (REPO / "migrations" / "env.py").is_file() and any((REPO / "seed_recipes").glob("*.yaml"))


def test_upgrade_from_empty_creates_the_tables(db_url: str) -> None:
    engine = db.make_engine(db_url)
    assert db.revision_of(engine) is None
    assert db.upgrade(engine) == db.HEAD_REVISION
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_every_step_down_and_up_again(db_url: str) -> None:
    engine = db.make_engine(db_url)
    revisions = [s.revision for s in scripts().walk_revisions("base", "heads")]  # newest first
    db.upgrade(engine)
    for i, revision in enumerate(revisions):
        below = revisions[i + 1] if i + 1 < len(revisions) else "base"
        db.downgrade(engine, below)
        assert db.revision_of(engine) == (None if below == "base" else below)
        db.upgrade(engine, revision)
        assert db.revision_of(engine) == revision
        db.downgrade(engine, below)
    assert not TABLES & set(inspect(engine).get_table_names())
    db.upgrade(engine)
    assert db.revision_of(engine) == db.HEAD_REVISION
    engine.dispose()


def test_models_match_the_migrated_ddl(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_constraint_and_index_names_follow_the_convention(engine: Engine) -> None:
    inspector = inspect(engine)
    indexes = {i["name"] for t in TABLES for i in inspector.get_indexes(t)}
    assert "ix_recipes_huggingface_id_precision_hardware" in indexes
    assert "ix_benchmarks_serve_config_id" in indexes
    uniques = {u["name"] for u in inspector.get_unique_constraints("serve_configs")}
    assert "uq_serve_configs_recipe_pk_backend_gpu_count" in uniques
    fks = {f["name"] for f in inspector.get_foreign_keys("benchmarks")}
    assert fks == {"fk_benchmarks_serve_config_id_serve_configs"}


def test_auto_migration_off_gives_an_actionable_error(db_url: str) -> None:
    engine = db.make_engine(db_url)
    with pytest.raises(SchemaOutOfDate, match="run `aim-catalog db upgrade`"):
        db.ensure_schema(engine, auto_migrate=False)
    assert db.revision_of(engine) is None  # nothing was created behind the user's back
    db.ensure_schema(engine, auto_migrate=True)
    assert db.revision_of(engine) == db.HEAD_REVISION
    engine.dispose()


def test_seed_fills_only_a_database_this_call_created(db_url: str) -> None:
    engine = db.make_engine(db_url)
    db.upgrade(engine, on_created=seed_catalog)
    with engine.connect() as conn:
        seeded = conn.execute(text("SELECT count(*) FROM recipes")).scalar()
        conn.execute(text("DELETE FROM recipes"))
        conn.commit()
    assert seeded == len(list(seed_recipe_dir().glob("*.yaml")))
    db.upgrade(engine, on_created=seed_catalog)  # already at head: an emptied catalog stays empty
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM recipes")).scalar() == 0
    engine.dispose()


def test_unknown_revision_is_a_usage_error(engine: Engine) -> None:
    with pytest.raises(UsageProblem, match="nope"):
        db.upgrade(engine, "nope")
    assert db.revision_of(engine) == db.HEAD_REVISION


def test_sqlite_foreign_keys_are_enforced_again_after_a_migration(tmp_path: Path) -> None:
    # Migrations switch SQLite's foreign keys off while they copy tables.
    engine = db.make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    db.upgrade(engine)
    db.downgrade(engine, "base")
    db.upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def catalog_at_0001_with_rows(db_url: str) -> Engine:
    """A catalog an early aim-catalog created: one recipe, config and benchmark."""
    engine = db.make_engine(db_url)
    db.upgrade(engine, "0001")
    now = "2026-01-01 00:00:00"
    with engine.begin() as conn:  # rows as the 0001 schema had them
        conn.execute(
            text(
                "INSERT INTO recipes (id, recipe_id, model_id, huggingface_id, hardware, precision, "
                "content_sha256, document, created_at, updated_at) "
                "VALUES (1, 'old', 'o/m', 'o/m', 'MI300X', 'bf16', 'x', '{}', :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO serve_configs (id, recipe_pk, backend, gpu_count, enabled, args, env) "
                "VALUES (1, 1, 'vllm', 1, :on, '{}', '{}')"
            ),
            {"on": True},
        )
        conn.execute(text("INSERT INTO benchmarks (serve_config_id, output_throughput) VALUES (1, 42.0)"))
    return engine


def test_an_older_catalog_is_upgraded_with_its_data(db_url: str) -> None:
    engine = catalog_at_0001_with_rows(db_url)
    db.ensure_schema(engine, auto_migrate=True)  # what every command does first
    assert db.revision_of(engine) == db.HEAD_REVISION
    with engine.connect() as conn:
        assert conn.execute(text("SELECT recipe_id FROM recipes")).scalars().all() == ["old"]
        row = conn.execute(text("SELECT output_throughput, origin FROM benchmarks")).one()
        assert tuple(row) == (42.0, "recipe")
        best = conn.execute(text("SELECT best_throughput FROM serve_config_scores")).scalar()
        assert best == 42.0
    engine.dispose()


# `alembic upgrade head` run by hand (alembic.ini at the repository root, tests/..) goes
# through the same migrations/env.py as `aim-catalog db upgrade`: write lock, SQLite's
# foreign keys off during the batch copies (0006 rebuilds recipes and serve_configs, whose
# DROP would otherwise cascade into benchmarks) and on again afterwards.
def alembic_by_hand(db_url: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini"), "upgrade", "head"]
    environ = {**os.environ, "AIM_CATALOG_DB_URL": db_url, **env}
    # cwd outside the repository: the installed aim_catalog is imported, as in CI.
    return subprocess.run(argv, env=environ, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_alembic_by_hand_keeps_the_data_and_foreign_keys(db_url: str, tmp_path: Path) -> None:
    engine = catalog_at_0001_with_rows(db_url)
    engine.dispose()
    result = alembic_by_hand(db_url, tmp_path)
    assert result.returncode == 0, result.stderr
    engine = db.make_engine(db_url)
    assert db.revision_of(engine) == db.HEAD_REVISION
    with engine.connect() as conn:
        assert conn.execute(text("SELECT output_throughput FROM benchmarks")).scalars().all() == [42.0]
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(IntegrityError):  # enforced: a benchmark of no serve config
            conn.execute(text("INSERT INTO benchmarks (serve_config_id, output_throughput) VALUES (99, 1.0)"))
    engine.dispose()


def test_alembic_by_hand_waits_for_the_write_lock(db_url: str, tmp_path: Path) -> None:
    engine = db.make_engine(db_url)
    with Session(engine) as holder:
        lock_for_write(holder)  # another writer, mid-transaction
        result = alembic_by_hand(db_url, tmp_path, AIM_CATALOG_LOCK_TIMEOUT="0")
        holder.rollback()
    assert result.returncode != 0
    assert "another process kept the catalog locked for writing" in result.stderr
    assert db.revision_of(engine) is None  # nothing was migrated
    assert alembic_by_hand(db_url, tmp_path).returncode == 0  # the lock is free: it migrates
    assert db.revision_of(engine) == db.HEAD_REVISION
    engine.dispose()


# --------------------------------------------------------------------------- 0008: location


def _deployment(conn: object, name: str, cid: str, target: str, docker_host: str | None, status: str) -> None:
    conn.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO deployments (name, container_id, docker_host, recipe_id, model, backend, gpu_count, "
            "gpus, image, port, spec, status, created_at, updated_at, target) VALUES (:name, :cid, :host, "
            "'r', 'o/m', 'vllm', 1, '[0]', 'img', 8000, '{}', :status, '2026-01-01 00:00:00', "
            "'2026-01-01 00:00:00', :target)"
        ),
        {"name": name, "cid": cid, "host": docker_host, "status": status, "target": target},
    )


def test_0008_moves_where_a_deployment_runs_into_location_and_back(db_url: str) -> None:
    """docker_host held ``kubernetes:<server>/<ns>`` for cluster rows until 0007: after 0008
    it holds only Docker engine IDs, ``location`` says where for every target, and a live
    name is unique per (target, location); the downgrade restores the old values."""
    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine, "0007")
        with engine.begin() as conn:
            _deployment(conn, "web", "c1", "docker", "engine-a", "running")
            _deployment(conn, "web", "uid:1", "kubernetes", "kubernetes:https://api:6443/llm", "running")
            _deployment(conn, "isvc", "uid:2", "kserve", "kubernetes:https://api:6443/serving", "stopped")
        db.upgrade(engine, "0008")
        query = text("SELECT container_id, target, docker_host, location FROM deployments ORDER BY id")
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(query)] == [
                ("c1", "docker", "engine-a", "engine-a"),
                ("uid:1", "kubernetes", None, "https://api:6443/llm"),
                ("uid:2", "kserve", None, "https://api:6443/serving"),
            ]
        insert = text(
            "INSERT INTO deployments (name, container_id, docker_host, location, recipe_id, model, "
            "backend, gpu_count, gpus, image, port, spec, status, created_at, updated_at, target) VALUES "
            "('web', :cid, NULL, :where, 'r', 'o/m', 'vllm', 1, '[0]', 'img', 8000, '{}', 'running', "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00', :target)"
        )
        with pytest.raises(IntegrityError), engine.begin() as conn:  # the same live name, same place
            conn.execute(insert, {"cid": "uid:3", "where": "https://api:6443/llm", "target": "kubernetes"})
        with engine.begin() as conn:  # the same name on another target or namespace is another place
            conn.execute(insert, {"cid": "uid:4", "where": "https://api:6443/llm", "target": "kserve"})
            conn.execute(insert, {"cid": "uid:5", "where": "https://api:6443/other", "target": "kubernetes"})
            conn.execute(text("DELETE FROM deployments WHERE container_id IN ('uid:4', 'uid:5')"))
        db.downgrade(engine, "0007")
        with engine.connect() as conn:
            assert "location" not in {c["name"] for c in inspect(conn).get_columns("deployments")}
            assert [
                tuple(r) for r in conn.execute(text("SELECT container_id, docker_host FROM deployments"))
            ] == [
                ("c1", "engine-a"),
                ("uid:1", "kubernetes:https://api:6443/llm"),
                ("uid:2", "kubernetes:https://api:6443/serving"),
            ]
        assert db.upgrade(engine) == db.HEAD_REVISION  # and up again
    finally:
        engine.dispose()
