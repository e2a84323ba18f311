"""The Python API without a service: a deferred catalog connects on first use, and schema
methods act on the catalog's own database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aim_catalog import Catalog


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
