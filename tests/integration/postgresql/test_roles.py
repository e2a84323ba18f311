"""`aim-catalog sql` on PostgreSQL runs under a role without powers over the server:
`db grant-readonly` makes one; a superuser or a member of pg_read_server_files & co. is
refused with the advice.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import make_url
from support.services import drop_roles, superuser_url
from support.sql import libpq, one_error_line

from aim_catalog import settings

PASSWORD = "reader-secret-8f3a"

# --------------------------------------------------------------------------- PostgreSQL roles


_names = itertools.count()


@pytest.fixture
def roles(pg_catalog: str) -> Iterator[Callable[[str], str]]:
    """Unique role names for this test; each is dropped afterwards (roles are cluster-wide)."""
    power = superuser_url(pg_catalog)
    made: list[str] = []

    def name(purpose: str) -> str:
        made.append(f"aim_sqlt_{purpose}_{os.getpid()}_{next(_names)}")
        return made[-1]

    yield name
    drop_roles(power, made)


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A directory the database server's OS user could write to (so absence means refused)."""
    path = Path(tempfile.mkdtemp(prefix="aim-sql-safety-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _reader(cli: Callable[..., Any], safe_catalog: str, roles: Callable[[str], str]) -> str:
    role = roles("reader")
    env = {settings.SQL_PASSWORD_ENV: PASSWORD}
    made = cli("db", "grant-readonly", role, db_url=superuser_url(safe_catalog), env=env)  # as the DBA
    assert f"role {role} created" in made.stdout
    assert PASSWORD not in made.stdout + made.stderr
    return role


@pytest.mark.postgresql
def test_a_plain_read_only_role_has_no_power_over_the_server(
    cli: Callable[..., Any], pg_catalog: str, roles: Callable[[str], str], server_dir: Path
) -> None:
    role = _reader(cli, pg_catalog, roles)
    env = {settings.SQL_PASSWORD_ENV: PASSWORD}
    slot = f"aim_sqlt_slot_{os.getpid()}"
    with psycopg.connect(libpq(pg_catalog), autocommit=True) as other:
        victim = other.info.backend_pid
        statements = {
            f"COPY (SELECT 1) TO PROGRAM 'touch {server_dir}/program'": "pg_execute_server_program",
            f"COPY (SELECT 1) TO '{server_dir}/copy.csv'": "pg_write_server_files",
            "SELECT pg_read_file('PG_VERSION')": "permission denied for function pg_read_file",
            f"SELECT pg_terminate_backend({victim})": "must be a member of the role whose process",
            f"SELECT pg_create_physical_replication_slot('{slot}')": "must be superuser or replication role",
            "SELECT pg_reload_conf()": "permission denied for function pg_reload_conf",
            "CHECKPOINT": "pg_checkpoint",
            "SET TRANSACTION READ WRITE": "read-write mode must be set before any query",
            "DELETE FROM recipes": "read-only transaction",
            "CREATE TEMP TABLE t (x int)": "read-only transaction",
        }
        for statement, why in statements.items():
            result = cli("sql", "--role", role, statement, code=2, db_url=pg_catalog, env=env)
            assert why in one_error_line(result), statement
        assert other.execute("SELECT 1").fetchone() == (1,)  # not terminated
        assert not other.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", [slot]).fetchone()
    assert list(server_dir.iterdir()) == []
    reads = cli("sql", "--role", role, "SELECT current_user, count(*) AS n FROM recipes", "-f", "csv",
                db_url=pg_catalog, env=env)  # fmt: skip
    assert reads.stdout.splitlines() == ["current_user,n", f"{role},1"]


@pytest.mark.postgresql
def test_a_superuser_is_refused_with_the_advice(
    cli: Callable[..., Any], pg_catalog: str, roles: Callable[[str], str], server_dir: Path
) -> None:
    """Before: a superuser's `sql` ran COPY ... TO PROGRAM (the read-only transaction allows it)."""
    power = superuser_url(pg_catalog)
    touch = f"COPY (SELECT 1) TO PROGRAM 'touch {server_dir}/ran'"
    result = cli("sql", touch, code=1, db_url=power)
    line = one_error_line(result)
    assert "refuses to run as role" in line and "it holds superuser" in line
    assert "aim-catalog db grant-readonly ROLE" in line and "--role ROLE" in line
    assert list(server_dir.iterdir()) == []
    # The advice works: the same URL with --role runs as the read-only role.
    role = _reader(cli, pg_catalog, roles)
    env = {settings.SQL_PASSWORD_ENV: PASSWORD}
    who = cli("sql", "SELECT current_user AS u", "--role", role, "-f", "csv", db_url=power, env=env)
    assert who.stdout.splitlines() == ["u", role]
    configured = cli("sql", "SELECT current_user AS u", "-f", "csv", db_url=power,
                     env={**env, settings.SQL_ROLE_ENV: role})  # fmt: skip
    assert configured.stdout.splitlines() == ["u", role]


@pytest.mark.postgresql
@pytest.mark.parametrize(
    ("grant", "named"),
    [
        ("GRANT pg_read_server_files TO {role}", "membership in pg_read_server_files"),
        ("GRANT pg_signal_backend TO {role}", "membership in pg_signal_backend"),
        (
            "GRANT pg_execute_server_program TO {middle}; GRANT {middle} TO {role}",
            "pg_execute_server_program",
        ),
        ("ALTER ROLE {role} REPLICATION", "replication"),
        ("GRANT EXECUTE ON FUNCTION pg_read_file(text) TO {role}", "EXECUTE on pg_read_file"),
    ],
)
def test_roles_with_server_powers_are_refused(
    cli: Callable[..., Any], pg_catalog: str, roles: Callable[[str], str], grant: str, named: str
) -> None:
    role, middle = roles("power"), roles("middle")
    with psycopg.connect(libpq(superuser_url(pg_catalog)), autocommit=True) as admin:
        # NOINHERIT: membership alone is enough (set_config('role', ...) switches to it).
        admin.execute(f"CREATE ROLE {role} LOGIN NOINHERIT PASSWORD '{PASSWORD}'")
        admin.execute(f"CREATE ROLE {middle} NOLOGIN")
        for statement in grant.format(role=role, middle=middle).split("; "):
            admin.execute(statement)
    env = {settings.SQL_PASSWORD_ENV: PASSWORD}
    result = cli("sql", "--role", role, "SELECT 1", code=1, db_url=pg_catalog, env=env)
    line = one_error_line(result)
    assert f"refuses to run as role {role}" in line and named in line, line
    refused = cli("db", "grant-readonly", role, code=2, db_url=superuser_url(pg_catalog), env=env)
    assert "`sql` refuses such a role" in one_error_line(refused)


@pytest.mark.postgresql
def test_grant_readonly_gives_select_on_the_catalog_and_nothing_else(
    cli: Callable[..., Any], pg_catalog: str, roles: Callable[[str], str]
) -> None:
    role = _reader(cli, pg_catalog, roles)
    power = superuser_url(pg_catalog)
    with psycopg.connect(libpq(power), autocommit=True) as admin:
        stored = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [role]).fetchone()
        flags = admin.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin FROM pg_roles "
            "WHERE rolname = %s",
            [role],
        ).fetchone()
    assert stored is not None and stored[0].startswith("SCRAM-SHA-256$")  # hashed on the client
    assert flags == (False, False, False, False, True)
    as_reader = make_url(libpq(pg_catalog)).set(username=role, password=PASSWORD)
    with psycopg.connect(as_reader.render_as_string(hide_password=False), autocommit=True) as reader:
        assert reader.execute("SELECT count(*) FROM leaderboard").fetchone() == (0,)
        assert reader.execute("SELECT count(*) FROM serve_configs").fetchone() == (2,)
        # (Temporary tables stay possible outside `sql`: PostgreSQL grants TEMP to PUBLIC.)
        for write in ("DELETE FROM recipes", "CREATE TABLE public.planted (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(write)
    # Tables a later migration adds (created by the catalog's owner) are readable too.
    with psycopg.connect(libpq(pg_catalog), autocommit=True) as owner:
        owner.execute("CREATE TABLE later_table (x int)")
    later = cli("sql", "--role", role, "SELECT count(*) AS n FROM later_table", "-f", "csv",
                db_url=pg_catalog, env={settings.SQL_PASSWORD_ENV: PASSWORD})  # fmt: skip
    assert later.stdout.splitlines() == ["n", "0"]
    again = cli("db", "grant-readonly", role, db_url=power)  # idempotent; keeps the password
    assert f"role {role} updated" in again.stdout and "new password" not in again.stdout
    nameless = cli("db", "grant-readonly", roles("new"), code=2, db_url=power)  # no tty, no env
    assert settings.SQL_PASSWORD_ENV in one_error_line(nameless)
    bad = cli("db", "grant-readonly", "x; DROP TABLE recipes", code=2, db_url=power)
    assert "not a role name" in one_error_line(bad)
    # The catalog's owner without CREATEROLE (the test role) is told what it lacks.
    env = {settings.SQL_PASSWORD_ENV: PASSWORD}
    denied = one_error_line(cli("db", "grant-readonly", roles("denied"), code=1, db_url=pg_catalog, env=env))
    assert "permission denied to create role" in denied and "CREATEROLE" in denied
    assert PASSWORD not in denied


@pytest.mark.postgresql
def test_a_wrong_password_for_role_is_one_line_without_it(
    cli: Callable[..., Any], pg_catalog: str, roles: Callable[[str], str]
) -> None:
    role = _reader(cli, pg_catalog, roles)
    env = {settings.SQL_PASSWORD_ENV: "not-the-password-91"}
    result = cli("sql", "--role", role, "SELECT 1", code=1, db_url=pg_catalog, env=env)
    line = one_error_line(result)
    assert "password authentication failed" in line and settings.SQL_PASSWORD_ENV in line
    assert "not-the-password-91" not in line and "aim_test@" not in line.replace(f"{role}@", "")
