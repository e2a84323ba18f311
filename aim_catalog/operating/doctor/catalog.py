"""The catalog: does it open (without migrating it), at the schema revision this version needs?"""

from __future__ import annotations

from typing import Any

from aim_catalog.errors import database_problem, redact
from aim_catalog.operating.doctor.check import FAIL, PASS, WARN, Check


def check_catalog(db_option: str | None) -> Check:
    from sqlalchemy.exc import SQLAlchemyError

    from aim_catalog.errors import CatalogError
    from aim_catalog.settings import resolve_db_url
    from aim_catalog.storage import db

    url, is_default = resolve_db_url(db_option)
    shown = redact(url)
    data: dict[str, Any] = {"url": shown, "head_revision": db.HEAD_REVISION, "revision": None}
    path = db.database_file(url) if is_default else None
    if path is not None and not path.exists():
        return Check(
            "catalog",
            PASS,
            f"{shown} not created yet: the first command creates and fills it",
            data=data,
        )
    engine = None
    try:
        engine = db.make_engine(url, create=False)  # a check never creates a catalog
        with engine.connect() as connection:
            revision = db.current_revision(connection)
    except (CatalogError, SQLAlchemyError) as exc:
        problem = database_problem(exc, engine) if isinstance(exc, SQLAlchemyError) else exc
        return Check(
            "catalog", FAIL, f"{problem}", "check --db / AIM_CATALOG_DB_URL and that the server runs", data
        )
    finally:
        if engine is not None:
            engine.dispose()
    data["revision"] = revision
    if revision == db.HEAD_REVISION:
        return Check("catalog", PASS, f"{shown} opens, schema revision {revision}", data=data)
    if revision is None or revision < db.HEAD_REVISION:
        return Check(
            "catalog",
            WARN if is_default else FAIL,
            f"{shown} is at schema revision {revision or 'none'}, this version needs {db.HEAD_REVISION}",
            "run `aim-catalog db upgrade`"
            + (" (the default catalog also upgrades on its next use)" if is_default else ""),
            data,
        )
    return Check(
        "catalog",
        FAIL,
        f"{shown} is at schema revision {revision}, newer than this aim-catalog ({db.HEAD_REVISION})",
        "upgrade aim-catalog on this host",
        data,
    )
