"""A shared catalog is not migrated behind its users' backs; an empty shared database is
created on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.catalogs import revision

from aim_catalog.storage import db
from aim_catalog.storage.resources import seed_recipe_dir


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
