"""What analysts' SQL (`aim-catalog sql`) shares between the databases: the result, the
timeout and its errors, the settings' names. The entry point is ``measurements.sql``'s
``readonly_query``; each database's side is its own module (``sqlite``, ``postgresql``)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aim_catalog.errors import CatalogError, EnvironmentProblem, UsageProblem, shown
from aim_catalog.settings import MAX_SQL_INT

DEFAULT_TIMEOUT = 30.0
# PostgreSQL's statement_timeout is an int of milliseconds.
MAX_TIMEOUT = MAX_SQL_INT // 1000


class QueryTimedOut(CatalogError):
    """The statement ran past ``--timeout``: stopped, nothing partial is pending."""

    exit_code = 124  # as timeout(1)


class QueryInterrupted(CatalogError):
    """Ctrl-C stopped the statement (on PostgreSQL it is cancelled on the server too). Any
    command interrupted by Ctrl-C exits 130 as well."""

    exit_code = 130  # 128 + SIGINT, as a shell reports Ctrl-C


class UnsafeRole(EnvironmentProblem):
    """The PostgreSQL role could act on the server from inside a read-only statement."""


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: Iterator[tuple[Any, ...]]


def parse_timeout(raw: str) -> float:
    """``--timeout`` in seconds: finite, 0 (no limit) up to PostgreSQL's largest."""
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= MAX_TIMEOUT):
        raise UsageProblem(
            f"--timeout must be a number of seconds from 0 (no limit) to {MAX_TIMEOUT}, got {shown(raw)}"
        )
    return value


def timed_out(timeout: float) -> QueryTimedOut:
    return QueryTimedOut(f"query stopped: it ran longer than --timeout {timeout:g} s")
