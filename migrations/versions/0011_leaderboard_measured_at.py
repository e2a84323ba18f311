"""the leaderboard says when its row was measured: ``measured_at``

``report leaderboard`` names the evidence of every figure it shows (issue 19): which run,
on which image, when. The view already carried the row's ``source`` and
``benchmark_image``; it now carries the row's ``measured_at`` too (after ``source``), so
the report can say when, and (in Python, which knows each backend's default image) whether
the row is stale. Only the view changes; every view is dropped and recreated around it, as
0010 does. The downgrade restores 0010's views.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _previous() -> ModuleType:
    """Migration 0010, whose views this one keeps (all but ``leaderboard``)."""
    path = Path(__file__).with_name("0010_latency_percentiles_and_energy.py")
    spec = importlib.util.spec_from_file_location("aim_catalog_migration_0010", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _with(body: str, old: str, new: str) -> str:
    assert body.count(old) == 1, old  # 0005's text, which never changes
    return body.replace(old, new)


def _views() -> dict[str, str]:
    views: dict[str, str] = _previous()._views()
    board = views["leaderboard"]
    board = _with(board, "b.concurrency, b.source,", "b.concurrency, b.source, b.measured_at,")
    board = _with(
        board, "concurrency, source, benchmark_image,", "concurrency, source, measured_at, benchmark_image,"
    )
    views["leaderboard"] = board
    return views


def upgrade() -> None:
    for name in _views():
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for name, body in _views().items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    previous = _previous()._views()
    for name in previous:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for name, body in previous.items():
        op.execute(f"CREATE VIEW {name} AS {body}")
