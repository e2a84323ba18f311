"""`aim-catalog sql` may only read, stops in time, streams, and runs under a powerless role.

SQLite: the file is opened read-only through a percent-escaped URI and an authorizer
refuses ATTACH, VACUUM (INTO) and writes. PostgreSQL: a read-only transaction under a role
without powers over the server (`db grant-readonly` makes one); a superuser or a member of
pg_read_server_files & co. is refused with that advice. Both: --timeout, Ctrl-C, --limit,
and a 3M-row result that streams in flat memory.

The PostgreSQL role tests need a superuser URL besides the test role's:
``AIM_CATALOG_TEST_PG_POWER_URL`` (scripts/test creates the role and exports it; it also
gives the test role CREATEROLE, which `db grant-readonly` needs).
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import make_url
from support.services import missing_service, pg_admin_url, reset_pg

from aim_catalog.measurements.sql import query as readonly_sql
from aim_catalog.measurements.sql import sqlite as readonly_sqlite
from aim_catalog.storage import db

POWER_ENV = "AIM_CATALOG_TEST_PG_POWER_URL"
PASSWORD = "reader-secret-8f3a"
INFINITE = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"


SAFE_RECIPES: dict[str, dict[str, Any]] = {
    "safe-a": {"configs": {"vllm": {1: {"enabled": True}, 2: {"enabled": True}}}},  # two serve configs
}


@pytest.fixture
def safe_catalog(make_catalog: Callable[..., Any], db_url: str) -> str:
    """A catalog with one recipe (two serve configs)."""
    return str(make_catalog(SAFE_RECIPES, into=db_url))


def one_error_line(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return str(lines[0])


def subprocess_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIM_CATALOG_")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), AIM_CATALOG_SYSFS_ROOT=str(tmp_path / "no-sysfs"))
    env["PYTHONUNBUFFERED"] = "1"  # each row reaches the pipe when written
    return env


# --------------------------------------------------------------------------- SQLite


@pytest.fixture
def sqlite_catalog(make_catalog: Callable[..., Any], tmp_path: Path) -> Path:
    """A SQLite catalog file holding 'safe-a' (one vLLM 1-GPU config)."""
    path = tmp_path / "catalog.db"
    make_catalog({"safe-a": {}}, into=f"sqlite:///{path}")
    return path


def test_vacuum_and_vacuum_into_are_refused_and_write_no_file(
    cli: Callable[..., Any], sqlite_catalog: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{sqlite_catalog}"
    copy = tmp_path / "copy.db"
    result = cli("sql", f"VACUUM INTO '{copy}'", code=2, db_url=url)
    assert "does not allow ATTACH (and VACUUM" in one_error_line(result)
    assert not copy.exists()
    before = sqlite_catalog.stat().st_mtime_ns, sqlite_catalog.read_bytes()
    cli("sql", "VACUUM", code=2, db_url=url)
    assert (sqlite_catalog.stat().st_mtime_ns, sqlite_catalog.read_bytes()) == before


def test_attach_is_refused_and_creates_no_file(
    cli: Callable[..., Any], sqlite_catalog: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    result = cli("sql", f"ATTACH '{other}' AS x", code=2, db_url=f"sqlite:///{sqlite_catalog}")
    assert "does not allow ATTACH" in one_error_line(result)
    assert not other.exists()


def test_a_catalog_under_a_directory_named_with_hash_is_read_where_it_is(
    cli: Callable[..., Any], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    """Unescaped, file:/x/a #1/catalog.db?mode=ro opened '/x/a ' read-write-create."""
    folder = tmp_path / "a #1"
    write_recipe("safe-a")
    write_recipe("safe-b")
    url = f"sqlite:///{folder / 'catalog.db'}"
    cli("ingest", str(tmp_path / "recipes"), db_url=url)
    count = cli("sql", "SELECT count(*) AS n FROM recipes", "-f", "csv", db_url=url)
    assert count.stdout.splitlines() == ["n", "2"]
    result = cli("sql", "CREATE TABLE planted (x INTEGER)", code=2, db_url=url)
    assert "read-only" in one_error_line(result)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("a")] == ["a #1"]  # no 'a ' file
    with sqlite3.connect(folder / "catalog.db") as check:
        assert not check.execute("SELECT 1 FROM sqlite_master WHERE name = 'planted'").fetchall()


def test_a_catalog_in_a_directory_nobody_may_write_is_still_read(
    cli: Callable[..., Any], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    """WAL needs a -shm file beside the catalog; where none can be made, read a snapshot."""
    folder = tmp_path / "sealed"
    write_recipe("safe-a")
    url = f"sqlite:///{folder / 'catalog.db'}"
    cli("ingest", str(tmp_path / "recipes"), db_url=url)
    assert sorted(p.name for p in folder.iterdir()) == ["catalog.db"]  # no -shm left behind
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i (an immutable directory, even for root) is not available here")
    try:
        count = cli("sql", "SELECT count(*) AS n FROM recipes", "-f", "csv", db_url=url)
        assert count.stdout.splitlines() == ["n", "1"]
        cli("sql", "CREATE TABLE planted (x INTEGER)", code=2, db_url=url)
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_sqlite_uri_escapes_what_a_uri_would_take_as_syntax(tmp_path: Path) -> None:
    uri = readonly_sqlite.sqlite_uri(readonly_sqlite.catalog_path(str(tmp_path / "x#y?z%20" / "c.db")))
    assert uri.endswith("/x%23y%3Fz%2520/c.db?mode=ro") and uri.startswith("file:///")


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TEMP TABLE t (x INTEGER)",
        "PRAGMA user_version = 7",
        "PRAGMA writable_schema = 1",
        "PRAGMA wal_checkpoint",
        "DETACH main",
        "INSERT INTO recipes (recipe_id) VALUES ('x')",
    ],
)
def test_sqlite_refuses_every_write_and_acting_pragma(
    cli: Callable[..., Any], sqlite_catalog: Path, statement: str
) -> None:
    result = cli("sql", statement, code=2, db_url=f"sqlite:///{sqlite_catalog}")
    assert "`sql` is read-only" in one_error_line(result)


def test_sqlite_introspection_still_works(cli: Callable[..., Any], sqlite_catalog: Path) -> None:
    url = f"sqlite:///{sqlite_catalog}"
    columns = cli("sql", "SELECT name FROM pragma_table_info('recipes')", "-f", "csv", db_url=url)
    assert "recipe_id" in columns.stdout.splitlines()
    assert cli("sql", "PRAGMA table_info(recipes)", "-f", "csv", db_url=url).stdout.count("\n") > 5
    assert cli("sql", "PRAGMA user_version", "-f", "csv", db_url=url).stdout.splitlines()[0] == "user_version"


def test_role_is_for_postgresql(cli: Callable[..., Any], sqlite_catalog: Path) -> None:
    result = cli("sql", "SELECT 1", "--role", "reader", code=2, db_url=f"sqlite:///{sqlite_catalog}")
    assert "--role applies to PostgreSQL" in one_error_line(result)
    result = cli("db", "grant-readonly", "reader", code=2, db_url=f"sqlite:///{sqlite_catalog}")
    assert "grant-readonly is for PostgreSQL" in one_error_line(result)


# --------------------------------------------------------------------------- time limits


@pytest.mark.parametrize("value", ["nan", "-1", "inf", "-inf", "abc", "1e12", ""])
def test_timeout_must_be_a_finite_number_of_seconds(
    cli: Callable[..., Any], sqlite_catalog: Path, value: str
) -> None:
    result = cli("sql", "SELECT 1", "--timeout", value, code=2, db_url=f"sqlite:///{sqlite_catalog}")
    assert "--timeout must be a number of seconds" in one_error_line(result)


def test_an_infinite_recursive_query_stops_at_the_timeout(
    cli: Callable[..., Any], safe_catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The query never ends, so only the timeout can stop it: exit 124 and its message show
    # that it did. On SQLite the clock is faked (0.5 s per look) to show where it stopped.
    ticks = itertools.count(0.0, 0.5)
    seen: list[float] = []

    def clock() -> float:
        seen.append(next(ticks))
        return seen[-1]

    monkeypatch.setattr(readonly_sqlite, "_clock", clock)
    result = cli("sql", INFINITE, "--timeout", "1", code=124, db_url=safe_catalog)
    assert one_error_line(result) == "error: query stopped: it ran longer than --timeout 1 s"
    assert result.stdout == ""
    if safe_catalog.startswith("sqlite"):
        assert 1 < seen[-1] <= 1.5  # stopped at the first look past 1 s, not before
    else:  # the server's statement_timeout stopped it
        assert seen == []


def test_the_default_timeout_is_30_seconds_on_sqlite(
    cli: Callable[..., Any], sqlite_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = itertools.count(0.0, 0.5)  # a clock that runs 0.5 s per look
    seen: list[float] = []

    def clock() -> float:
        seen.append(next(ticks))
        return seen[-1]

    monkeypatch.setattr(readonly_sqlite, "_clock", clock)
    result = cli("sql", INFINITE, code=124, db_url=f"sqlite:///{sqlite_catalog}")
    assert "--timeout 30 s" in one_error_line(result)
    assert 30 < seen[-1] <= 31  # stopped at the first look past 30 s, not before


@pytest.mark.postgresql
def test_pg_sleep_stops_at_the_timeout_and_the_default_is_30_s(cli: Callable[..., Any]) -> None:
    url = pg_admin_url()
    reset_pg(url)
    shown = cli("sql", "SHOW statement_timeout", "-f", "csv", db_url=url)
    assert shown.stdout.splitlines() == ["statement_timeout", "30s"]
    shown = cli("sql", "SHOW statement_timeout", "-f", "csv", "--timeout", "1", db_url=url)
    assert shown.stdout.splitlines() == ["statement_timeout", "1s"]  # what the server is told
    # pg_sleep(600) only returns early through that timeout: exit 124 and its message.
    result = cli("sql", "SELECT pg_sleep(600)", "--timeout", "1", code=124, db_url=url)
    assert one_error_line(result) == "error: query stopped: it ran longer than --timeout 1 s"


def _run_until_first_row(argv: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    """Start `aim-catalog ARGV` and return once it has printed a header and a row."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aim_catalog", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(tmp_path),
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    try:
        seen = [lines.get(timeout=60), lines.get(timeout=60)]
    except queue.Empty:
        process.kill()
        raise AssertionError(f"no first row streamed; stderr {process.communicate()[1]!r}") from None
    assert seen[0].strip() == "n" and seen[1].strip() == "1"
    return process


def _interrupt(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Send SIGINT to an endless query: only Ctrl-C can end it, so its exit code and message
    (checked by the callers) show it was stopped; the bounded wait fails a hung one."""
    time.sleep(0.5)  # well inside the endless part of the query
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("Ctrl-C did not stop `sql`") from None
    return process.returncode, stderr


def test_ctrl_c_stops_a_sqlite_query_promptly(sqlite_catalog: Path, tmp_path: Path) -> None:
    """SQLite ignores SIGINT inside a step: a progress handler has to look at a flag.

    Python's sqlite3 hands out a row once it has found the next one, hence rows 1 and 2.
    """
    endless = (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r WHERE n IN (1, 2)"
    )
    process = _run_until_first_row(
        ["--db", f"sqlite:///{sqlite_catalog}", "sql", endless, "-f", "csv", "--timeout", "0"], tmp_path
    )
    code, stderr = _interrupt(process)
    assert (code, stderr) == (130, "error: interrupted\n")


@pytest.mark.postgresql
def test_ctrl_c_cancels_a_postgresql_query(tmp_path: Path) -> None:
    url = pg_admin_url()
    reset_pg(url)
    marker = f"aim_ctrl_c_{os.getpid()}"
    process = subprocess.Popen(
        [sys.executable, "-m", "aim_catalog", "--db", url, "sql", f'SELECT pg_sleep(600) AS "{marker}"',
         "--timeout", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(tmp_path),
    )  # fmt: skip
    running = (
        "SELECT pid FROM pg_stat_activity "
        "WHERE state = 'active' AND query LIKE %s AND pid <> pg_backend_pid()"
    )
    with psycopg.connect(_libpq(url), autocommit=True) as admin:
        deadline = time.monotonic() + 60
        while not admin.execute(running, [f"%{marker}%"]).fetchall():  # the server is sleeping on it
            assert time.monotonic() < deadline and process.poll() is None, process.communicate()
            time.sleep(0.2)
        code, stderr = _interrupt(process)
        assert (code, stderr) == (130, "error: interrupted\n")
        assert admin.execute(running, [f"%{marker}%"]).fetchall() == []  # cancelled on the server too


# --------------------------------------------------------------------------- streaming


def test_limit_cuts_with_a_note_and_only_then(cli: Callable[..., Any], safe_catalog: str) -> None:
    many = "SELECT n FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r) s"
    cut = cli("sql", many, "--limit", "5", "-f", "json", db_url=safe_catalog)
    assert [row["n"] for row in json.loads(cut.stdout)] == [1, 2, 3, 4, 5]
    assert cut.stderr == "showing the first 5 rows; the result has more (raise --limit to see more)\n"
    whole = cli("sql", "SELECT 1 AS a UNION ALL SELECT 2", "--limit", "2", "-f", "csv", db_url=safe_catalog)
    assert (whole.stdout, whole.stderr) == ("a\n1\n2\n", "")
    table = cli("sql", many, db_url=safe_catalog)  # a table shows 1000 rows unless told
    assert "showing the first 1000 rows" in table.stderr and "-f csv streams them all" in table.stderr
    assert " 1000 " in table.stdout and " 1001 " not in table.stdout


def test_streamed_formats_match_the_buffered_ones(cli: Callable[..., Any], safe_catalog: str) -> None:
    query = "SELECT recipe_id, 'a|b' AS odd, NULL AS missing FROM recipes"
    as_json = json.loads(cli("sql", query, "-f", "json", db_url=safe_catalog).stdout)
    assert as_json == [{"recipe_id": "safe-a", "odd": "a|b", "missing": None}]
    assert (
        cli("sql", query, "-f", "csv", db_url=safe_catalog).stdout == "recipe_id,odd,missing\nsafe-a,a|b,\n"
    )
    assert (
        cli("sql", query, "-f", "markdown", db_url=safe_catalog).stdout.splitlines()[2]
        == "| safe-a | a\\|b |  |"
    )
    empty = "SELECT recipe_id AS rid, hardware FROM recipes WHERE recipe_id = 'none'"
    assert cli("sql", empty, "-f", "json", db_url=safe_catalog).stdout == "[]\n"
    assert cli("sql", empty, "-f", "csv", db_url=safe_catalog).stdout == "rid,hardware\n"  # columns, no rows


@pytest.mark.slow
def test_three_million_rows_stream_in_flat_memory(
    db_url: str, cli: Callable[..., Any], tmp_path: Path
) -> None:
    """Before: fetchall() held every row (a MemoryError under a memory limit)."""
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    engine.dispose()
    rows = 3_000_000
    if db_url.startswith("sqlite"):
        query = (
            f"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < {rows}) "
            "SELECT n, 'row number ' || n AS label FROM r"
        )
    else:
        query = f"SELECT n, 'row number ' || n AS label FROM generate_series(1, {rows}) AS n"
    out = tmp_path / "rows.csv"
    # The peak is read by the CLI process itself (VmHWM of its own address space) when it
    # exits: ru_maxrss of a child also counts the pytest parent's pages at fork time.
    report_peak = (
        "import atexit, runpy, sys\n"
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            sys.stderr.write('PEAK_KIB ' + line.split()[1] + '\\n')\n"
        "atexit.register(peak)\n"
        "sys.argv = ['aim-catalog'] + sys.argv[1:]\n"
        "runpy.run_module('aim_catalog', run_name='__main__')\n"
    )
    with out.open("w") as sink:
        process = subprocess.run(
            [
                sys.executable,
                "-c",
                report_peak,
                "--db",
                db_url,
                "sql",
                query,
                "-f",
                "csv",
                "--timeout",
                "600",
            ],
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(tmp_path),
            check=False,
        )
    assert process.returncode == 0, process.stderr
    peaks = [int(line.split()[1]) for line in process.stderr.splitlines() if line.startswith("PEAK_KIB ")]
    assert len(peaks) == 1, process.stderr
    peak_mib = peaks[0] / 1024
    assert peak_mib < 200, f"peak RSS {peak_mib:.0f} MiB"  # all rows in memory take > 400 MiB
    with out.open() as lines:
        first = next(lines)
        count = sum(1 for _ in lines)
    assert first == "n,label\n" and count == rows
    with out.open("rb") as tail:
        tail.seek(-40, os.SEEK_END)
        assert tail.read().endswith(b"\n3000000,row number 3000000\n")


# --------------------------------------------------------------------------- PostgreSQL roles


@pytest.fixture
def pg_catalog(make_catalog: Callable[..., Any]) -> str:
    """The catalog fixture's recipe, on PostgreSQL only (roles have no SQLite counterpart)."""
    url = pg_admin_url()
    reset_pg(url)
    return str(make_catalog(SAFE_RECIPES, into=url))


def _power_url(safe_catalog: str) -> str:
    power = os.environ.get(POWER_ENV)
    if not power:
        missing_service(f"PostgreSQL superuser: {POWER_ENV} is not set (scripts/test sets it)")
    assert power is not None
    database = make_url(safe_catalog).database
    return make_url(db.normalize_url(power)).set(database=database).render_as_string(hide_password=False)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


_names = itertools.count()


@pytest.fixture
def roles(pg_catalog: str) -> Iterator[Callable[[str], str]]:
    """Unique role names for this test; each is dropped afterwards (roles are cluster-wide)."""
    power = _power_url(pg_catalog)
    made: list[str] = []

    def name(purpose: str) -> str:
        made.append(f"aim_sqlt_{purpose}_{os.getpid()}_{next(_names)}")
        return made[-1]

    yield name
    with psycopg.connect(_libpq(power), autocommit=True) as admin:
        for role in made:
            if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                admin.execute(f'DROP OWNED BY "{role}"')
                admin.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A directory the database server's OS user could write to (so absence means refused)."""
    path = Path(tempfile.mkdtemp(prefix="aim-sql-safety-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _reader(cli: Callable[..., Any], safe_catalog: str, roles: Callable[[str], str]) -> str:
    role = roles("reader")
    env = {readonly_sql.SQL_PASSWORD_ENV: PASSWORD}
    made = cli("db", "grant-readonly", role, db_url=_power_url(safe_catalog), env=env)  # as the DBA
    assert f"role {role} created" in made.stdout
    assert PASSWORD not in made.stdout + made.stderr
    return role


@pytest.mark.postgresql
def test_a_plain_read_only_role_has_no_power_over_the_server(
    cli: Callable[..., Any], pg_catalog: str, roles: Callable[[str], str], server_dir: Path
) -> None:
    role = _reader(cli, pg_catalog, roles)
    env = {readonly_sql.SQL_PASSWORD_ENV: PASSWORD}
    slot = f"aim_sqlt_slot_{os.getpid()}"
    with psycopg.connect(_libpq(pg_catalog), autocommit=True) as other:
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
    power = _power_url(pg_catalog)
    touch = f"COPY (SELECT 1) TO PROGRAM 'touch {server_dir}/ran'"
    result = cli("sql", touch, code=1, db_url=power)
    line = one_error_line(result)
    assert "refuses to run as role" in line and "it holds superuser" in line
    assert "aim-catalog db grant-readonly ROLE" in line and "--role ROLE" in line
    assert list(server_dir.iterdir()) == []
    # The advice works: the same URL with --role runs as the read-only role.
    role = _reader(cli, pg_catalog, roles)
    env = {readonly_sql.SQL_PASSWORD_ENV: PASSWORD}
    who = cli("sql", "SELECT current_user AS u", "--role", role, "-f", "csv", db_url=power, env=env)
    assert who.stdout.splitlines() == ["u", role]
    configured = cli("sql", "SELECT current_user AS u", "-f", "csv", db_url=power,
                     env={**env, readonly_sql.SQL_ROLE_ENV: role})  # fmt: skip
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
    with psycopg.connect(_libpq(_power_url(pg_catalog)), autocommit=True) as admin:
        # NOINHERIT: membership alone is enough (set_config('role', ...) switches to it).
        admin.execute(f"CREATE ROLE {role} LOGIN NOINHERIT PASSWORD '{PASSWORD}'")
        admin.execute(f"CREATE ROLE {middle} NOLOGIN")
        for statement in grant.format(role=role, middle=middle).split("; "):
            admin.execute(statement)
    env = {readonly_sql.SQL_PASSWORD_ENV: PASSWORD}
    result = cli("sql", "--role", role, "SELECT 1", code=1, db_url=pg_catalog, env=env)
    line = one_error_line(result)
    assert f"refuses to run as role {role}" in line and named in line, line
    refused = cli("db", "grant-readonly", role, code=2, db_url=_power_url(pg_catalog), env=env)
    assert "`sql` refuses such a role" in one_error_line(refused)


@pytest.mark.postgresql
def test_grant_readonly_gives_select_on_the_catalog_and_nothing_else(
    cli: Callable[..., Any], pg_catalog: str, roles: Callable[[str], str]
) -> None:
    role = _reader(cli, pg_catalog, roles)
    power = _power_url(pg_catalog)
    with psycopg.connect(_libpq(power), autocommit=True) as admin:
        stored = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [role]).fetchone()
        flags = admin.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin FROM pg_roles "
            "WHERE rolname = %s",
            [role],
        ).fetchone()
    assert stored is not None and stored[0].startswith("SCRAM-SHA-256$")  # hashed on the client
    assert flags == (False, False, False, False, True)
    as_reader = make_url(_libpq(pg_catalog)).set(username=role, password=PASSWORD)
    with psycopg.connect(as_reader.render_as_string(hide_password=False), autocommit=True) as reader:
        assert reader.execute("SELECT count(*) FROM leaderboard").fetchone() == (0,)
        assert reader.execute("SELECT count(*) FROM serve_configs").fetchone() == (2,)
        # (Temporary tables stay possible outside `sql`: PostgreSQL grants TEMP to PUBLIC.)
        for write in ("DELETE FROM recipes", "CREATE TABLE public.planted (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(write)
    # Tables a later migration adds (created by the catalog's owner) are readable too.
    with psycopg.connect(_libpq(pg_catalog), autocommit=True) as owner:
        owner.execute("CREATE TABLE later_table (x int)")
    later = cli("sql", "--role", role, "SELECT count(*) AS n FROM later_table", "-f", "csv",
                db_url=pg_catalog, env={readonly_sql.SQL_PASSWORD_ENV: PASSWORD})  # fmt: skip
    assert later.stdout.splitlines() == ["n", "0"]
    again = cli("db", "grant-readonly", role, db_url=power)  # idempotent; keeps the password
    assert f"role {role} updated" in again.stdout and "new password" not in again.stdout
    nameless = cli("db", "grant-readonly", roles("new"), code=2, db_url=power)  # no tty, no env
    assert readonly_sql.SQL_PASSWORD_ENV in one_error_line(nameless)
    bad = cli("db", "grant-readonly", "x; DROP TABLE recipes", code=2, db_url=power)
    assert "not a role name" in one_error_line(bad)
    # The catalog's owner without CREATEROLE (the test role) is told what it lacks.
    env = {readonly_sql.SQL_PASSWORD_ENV: PASSWORD}
    denied = one_error_line(cli("db", "grant-readonly", roles("denied"), code=1, db_url=pg_catalog, env=env))
    assert "permission denied to create role" in denied and "CREATEROLE" in denied
    assert PASSWORD not in denied


@pytest.mark.postgresql
def test_a_wrong_password_for_role_is_one_line_without_it(
    cli: Callable[..., Any], pg_catalog: str, roles: Callable[[str], str]
) -> None:
    role = _reader(cli, pg_catalog, roles)
    env = {readonly_sql.SQL_PASSWORD_ENV: "not-the-password-91"}
    result = cli("sql", "--role", role, "SELECT 1", code=1, db_url=pg_catalog, env=env)
    line = one_error_line(result)
    assert "password authentication failed" in line and readonly_sql.SQL_PASSWORD_ENV in line
    assert "not-the-password-91" not in line and "aim_test@" not in line.replace(f"{role}@", "")
