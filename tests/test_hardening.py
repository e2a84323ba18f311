"""Issue 8, shared catalogs and concurrency: no silent migration of a shared catalog,
writers that queue behind each other (saying so) up to a limit, read-only catalogs.

Concurrency is tested with a real second writer (a raw connection holding the write lock
in this process) against a real `aim-catalog` process; read-only mounts are real tmpfs
mounts remounted read-only (the tests run as root, which ignores chmod).
"""

from __future__ import annotations

import contextlib
import select
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text
from support.mounts import remount_read_only, tmpfs
from typer.testing import CliRunner

from aim_catalog.cli import app
from aim_catalog.storage import db, dialects
from aim_catalog.storage.resources import seed_recipe_dir

BIN = Path(sys.executable).parent


def revision(url: str) -> str | None:
    engine = db.make_engine(url)
    try:
        return db.revision_of(engine)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- point 2


def test_a_shared_catalog_is_not_migrated_behind_its_users_backs(
    cli: Callable[..., Any], db_url: str
) -> None:
    engine = db.make_engine(db_url)
    db.upgrade(engine, "0003")  # what an older aim-catalog on another host created
    engine.dispose()
    result = cli("list-recipes", code=1, db_url=db_url)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is at revision 0003" in lines[0], result.stderr
    assert "run `aim-catalog db upgrade`" in lines[0]
    assert revision(db_url) == "0003"  # untouched: older clients elsewhere still work
    write = cli("ingest", "--dry-run", str(seed_recipe_dir()), code=1, db_url=db_url)
    assert "run `aim-catalog db upgrade`" in write.stderr
    assert revision(db_url) == "0003"
    cli("db", "upgrade", db_url=db_url)
    assert revision(db_url) == db.HEAD_REVISION
    assert cli("list-recipes", "--json", db_url=db_url).stdout.strip() == "[]"


def test_an_empty_shared_database_is_created_on_first_use(cli: Callable[..., Any], db_url: str) -> None:
    if db_url.startswith("sqlite:///"):  # an empty file; a missing one is not created by a read
        Path(db_url[len("sqlite:///") :]).touch()
    assert cli("list-recipes", "--json", db_url=db_url).stdout.strip() == "[]"  # no seed: not the default
    assert revision(db_url) == db.HEAD_REVISION


def test_the_default_catalog_is_still_migrated_automatically(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "data" / "aim-catalog" / "catalog.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine, "0003")
    engine.dispose()
    cli("list-recipes", "--json")
    assert revision(f"sqlite:///{path}") == db.HEAD_REVISION


# --------------------------------------------------------------------------- point 3


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
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": dialects.WRITE_LOCK_KEY})
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


def test_a_writer_queues_behind_another_and_says_so_once(
    engine: Engine, db_url: str, proc_env: dict[str, str], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    for i in range(3):
        write_recipe(f"q{i}")
    with write_lock_held(db_url):
        proc = ingest_process(db_url, tmp_path / "recipes", proc_env)
        first = first_stderr_line(proc, within=30)  # the process says it waits: it is queued
        assert WAITING in first, first
        assert proc.poll() is None  # still waiting while the lock is held
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.strip() == "added 3, updated 0, unchanged 0, removed 0"
    assert WAITING not in err  # said once
    assert recipes_in(db_url) == 3


def test_a_writer_gives_up_after_the_limit_with_one_line(
    engine: Engine, db_url: str, proc_env: dict[str, str], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    write_recipe("q0")
    with write_lock_held(db_url):
        proc = ingest_process(db_url, tmp_path / "recipes", {**proc_env, "AIM_CATALOG_LOCK_TIMEOUT": "1.5"})
        try:
            out, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and WAITING in lines[0] and "(up to 1.5 s" in lines[0], err
    assert "another process kept the catalog locked for writing; gave up after 1.5 s" in lines[1]
    assert "AIM_CATALOG_LOCK_TIMEOUT" in lines[1] and "Traceback" not in err and out == ""
    assert recipes_in(db_url) == 0  # unchanged


def test_recipes_are_parsed_and_checked_before_the_write_lock(
    engine: Engine, db_url: str, proc_env: dict[str, str], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    write_recipe("bad", text_="recipe_id: bad\n")  # invalid: reported without waiting for the lock
    with write_lock_held(db_url):
        proc = ingest_process(db_url, tmp_path / "recipes", proc_env)
        try:
            _, err = proc.communicate(timeout=30)  # the old code waited for the lock first
        finally:
            proc.kill()
    assert proc.returncode == 4, err
    assert "missing required field 'model_id'" in err and WAITING not in err


def test_a_bad_lock_timeout_setting_is_a_usage_error(
    engine: Engine, db_url: str, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    write_recipe("q0")
    for bad in ("nan", "-1", "soon", "1e400"):
        result = CliRunner().invoke(
            app, ["--db", db_url, "ingest", str(tmp_path / "recipes")], env={"AIM_CATALOG_LOCK_TIMEOUT": bad}
        )
        assert result.exit_code == 2, (bad, result.stderr, result.exception)
        assert result.stderr.strip().startswith("error: AIM_CATALOG_LOCK_TIMEOUT must be a number of seconds")
    assert recipes_in(db_url) == 0


# --------------------------------------------------------------------------- point 14


def test_a_catalog_on_a_read_only_mount_can_be_read(
    cli: Callable[..., Any], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "ro") as mount:
        url = f"sqlite:///{mount / 'catalog.db'}"
        write_recipe("ro-a", model="org/ro-model")
        cli("ingest", str(tmp_path / "recipes"), db_url=url)
        assert not (mount / "catalog.db-shm").exists()  # a clean close removes WAL's files
        remount_read_only(mount)
        listed = cli("list-recipes", "--json", db_url=url)
        assert '"recipe_id": "ro-a"' in listed.stdout
        assert "is read-only here" in listed.stderr and "catalog.db-shm" in listed.stderr
        chosen = cli("select", "org/ro-model", "1", "--json", db_url=url)
        assert '"recipe_id": "ro-a"' in chosen.stdout
        # A command that writes says why it cannot, in one line.
        write_recipe("ro-b", model="org/ro-model")
        failed = cli("ingest", str(tmp_path / "recipes"), code=1, db_url=url)
        last = failed.stderr.strip().splitlines()[-1]
        assert "read-only" in last and "only commands that read it can run" in last, failed.stderr


def test_rows_another_writer_changed_between_read_and_lock_are_parsed_then(
    engine: Engine, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    """Ingest reads what the catalog knows, parses without the lock, then locks: a file it
    skipped as unchanged whose row another writer removed meanwhile is parsed under the lock."""
    from sqlalchemy.orm import Session

    from aim_catalog.recipes.files import expand_paths, load_files
    from aim_catalog.recipes.ingest import ingest_files

    write_recipe("keep")
    write_recipe("gone")
    files, _ = expand_paths([tmp_path / "recipes"])
    with Session(engine) as session:
        ingest_files(session, files)
        session.commit()
    calls: list[list[str]] = []

    def load(paths: Any, known: Any) -> Any:
        calls.append(sorted(Path(p).name for p in paths))
        if len(calls) == 1:  # another writer, while this one parses without the lock
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM recipes WHERE recipe_id = 'gone'"))
        return load_files(paths, known=known)

    with Session(engine) as session:
        report = ingest_files(session, files, load=load)
        session.commit()
    assert calls == [["gone.yaml", "keep.yaml"], ["gone.yaml"]]
    assert (report.added, report.unchanged) == (["gone"], ["keep"])
    assert recipes_in(engine.url.render_as_string(hide_password=False)) == 2
