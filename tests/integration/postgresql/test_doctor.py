"""``doctor``'s catalog check on each dialect: the revision is read, never migrated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.doctor import by_name, doctor

from aim_catalog.storage import db


def test_the_catalog_check_on_each_dialect(
    host_root: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Empty, behind, at head: the revision is read, never migrated."""
    from aim_catalog.errors import redact

    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    shown = redact(db_url)

    def catalog() -> dict[str, Any]:
        return by_name(doctor("--json", code=1, db_url=db_url))["catalog"]

    if db_url.startswith("sqlite:///"):  # an empty database (no file at all: "no catalog at")
        Path(db_url[len("sqlite:///") :]).touch()
    empty = catalog()
    assert (empty["status"], empty["data"]["revision"]) == ("fail", None)
    assert empty["summary"] == f"{shown} is at schema revision none, this version needs {db.HEAD_REVISION}"
    engine = db.make_engine(db_url)
    db.upgrade(engine, "0006")
    behind = catalog()
    assert behind["summary"] == f"{shown} is at schema revision 0006, this version needs {db.HEAD_REVISION}"
    assert behind["fix"] == "run `aim-catalog db upgrade`"
    with engine.connect() as conn:
        assert db.current_revision(conn) == "0006"  # doctor did not migrate it
    db.upgrade(engine)
    engine.dispose()
    head = catalog()
    assert (head["status"], head["summary"]) == ("pass", f"{shown} opens, schema revision {db.HEAD_REVISION}")
