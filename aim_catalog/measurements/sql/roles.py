"""PostgreSQL roles for ``sql``: which powers make a role unfit, and the read-only role.

A read-only transaction is not a privilege boundary: a superuser (or a member of
``pg_execute_server_program``, ``pg_read_server_files``...) still runs programs, reads and
writes server files, signals other backends or creates replication slots from inside one.
``SET ROLE`` is no boundary either: the statement itself can undo it
(``SELECT set_config('role', 'none', true), pg_read_file(...)``), so what counts is every
role the *session* user is a member of, inherited or not. ``grant_readonly`` creates the
login role `sql` is meant to run as: SELECT on the catalog's tables and views, nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from aim_catalog.errors import EnvironmentProblem, UsageProblem, first_line, shown

# Predefined roles whose members can act on the server beyond reading the catalog
# (PostgreSQL 15 names; a name a server lacks simply matches nothing).
DANGEROUS_ROLES = (
    "pg_execute_server_program",  # COPY ... TO/FROM PROGRAM
    "pg_read_server_files",  # COPY FROM file, pg_read_file
    "pg_write_server_files",  # COPY TO file
    "pg_signal_backend",  # pg_cancel_backend/pg_terminate_backend of other roles
    "pg_checkpoint",  # CHECKPOINT
    "pg_read_all_data",  # every table of every schema, not the catalog's only
    "pg_write_all_data",
)

# Roles the session user is a member of (directly, through other roles, inherited or
# not: membership alone lets a statement switch to them with set_config('role', ...)).
_POWERS_SQL = """
SELECT r.rolname, r.rolsuper, r.rolreplication
FROM pg_roles AS r
WHERE pg_has_role({who}, r.oid, 'MEMBER')
  AND (r.rolsuper OR r.rolreplication OR r.rolname = ANY(:dangerous))
ORDER BY r.rolname
"""
# Administrative functions of pg_catalog that PostgreSQL withholds from PUBLIC
# (pg_read_file, lo_import, pg_reload_conf, pg_ls_dir, pg_promote...), which some role the
# session user belongs to may still execute because someone granted it.
_FUNCTIONS_SQL = """
SELECT DISTINCT p.proname
FROM pg_proc AS p, pg_roles AS r
WHERE p.pronamespace = 'pg_catalog'::regnamespace
  AND p.proacl IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM aclexplode(p.proacl) AS a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
  AND pg_has_role({who}, r.oid, 'MEMBER')
  AND has_function_privilege(r.oid, p.oid, 'EXECUTE')
ORDER BY p.proname
"""

ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def powers_of(connection: Connection, role: str | None = None) -> list[str]:
    """What ``role`` (default: the session user) could do beyond reading, as short phrases."""
    who = "session_user" if role is None else "CAST(:role AS name)"
    params: dict[str, Any] = {"dangerous": list(DANGEROUS_ROLES), "role": role}
    me = connection.execute(
        text(f"SELECT rolname, rolsuper FROM pg_roles WHERE rolname = {who}"), params
    ).first()
    if me is None:
        return []
    if me.rolsuper:
        return ["superuser"]
    found: list[str] = []
    for name, superuser, replication in connection.execute(text(_POWERS_SQL.format(who=who)), params):
        if superuser:
            found.append(f"membership in superuser role {name}")
        elif replication:
            found.append("replication" if name == me.rolname else f"membership in replication role {name}")
        else:
            found.append(f"membership in {name}")
    functions = connection.execute(text(_FUNCTIONS_SQL.format(who=who)), params).scalars().all()
    if functions:
        found.append("EXECUTE on " + ", ".join(functions[:5]) + (", ..." if len(functions) > 5 else ""))
    return found


def check_role_name(role: str) -> str:
    if not ROLE_NAME.fullmatch(role) or role.lower().startswith("pg_"):
        raise UsageProblem(
            f"not a role name for grant-readonly: {shown(role)} "
            "(letters, digits and _, at most 63, not starting with pg_)"
        )
    return role


@dataclass(frozen=True)
class Grant:
    role: str
    created: bool
    password_set: bool
    database: str
    schema: str
    relations: int


def grant_readonly(connection: Connection, role: str, password: Callable[[bool], str | None]) -> Grant:
    """Create (or update) login role ``role`` that can SELECT the catalog and nothing else.

    ``password(exists)`` supplies the password: it may return None for an existing role
    (keep its password), never for a new one. The password reaches the server only as a
    SCRAM verifier computed here, so it appears in no server log. Runs in the caller's
    transaction; the caller commits.
    """
    check_role_name(role)
    schema, owner = _catalog_schema(connection)
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if exists:
        powers = powers_of(connection, role)
        if powers:
            raise UsageProblem(
                f"role {role} already exists and holds {', '.join(powers)}: `sql` refuses such a role; "
                "choose another name for the read-only role"
            )
    secret = password(bool(exists))
    if not exists and not secret:
        raise UsageProblem(f"role {role} does not exist yet: it needs a password to log in with")
    raw: Any = connection.connection.driver_connection
    verifier = None
    if secret:
        verifier = raw.pgconn.encrypt_password(secret.encode(), role.encode()).decode()
    database = str(connection.execute(text("SELECT current_database()")).scalar())
    _execute(raw, role, _statements(role, bool(exists), verifier, database, schema, owner))
    relations = connection.execute(
        text(
            "SELECT count(*) FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :s AND c.relkind IN ('r', 'v', 'm', 'p') "
            "AND has_table_privilege(CAST(:r AS name), c.oid, 'SELECT')"
        ),
        {"s": schema, "r": role},
    ).scalar()
    return Grant(role, not exists, bool(verifier), database, schema, int(relations or 0))


def _catalog_schema(connection: Connection) -> tuple[str, str]:
    """The schema the catalog (its ``alembic_version`` table) is in, and the table's owner."""
    owner_row = connection.execute(
        text(
            "SELECT n.nspname, pg_get_userbyid(c.relowner) FROM pg_class AS c "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE c.relname = 'alembic_version' AND c.relkind = 'r' AND pg_table_is_visible(c.oid)"
        )
    ).first()
    if owner_row is None:
        raise EnvironmentProblem("no catalog found in this database: run `aim-catalog db upgrade` first")
    return str(owner_row[0]), str(owner_row[1])


def _statements(
    role: str, exists: bool, verifier: str | None, database: str, schema: str, owner: str
) -> list[Any]:
    """Create (or alter) the login role, then grant it SELECT on the catalog and nothing else."""
    from psycopg import sql

    ident = sql.Identifier(role)
    statements = []
    if not exists:
        statements.append(
            sql.SQL(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                "PASSWORD {}"
            ).format(ident, sql.Literal(verifier))
        )
    elif verifier:
        statements.append(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(ident, sql.Literal(verifier)))
    nsp = sql.Identifier(schema)
    return [
        *statements,
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(nsp, ident),
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(nsp, ident),
        # Tables and views later migrations create (as the catalog's owner) are readable too.
        sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
            sql.Identifier(owner), nsp, ident
        ),
    ]


def _execute(raw: Any, role: str, statements: list[Any]) -> None:
    import psycopg

    try:
        with raw.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    except psycopg.Error as exc:
        first = first_line(exc)
        raise EnvironmentProblem(
            f"cannot grant read-only access to {role}: {first} (run this as the catalog's owner "
            "with CREATEROLE, or as a superuser)"
        ) from exc
