"""The read-only SQLite URI escapes what a URI would take as syntax."""

from __future__ import annotations

from pathlib import Path

from aim_catalog.measurements.sql import sqlite as readonly_sqlite


def test_sqlite_uri_escapes_what_a_uri_would_take_as_syntax(tmp_path: Path) -> None:
    uri = readonly_sqlite.sqlite_uri(readonly_sqlite.catalog_path(str(tmp_path / "x#y?z%20" / "c.db")))
    assert uri.endswith("/x%23y%3Fz%2520/c.db?mode=ro") and uri.startswith("file:///")
