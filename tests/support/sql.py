"""`aim-catalog sql` as a real process and what it answers: an endless query, the one
error line, the environment of the process, Ctrl-C sent to it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

INFINITE = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"


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


def interrupt(process: subprocess.Popen[str]) -> tuple[int, str]:
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


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
