"""The services some tests need (PostgreSQL here; Docker in conftest's fixtures), and the
rule for a missing one: skip loudly, or fail when ``AIM_CATALOG_REQUIRE_SERVICES=1``.

PostgreSQL is real: ``scripts/test`` starts the machine's server and exports
``AIM_CATALOG_TEST_PG_URL``.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
from collections.abc import Iterable

import pytest
from sqlalchemy import create_engine, make_url, text

from aim_catalog.storage import db

PG_ENV = "AIM_CATALOG_TEST_PG_URL"
POWER_ENV = "AIM_CATALOG_TEST_PG_POWER_URL"  # the test cluster's superuser (scripts/test makes it)
REQUIRE_ENV = "AIM_CATALOG_REQUIRE_SERVICES"


def services_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def missing_service(reason: str) -> None:
    """Skip loudly, or fail when CI requires every service."""
    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1, so this is a failure, not a skip)")
    pytest.skip(f"SERVICE MISSING: {reason}")


_pg_checked: dict[str, str | None] = {}
_pg_own: dict[str, str] = {}


def own_database(url: str, suffix: str = "") -> str:
    """A database of this pytest process's own, so parallel runs never reset each other's.

    Created beside the configured one (the test role has CREATEDB) and dropped at exit;
    ``suffix`` names another one of this process (a module-scoped fixture's, say).
    """
    base = make_url(db.normalize_url(url))
    name = f"{base.database}_{os.getpid()}{suffix}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        # FORCE may not end a session of another role (a superuser's, or a read-only role's
        # that `sql` opened) still closing when the process exits: wait for it a little, and
        # say in one line if the database had to be left behind.
        from sqlalchemy.exc import SQLAlchemyError

        for attempt in range(10):
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                break
            except SQLAlchemyError as exc:
                if attempt == 9:
                    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
                    print(f"note: test database {name} left behind: {reason}", file=sys.stderr)
                time.sleep(0.5)
        admin.dispose()

    atexit.register(drop)
    return base.set(database=name).render_as_string(hide_password=False)


def pg_admin_url() -> str:
    """This process's own PostgreSQL database (see ``own_database``); skips or fails without one."""
    url = os.environ.get(PG_ENV)
    if not url:
        missing_service(f"PostgreSQL: {PG_ENV} is not set (scripts/test sets it)")
    assert url is not None
    if url not in _pg_checked:
        try:
            engine = create_engine(db.normalize_url(url))
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_checked[url] = None
            _pg_own[url] = own_database(url)
        except Exception as exc:  # any failure to connect means "no service"
            _pg_checked[url] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    if _pg_checked[url] is not None:
        missing_service(f"PostgreSQL at {PG_ENV} is unreachable: {_pg_checked[url]}")
    return _pg_own[url]


def reset_pg(url: str) -> None:
    engine = create_engine(db.normalize_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def superuser_url(database_url: str) -> str:
    """The test cluster's superuser on ``database_url``'s database (the DBA of the docs and
    of ``db grant-readonly``); skips or fails without one."""
    power = os.environ.get(POWER_ENV)
    if not power:
        missing_service(f"PostgreSQL superuser: {POWER_ENV} is not set (scripts/test sets it)")
    assert power is not None
    database = make_url(database_url).database
    return make_url(db.normalize_url(power)).set(database=database).render_as_string(hide_password=False)


def drop_roles(superuser_database_url: str, roles: Iterable[str]) -> None:
    """Drop each of ``roles`` that exists, and what it owns or was granted in that database
    (roles are cluster-wide: a test's must not outlive it)."""
    import psycopg

    libpq = (
        make_url(superuser_database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    with psycopg.connect(libpq, autocommit=True) as admin:
        for role in roles:
            if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                admin.execute(f'DROP OWNED BY "{role}"')
                admin.execute(f'DROP ROLE "{role}"')
