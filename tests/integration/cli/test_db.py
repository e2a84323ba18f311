"""Which catalog a command opens and at what schema: a newer one is refused, the default one
is migrated, a mistyped ``--db`` creates nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from support.catalogs import revision
from support.launch import MODEL, cli

from aim_catalog.storage import db


def test_a_catalog_from_a_newer_aim_catalog_is_refused_clearly(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    for argv in (("list-recipes",), ("db", "upgrade")):
        result = cli("--db", url, *argv, code=1)
        assert "schema revision 9999, which this aim-catalog does not know" in result.stderr
        assert "upgrade aim-catalog" in result.stderr


def test_the_default_catalog_is_still_migrated_automatically(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "data" / "aim-catalog" / "catalog.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine, "0003")
    engine.dispose()
    cli("list-recipes", "--json")
    assert revision(f"sqlite:///{path}") == db.HEAD_REVISION


# --------------------------------------------------------------------------- a mistyped --db


def test_a_read_command_does_not_create_a_catalog(tmp_path: Path, reference_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'typo-dir' / 'c.db'}"
    for args in (("list-recipes",), ("sql", "select 1"), ("db", "current"), ("select", MODEL, "1")):
        result = cli("--db", url, *args, code=1)
        expected = f"error: no catalog at {tmp_path / 'typo-dir' / 'c.db'} (create it with `aim-catalog db"
        assert result.stderr.splitlines()[-1].startswith(expected) and "Traceback" not in result.stderr
    (tmp_path / "dir").mkdir()
    in_dir = f"sqlite:///{tmp_path / 'dir' / 'c.db'}"
    cli("--db", in_dir, "list-recipes", code=1)
    cli("--db", in_dir, "ingest", str(reference_dir), "--dry-run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir"] and list((tmp_path / "dir").iterdir()) == []
    cli("--db", url, "db", "upgrade")  # these create it
    assert json.loads(cli("--db", url, "list-recipes", "--json").stdout) == []
    cli("--db", in_dir, "ingest", str(reference_dir))
    assert len(json.loads(cli("--db", in_dir, "list-recipes", "--json").stdout)) == 4
