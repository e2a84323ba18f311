"""The benchmark rows a recipe's serve config carries: scenario, metrics, provenance, origin.

Every column of the ``benchmarks`` table round-trips through ``export``, so a row may carry
any of them, each checked against its SQL type's bounds.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from aim_catalog.errors import shown
from aim_catalog.recipes.checker import Checker, kind
from aim_catalog.recipes.format import (
    BENCHMARK_FIELDS,
    ORIGIN_FIELDS,
    PROVENANCE_FIELDS,
    PROVENANCE_LIMITS,
    SCENARIO_FIELDS,
    Origin,
)
from aim_catalog.recipes.safe_yaml import Path_
from aim_catalog.settings import ENERGY_FIELDS, MAX_SQL_INT, METRIC_FIELDS

_ORIGIN = re.compile(r"^[a-z]{1,16}$")
_IMPORT_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def benchmark_rows(ck: Checker, rows: Any, where: Path_) -> list[dict[str, Any]]:
    """The valid rows of a config's ``benchmarks`` list (problems go to ``ck``)."""
    if rows is None:
        return []
    if not isinstance(rows, list):
        ck.err(where, f"must be a list, got {kind(rows)}")
        return []
    out = []
    for i, row in enumerate(rows):
        bench = benchmark_row(ck, row, (*where, i))
        if bench is not None:
            out.append(bench)
    return out


def benchmark_row(ck: Checker, value: Any, where: Path_) -> dict[str, Any] | None:
    row = ck.mapping(value, where)
    if row is None:
        return None
    before = len(ck.problems)
    floats = {*METRIC_FIELDS, *ENERGY_FIELDS}
    for key, val in row.items():
        if _field(ck, key, val, (*where, key)) == "float":
            floats.add(key)
    if not any(k in row for k in METRIC_FIELDS):
        ck.err(
            where,
            f"a benchmark row needs at least one metric ({', '.join(METRIC_FIELDS[:3])}, ...)",
        )
    origin = row.get("origin", Origin.RECIPE.value)
    if (origin != Origin.RECIPE.value) != ("import_key" in row):
        ck.err(where, "a row with an origin other than 'recipe' needs an import_key, and only such a row")
    if len(ck.problems) != before:
        return None
    return {k: (float(v) if k in floats else v) for k, v in row.items()}


def _field(ck: Checker, key: Any, val: Any, at: Path_) -> str | None:
    """Check one field of a row; "float" for an extra column stored as a float."""
    if key in SCENARIO_FIELDS:
        ck.integer(val, at, 1)
    elif key in METRIC_FIELDS or key in ENERGY_FIELDS:
        ck.number(val, at)
    elif key in PROVENANCE_FIELDS:
        ck.text(val, at, max_len=PROVENANCE_LIMITS[key])
    elif key == "origin":
        ck.text(val, at, _ORIGIN)
    elif key == "import_key":
        ck.text(val, at, _IMPORT_KEY)
    elif isinstance(key, str) and key in _table_columns():
        sql_type, limit = _table_columns()[key]
        if sql_type == "int":
            ck.integer(val, at, 0)
        elif sql_type == "float":
            ck.number(val, at)
            return "float"
        else:
            ck.text(val, at, max_len=limit)
    else:
        known = [*BENCHMARK_FIELDS, *(k for k in _table_columns() if k not in BENCHMARK_FIELDS)]
        ck.err(at, f"unknown benchmark field {shown(key)}; known: {', '.join(known)}")
    return None


@functools.cache
def _table_columns() -> dict[str, tuple[str, int]]:
    """Benchmark columns beyond the documented ones, with their SQL type's bounds.

    The table is read only when a row has such a field (``validate`` stays cheap).
    """
    from sqlalchemy import Float, Integer, String

    from aim_catalog.storage.tables import benchmarks

    kinds: dict[str, tuple[str, int]] = {}
    for column in benchmarks.columns:
        if column.name in ("id", "serve_config_id", *BENCHMARK_FIELDS, *ORIGIN_FIELDS):
            continue
        if isinstance(column.type, Integer):
            kinds[column.name] = ("int", MAX_SQL_INT)
        elif isinstance(column.type, Float):
            kinds[column.name] = ("float", 0)
        elif isinstance(column.type, String):
            kinds[column.name] = ("text", column.type.length or 1000)
    return kinds
