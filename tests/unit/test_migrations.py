"""Migrations ship inside the installed package with one head, and the tests import that package."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from support.paths import REPO  # alembic.ini, pyproject.toml, migrations/

from aim_catalog.storage import db


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(db.alembic_config())


def test_single_head_matches_the_constant_the_hot_path_uses() -> None:
    heads = scripts().get_heads()
    assert heads == [db.HEAD_REVISION]


def test_migrations_ship_inside_the_installed_package() -> None:
    assert (db.MIGRATIONS_DIR / "env.py").is_file()
    shipped = list((db.MIGRATIONS_DIR / "versions").glob("0*.py"))
    assert len(shipped) == len(list(scripts().walk_revisions())) >= 2


def test_the_tests_import_the_installed_package_not_the_source_tree() -> None:
    # scripts/test runs bin/pytest from tests/ against a non-editable install, so that what
    # ships (migrations and seed recipes mapped into the package) is what is tested. The
    # test directories are packages, but tests/ is not: rootdir logic puts tests/ on
    # sys.path, never the checkout.
    import aim_catalog

    installed = Path(aim_catalog.__file__).resolve()
    assert "site-packages" in installed.parts, installed
    assert not installed.is_relative_to(REPO / "aim_catalog"), installed
    assert REPO not in {Path(entry).resolve() for entry in sys.path if entry}


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
    # The bundled measurements sit in a subfolder of seed_recipes/: package data of its own.
    data = setuptools["package-data"]["aim_catalog.seed_recipes"]
    assert "measurements/*.json" in data and any((REPO / "seed_recipes" / "measurements").glob("*.json"))


def test_sqlite_foreign_keys_are_enforced_again_after_a_migration(tmp_path: Path) -> None:
    # Migrations switch SQLite's foreign keys off while they copy tables.
    engine = db.make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    db.upgrade(engine)
    db.downgrade(engine, "base")
    db.upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
