"""Migrations are the only schema creator: one head, every step up and down, models == DDL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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
    name is unique per location, as it was per docker_host (whichever cluster target made
    it); the downgrade restores the old values."""
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
        for target in ("kubernetes", "kserve"):  # the same live name in the same namespace
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(insert, {"cid": "uid:3", "where": "https://api:6443/llm", "target": target})
        with engine.begin() as conn:  # the same name in another namespace, or on an engine, is elsewhere
            conn.execute(insert, {"cid": "uid:4", "where": "https://api:6443/other", "target": "kserve"})
            conn.execute(insert, {"cid": "uid:5", "where": "engine-b", "target": "docker"})
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


NOW = "2026-01-01 00:00:00"

NEW_COLUMNS = {"nominal_input_len", "nominal_output_len", "dataset", "request_rate", "failed"}


def fill_0004(url: str) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO recipes (id, recipe_id, model_id, huggingface_id, hardware, precision, "
                "content_sha256, document, created_at, updated_at) "
                "VALUES (1, 'old', 'o/m', 'o/m', 'MI300X', 'bf16', 'x', '{}', :now, :now)"
            ),
            {"now": NOW},
        )
        for config, gpus in ((1, 4), (2, 8)):
            conn.execute(
                text(
                    "INSERT INTO serve_configs (id, recipe_pk, backend, gpu_count, enabled, args, env) "
                    "VALUES (:id, 1, 'vllm', :gpus, :on, '{}', '{}')"
                ),
                {"id": config, "gpus": gpus, "on": True},
            )
        conn.execute(
            text(
                "INSERT INTO benchmarks (serve_config_id, input_len, output_len, concurrency, "
                "output_throughput, source, origin, import_key) VALUES "
                "(1, 1024, 1024, 64, 4000.0, 'vllm bench serve: a.json', 'import', :key1), "
                "(1, 128, 2048, 32, 3000.0, 'AMD', 'recipe', NULL), "
                "(2, 1024, 1024, 64, 6000.0, 'vllm bench serve: b.json', 'import', :key2)"
            ),
            {"key1": "a" * 64, "key2": "b" * 64},
        )
    engine.dispose()


def snapshot(url: str) -> list[tuple[object, ...]]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT serve_config_id, input_len, output_len, concurrency, output_throughput, source, "
                "origin, import_key FROM benchmarks ORDER BY id"
            )
        ).all()
    engine.dispose()
    return [tuple(row) for row in found]


def test_upgrade_keeps_imported_rows_and_the_views_rank_them(db_url: str) -> None:
    fill_0004(db_url)
    before = snapshot(db_url)
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    assert {c["name"] for c in inspect(engine).get_columns("benchmarks")} >= NEW_COLUMNS
    assert snapshot(db_url) == before
    with engine.connect() as conn:
        new = conn.execute(text("SELECT dataset, request_rate, failed FROM benchmarks")).all()
        assert {tuple(row) for row in new} == {(None, None, None)}  # unlimited, failures unknown: they rank
        board = conn.execute(
            text("SELECT gpu_count, throughput, throughput_per_gpu, input_len FROM leaderboard ORDER BY 1")
        ).all()
        assert [tuple(row) for row in board] == [(4, 4000.0, 1000.0, 1024), (8, 6000.0, 750.0, 1024)]
        ranks = conn.execute(text("SELECT DISTINCT ranks FROM benchmark_results")).scalars().all()
        assert ranks == [1]
        # A failed or rate-capped row stops ranking in every view.
        conn.execute(text("UPDATE benchmarks SET failed = 2 WHERE output_throughput = 6000.0"))
        conn.execute(text("UPDATE benchmarks SET request_rate = 1.5 WHERE output_throughput = 4000.0"))
        best = conn.execute(text("SELECT best_throughput FROM serve_config_scores ORDER BY gpu_count")).all()
        assert [tuple(row) for row in best] == [(3000.0,), (None,)]
        conn.rollback()
    # And back down: the rows stay, the columns and new view columns go.
    db.downgrade(engine, "0004")
    assert not NEW_COLUMNS & {c["name"] for c in inspect(engine).get_columns("benchmarks")}
    assert snapshot(db_url) == before
    with engine.connect() as conn:
        board = conn.execute(text("SELECT gpu_count, throughput FROM leaderboard ORDER BY 1")).all()
        assert [tuple(row) for row in board] == [(4, 4000.0), (8, 6000.0)]
    db.upgrade(engine)
    assert snapshot(db_url) == before
    engine.dispose()


# --------------------------------------------------------------------------- schema (migration 0007)


def test_0007_docker_rows_become_docker_targets_and_cluster_rows_go_on_downgrade(db_url: str) -> None:
    from sqlalchemy import text

    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine, "0006")
        row = (
            "INSERT INTO deployments (name, container_id, docker_host, recipe_id, model, backend, gpu_count, "
            "gpus, image, port, spec, status, created_at, updated_at) VALUES (:name, :cid, 'h', 'r', 'm', "
            "'vllm', 1, '[0]', 'i', 8000, '{}', 'running', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
        with engine.begin() as conn:
            conn.execute(text(row), {"name": "old", "cid": "c1"})
        db.upgrade(engine, "0007")
        with engine.begin() as conn:
            assert conn.execute(
                text("SELECT target, context, namespace, objects FROM deployments")
            ).one() == (
                "docker",
                None,
                None,
                None,
            )
            conn.execute(text(row), {"name": "k", "cid": "uid:1"})
            conn.execute(text("UPDATE deployments SET target = 'kserve' WHERE name = 'k'"))
        db.downgrade(engine, "0006")
        with engine.connect() as conn:  # an older aim-catalog would take it for a container
            assert conn.execute(text("SELECT name FROM deployments")).scalars().all() == ["old"]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- migration 0004


def legacy_row(conn: Any, row_id: int, name: str, docker_host: str, status: str) -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    conn.execute(
        text(
            "INSERT INTO deployments (id, name, container_id, docker_host, recipe_id, model, backend, "
            "gpu_count, gpus, image, port, spec, status, created_at, updated_at) VALUES (:id, :name, :cid, "
            ":host, 'r', 'o/m', 'vllm', 1, '[0]', 'img', 8000, '{}', :status, :now, :now)"
        ),
        {"id": row_id, "name": name, "cid": f"c{row_id}", "host": docker_host, "status": status, "now": now},
    )


def test_0004_upgrades_a_catalog_with_deployments_of_several_hosts(db_url: str) -> None:
    engine = db.make_engine(db_url)
    db.upgrade(engine, "0003")
    with engine.begin() as conn:
        legacy_row(conn, 1, "a", "local", "running")  # two hosts of a fleet both recorded "local"
        legacy_row(conn, 2, "a", "local", "running")
        legacy_row(conn, 3, "a", "tcp://gpu2:2376", "running")  # the same name on another host
        legacy_row(conn, 4, "a", "local", "stopped")  # history
        legacy_row(conn, 5, "b", "local", "failed")
        legacy_row(conn, 6, "b", "local", "stopped")
    db.upgrade(engine, "0004")
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT id, name, docker_host, status, engine_name FROM deployments ORDER BY id")
        )
        assert [tuple(r) for r in found] == [
            (1, "a", "local #1", "running", None),
            (2, "a", "local", "running", None),
            (3, "a", "tcp://gpu2:2376", "running", None),
            (4, "a", "local", "stopped", None),
            (5, "b", "local", "failed", None),
            (6, "b", "local", "stopped", None),
        ]
    with pytest.raises(IntegrityError), engine.begin() as conn:  # a second live "a" on that engine
        legacy_row(conn, 7, "a", "local", "starting")
    with engine.begin() as conn:  # history may repeat a name; another engine may use it live
        legacy_row(conn, 8, "a", "local", "stopped")
        legacy_row(conn, 9, "b", "local", "running")
        legacy_row(conn, 10, "b", "other-engine", "running")
    db.downgrade(engine, "0003")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM deployments")).scalar() == 9
    db.upgrade(engine)  # every later migration takes these rows along (0008: their location)
    with engine.connect() as conn:
        placed = conn.execute(text("SELECT count(*) FROM deployments WHERE location = docker_host")).scalar()
        assert placed == 9
    engine.dispose()


# --------------------------------------------------------------------------- 0009: smoke keys


def _seeded_at(engine: Any, revision: str) -> None:
    """A catalog at ``revision`` holding the bundled catalog: created and seeded at head (the
    recipes are written with today's columns), then migrated down, its rows kept."""
    db.upgrade(engine, on_created=seed_catalog)
    db.downgrade(engine, revision)


def test_0009_gives_rows_saved_without_a_key_one_so_their_export_ingests(db_url: str, tmp_path: Path) -> None:
    """A smoke row saved before 0009 had no import_key, so its export was refused by ingest;
    after 0009 it has ``smoke-<id>``, recipe rows still have none, keyed rows keep theirs."""
    engine = db.make_engine(db_url)
    try:
        _seeded_at(engine, "0008")
        insert = text(
            "INSERT INTO benchmarks (serve_config_id, origin, import_key, output_throughput) "
            "VALUES ((SELECT min(id) FROM serve_configs), :origin, :key, 10.0)"
        )
        with engine.begin() as conn:
            conn.execute(insert, {"origin": "smoke", "key": None})
            conn.execute(insert, {"origin": "import", "key": "a" * 64})
        db.upgrade(engine, "0009")
        query = text(  # the two rows above (the bundled measurements are imported rows too)
            "SELECT id, origin, import_key FROM benchmarks WHERE origin = 'smoke' "
            f"OR import_key = '{'a' * 64}' ORDER BY id"
        )
        with engine.connect() as conn:
            (smoke_id, _, smoke_key), imported = conn.execute(query).all()
            assert smoke_key == f"smoke-{smoke_id}" and tuple(imported)[1:] == ("import", "a" * 64)
            keyless = text("SELECT count(*) FROM benchmarks WHERE origin = 'recipe' AND import_key IS NULL")
            assert conn.execute(keyless).scalar_one() > 0
            assert conn.execute(text("SELECT count(*) FROM benchmarks WHERE import_key IS NULL AND "
                                     "origin <> 'recipe'")).scalar_one() == 0  # fmt: skip
        db.downgrade(engine, "0008")  # the keys stay: 0008's code reads them as imported rows' keys
        with engine.connect() as conn:
            assert conn.execute(query).all()[0][2] == smoke_key
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- 0010: percentiles, energy


def test_0010_adds_percentiles_and_energy_and_shows_them_in_benchmark_results(db_url: str) -> None:
    """Rows of 0009 keep every figure (the new ones unknown); a row with p90, p99.9, mean and
    power shows them in ``benchmark_results``; down again, the views still answer."""
    engine = db.make_engine(db_url)
    try:
        _seeded_at(engine, "0009")
        with engine.begin() as conn:
            before = conn.execute(text("SELECT count(*), sum(output_throughput) FROM benchmarks")).one()
        db.upgrade(engine, "0010")
        with engine.begin() as conn:
            assert tuple(
                conn.execute(text("SELECT count(*), sum(output_throughput) FROM benchmarks")).one()
            ) == (tuple(before))
            assert (
                conn.execute(text("SELECT count(*) FROM benchmarks WHERE ttft_ms_p90 IS NOT NULL")).scalar()
                == 0
            )
            conn.execute(
                text(
                    "INSERT INTO benchmarks (serve_config_id, output_throughput, ttft_ms_p90, tpot_ms_p999, "
                    "e2el_ms_mean, power_w_per_gpu, joules_per_output_token, source) VALUES "
                    "((SELECT min(id) FROM serve_configs), 99.0, 171.2, 9.75, 8991.5, 628.9, 6.35, 'm0010')"
                )
            )
            shown = conn.execute(
                text(
                    "SELECT ttft_ms_p90, tpot_ms_p999, e2el_ms_mean, power_w_per_gpu, "
                    "joules_per_output_token, joules_per_total_token FROM benchmark_results "
                    "WHERE source = 'm0010'"
                )
            ).one()
            assert tuple(shown) == (171.2, 9.75, 8991.5, 628.9, 6.35, None)
        db.downgrade(engine, "0009")
        with engine.connect() as conn:
            assert (
                conn.execute(text("SELECT count(*) FROM benchmark_results WHERE source = 'm0010'")).scalar()
                == 1
            )
            assert conn.execute(text("SELECT count(*) FROM leaderboard")).scalar() > 0
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- 0011: leaderboard measured_at


def test_0011_gives_the_leaderboard_measured_at_and_its_downgrade_keeps_the_views(db_url: str) -> None:
    engine = db.make_engine(db_url)
    try:
        _seeded_at(engine, "0010")
        with engine.begin() as conn:
            before = conn.execute(text("SELECT count(*) FROM leaderboard")).scalar()
        db.upgrade(engine, "0011")
        with engine.connect() as conn:
            dated = conn.execute(
                text("SELECT count(*), count(measured_at) FROM leaderboard WHERE source LIKE 'https://%'")
            ).one()
            assert dated[0] > 0 and dated[1] == dated[0]  # every bundled row says when
            assert conn.execute(text("SELECT count(*) FROM leaderboard")).scalar() == before
        db.downgrade(engine, "0010")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM leaderboard")).scalar() == before
            columns = conn.execute(text("SELECT * FROM leaderboard")).keys()
            assert "measured_at" not in columns
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- 0012: measured rows


def test_0012_adds_what_bench_run_knows_of_a_row_and_its_downgrade_drops_it(db_url: str) -> None:
    engine = db.make_engine(db_url)
    columns = ("image_digest", "server_version", "client", "gpu_model")
    try:
        _seeded_at(engine, "0011")
        with engine.begin() as conn:
            before = conn.execute(text("SELECT count(*), sum(output_throughput) FROM benchmarks")).one()
        db.upgrade(engine, "0012")
        with engine.begin() as conn:
            assert tuple(
                conn.execute(text("SELECT count(*), sum(output_throughput) FROM benchmarks")).one()
            ) == (tuple(before))
            found = conn.execute(text(f"SELECT {', '.join(columns)} FROM benchmarks")).all()
            assert found and all(row == (None, None, None, None) for row in found)
            assert conn.execute(text("SELECT count(*) FROM leaderboard")).scalar()
        db.downgrade(engine, "0011")
        with engine.connect() as conn:
            names = conn.execute(text("SELECT * FROM benchmarks")).keys()
            assert not set(columns) & set(names)
            assert conn.execute(text("SELECT count(*) FROM leaderboard")).scalar()
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- 0013: status, setup


def test_0013_gives_recipes_a_status_and_configs_their_setup_from_their_documents(db_url: str) -> None:
    """Recipes of 0012 become current, or retired where their stored document says so or their
    InferenceX source lies under configs/deprecated/; each config's setup is its document's;
    down again, the columns are gone and the rows stay."""
    engine = db.make_engine(db_url)
    try:
        _seeded_at(engine, "0012")
        document = {
            "recipe_id": "m13-retired",
            "status": "retired",
            "retired_reason": "upstream stopped running it",
            "retired_on": "2026-07-06",
        }
        archived = {"recipe_id": "m13-archived", "source": {"files": ["configs/deprecated/amd-x.yaml@abc"]}}
        insert = text(
            "INSERT INTO recipes (recipe_id, model_id, huggingface_id, hardware, precision, content_sha256, "
            "document, created_at, updated_at) VALUES (:rid, 'm/m', 'm/m', 'MI300X', 'fp8', 'x', :doc, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
        with engine.begin() as conn:
            before = conn.execute(text("SELECT count(*) FROM recipes")).scalar_one()
            for doc in (document, archived):
                conn.execute(insert, {"rid": doc["recipe_id"], "doc": json.dumps(doc)})
        db.upgrade(engine, "0013")
        with engine.connect() as conn:
            rows = dict(
                (rid, (status, reason, str(day) if day else None))
                for rid, status, reason, day in conn.execute(
                    text("SELECT recipe_id, status, retired_reason, retired_on FROM recipes")
                )
            )
            setup = text("SELECT DISTINCT CAST(setup AS TEXT) FROM serve_configs")
            setups = conn.execute(setup).scalars().all()
        assert rows["m13-retired"] == ("retired", "upstream stopped running it", "2026-07-06")
        assert rows["m13-archived"][0] == "retired" and "configs/deprecated/" in rows["m13-archived"][1]
        assert rows["m13-archived"][2] is None  # the document has no date: none is made up
        assert len(rows) == before + 2
        # the bundled documents' setup steps (Kimi-K2.5 MXFP4, GLM-5/5.1), the rest empty
        assert sorted(json.loads(x) for x in setups) == [
            [],
            ["pip install -U transformers"],
            ["pip install amd-quark"],
        ]
        db.downgrade(engine, "0012")
        with engine.connect() as conn:
            assert "status" not in list(conn.execute(text("SELECT * FROM recipes")).keys())
            assert "setup" not in list(conn.execute(text("SELECT * FROM serve_configs")).keys())
            assert conn.execute(text("SELECT count(*) FROM recipes")).scalar_one() == before + 2
    finally:
        engine.dispose()


def test_0013_down_and_up_keeps_the_setup_steps_of_the_bundled_recipes(db_url: str) -> None:
    """The bundled Kimi-K2.5 MXFP4 vLLM configs carry `pip install amd-quark`: taken down to
    0012 (the column goes) and up again, they have it back, from the stored documents."""
    engine = db.make_engine(db_url)
    query = text(
        "SELECT c.gpu_count, CAST(c.setup AS TEXT) FROM serve_configs c JOIN recipes r ON r.id = c.recipe_pk "
        "WHERE r.recipe_id = 'kimi-k2-5-mxfp4-mi355x-mxfp4' AND c.backend = 'vllm' ORDER BY c.gpu_count"
    )
    try:
        db.upgrade(engine, on_created=seed_catalog)
        with engine.connect() as conn:
            before = [(gpus, json.loads(setup)) for gpus, setup in conn.execute(query)]
        assert before and all(setup == ["pip install amd-quark"] for _, setup in before)
        db.downgrade(engine, "0012")
        db.upgrade(engine)
        with engine.connect() as conn:
            assert [(gpus, json.loads(setup)) for gpus, setup in conn.execute(query)] == before
    finally:
        engine.dispose()
