"""The Python API without a service: a deferred catalog connects on first use, and schema
methods act on the catalog's own database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aim_catalog import Catalog
from aim_catalog.errors import NoCatalog, WrongArgumentType
from aim_catalog.storage.db import HEAD_REVISION


def test_deferred_catalog_connects_on_first_use(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'later.db'}"
    catalog = Catalog.deferred(url, create=True)
    assert not (tmp_path / "later.db").exists()
    with catalog:
        assert catalog.models() == []
    assert (tmp_path / "later.db").exists()


def test_schema_methods_act_on_the_catalogs_own_database(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("AIM_CATALOG_DB_URL", raising=False)
    with Catalog.open(f"sqlite:///{tmp_path / 'mine.db'}", create=True) as mine:
        from aim_catalog.storage.db import HEAD_REVISION

        assert (mine.exists(), mine.revision()) == (True, HEAD_REVISION)
    assert not Catalog.deferred(f"sqlite:///{tmp_path / 'other.db'}").exists()
    assert not (tmp_path / "data").exists(), "the default catalog was not touched"


def test_opening_a_missing_sqlite_catalog_from_python_says_create_true(tmp_path: Path) -> None:
    """The CLI's advice names `aim-catalog db upgrade`; a Python caller's answer is create=True."""
    missing = tmp_path / "new.db"
    with pytest.raises(NoCatalog) as refused:
        Catalog.open(f"sqlite:///{missing}")
    assert (
        str(refused.value)
        == f"no catalog at {missing} (open it with create=True to make a new catalog there)"
    )
    assert not missing.exists()
    with Catalog.open(f"sqlite:///{missing}", create=True) as made:
        assert made.revision() == HEAD_REVISION


def test_a_path_opens_the_sqlite_file_it_names(tmp_path: Path) -> None:
    """Before: ``Catalog.open(Path(...))`` raised TypeError (issue 18, point 10)."""
    with Catalog.open(tmp_path / "by-path.db", create=True) as catalog:
        assert catalog.display_url == f"sqlite:///{tmp_path / 'by-path.db'}"
        assert catalog.revision() == HEAD_REVISION
    with pytest.raises(WrongArgumentType, match=r"^url must be a database URL or a path, got 5 \(int\)$"):
        Catalog.open(5)  # type: ignore[arg-type]
