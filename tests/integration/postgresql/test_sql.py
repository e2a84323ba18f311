"""`aim-catalog sql` on each dialect: it only reads, stops at its timeout, streams in flat
memory, and bounds ``--limit``.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from support.launch import cli
from support.services import pg_admin_url, reset_pg
from support.sql import INFINITE, interrupt, libpq, one_error_line, subprocess_env

from aim_catalog.measurements.sql import sqlite as readonly_sqlite
from aim_catalog.storage import db


def test_sql_reads_and_the_database_refuses_writes(cli: Callable[..., Any], bench_catalog: str) -> None:
    rows = json.loads(
        cli(
            "sql", "SELECT recipe_id FROM recipes ORDER BY recipe_id", "-f", "json", db_url=bench_catalog
        ).stdout
    )
    assert rows == [{"recipe_id": "bench-a"}, {"recipe_id": "bench-b"}]
    count = "SELECT count(*) AS n FROM serve_configs"
    assert cli("sql", count, "-f", "csv", db_url=bench_catalog).stdout.splitlines() == ["n", "4"]
    for statement in (
        "DELETE FROM serve_configs",
        "UPDATE recipes SET precision = 'fp8'",
        "DROP TABLE benchmarks",
        "CREATE TABLE x (a int)",
        "SELECT 1; DELETE FROM serve_configs",
        "WITH gone AS (DELETE FROM serve_configs RETURNING id) SELECT count(*) FROM gone",
    ):
        result = cli("sql", statement, code=2, db_url=bench_catalog)
        assert "query failed" in result.stderr, statement
    assert cli("sql", count, "-f", "csv", db_url=bench_catalog).stdout.splitlines() == ["n", "4"]
    assert json.loads(
        cli(
            "sql", "SELECT model, gpu_count FROM coverage ORDER BY 1, 2", "-f", "json", db_url=bench_catalog
        ).stdout
    )


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
    with psycopg.connect(libpq(url), autocommit=True) as admin:
        deadline = time.monotonic() + 60
        while not admin.execute(running, [f"%{marker}%"]).fetchall():  # the server is sleeping on it
            assert time.monotonic() < deadline and process.poll() is None, process.communicate()
            time.sleep(0.2)
        code, stderr = interrupt(process)
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


# --------------------------------------------------------------------------- number bounds


def test_sql_limit_is_bounded(db_url: str) -> None:
    cli("--db", db_url, "db", "upgrade")
    result = cli("--db", db_url, "sql", "--limit", "99999999999999999999999", "select 1", code=2)
    assert "Invalid value for '--limit'" in result.stderr and "2147483647" in result.stderr
    assert json.loads(
        cli("--db", db_url, "sql", "--limit", "2147483647", "--format", "json", "select 1").stdout
    )
