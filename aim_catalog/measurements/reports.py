"""Reports for analysts, read from the SQL views the migrations ship.

Each report is ``(columns, rows)``; the CLI renders it as a table, CSV, JSON or Markdown.
The leaderboard (each group's best measured row, whatever its concurrency: ``select``
compares configs at one operating point instead) names its evidence: ``evidence``,
``measured_image``, ``measured_at``, and ``stale`` when the row was measured on another
image than the config launches now (``selection.evidence.launch_image``).
Ad-hoc SQL (`aim-catalog sql`) is ``measurements.sql``'s: read-only, time-limited, streamed.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from aim_catalog.backends.registry import BACKENDS
from aim_catalog.errors import UsageProblem
from aim_catalog.selection.evidence import launch_image

Table = tuple[list[str], list[tuple[Any, ...]]]
REPORTS = ("coverage", "leaderboard", "benchmarks")


def report(session: Session, name: str) -> Table:
    if name == "coverage":
        return coverage(session)
    if name == "leaderboard":
        return leaderboard(session)
    if name == "benchmarks":
        order = "recipe_id, backend, gpu_count, input_len, output_len, concurrency"
        return _view(session, "benchmark_results", order)
    raise UsageProblem(f"unknown report {name!r}; choose one of {', '.join(REPORTS)}")


def _view(session: Session, view: str, order: str) -> Table:
    result = session.execute(text(f"SELECT * FROM {view} ORDER BY {order}"))
    return list(result.keys()), [tuple(row) for row in result]


def leaderboard(session: Session) -> Table:
    """The leaderboard view, each row with what its figure stands on."""
    columns, rows = _view(session, "leaderboard", "model, precision, hardware, gpu_count")
    at = {name: i for i, name in enumerate(columns)}
    out = []
    for row in rows:
        config = SimpleNamespace(
            image=row[at["config_image"]], backend=row[at["backend"]], hardware=row[at["hardware"]]
        )
        measured, launch = row[at["benchmark_image"]], launch_image(config)
        stale = None if measured is None or launch is None else measured != launch
        out.append((*row, "measured", measured, launch, stale))
    return [*columns, "evidence", "measured_image", "launch_image", "stale"], out


def coverage(session: Session) -> Table:
    """Model x backend x GPU count: 'enabled', 'disabled' (configs exist, none enabled) or ''."""
    rows = session.execute(
        text("SELECT model, precision, hardware, backend, gpu_count, enabled_configs FROM coverage")
    ).all()
    counts = sorted({row.gpu_count for row in rows})
    cells: dict[tuple[str, str, str, str], dict[int, str]] = {}
    for row in rows:
        key = (row.model, row.precision, row.hardware, row.backend)
        cells.setdefault(key, {})[row.gpu_count] = "enabled" if row.enabled_configs else "disabled"
    order = {b: i for i, b in enumerate(BACKENDS)}
    keys = sorted(cells, key=lambda k: (k[0], k[1], k[2], order.get(k[3], 99)))
    columns = ["model", "precision", "hardware", "backend", *(f"{n} GPU" for n in counts)]
    return columns, [(*key, *(cells[key].get(n, "") for n in counts)) for key in keys]
