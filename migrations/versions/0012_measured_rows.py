"""benchmark rows the tool measured itself: origin ``measured``, with the image's digest,
the server's version, the client and the GPU model

``aim-catalog bench run`` and ``bench sweep`` measure a deployment and store one row per
concurrency (origin ``measured``, keyed like a smoke row). Their evidence is more than an
imported file carries: the digest of the image the container ran (``image_digest``, from
the engine), the server's own version (``server_version``: vLLM's ``/version``, SGLang's
``/get_server_info``), the client that measured (``client``, with its version) and the GPU
model the deployment ran on (``gpu_model``). New nullable columns: every existing row keeps
what it had (unknown: NULL); the downgrade drops them. The views are 0011's, dropped and
recreated around the change (SQLite checks views when a batch migration rebuilds the table).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("image_digest", 200), ("server_version", 100), ("client", 200), ("gpu_model", 64))


def _previous() -> ModuleType:
    """Migration 0011, whose views this one keeps."""
    path = Path(__file__).with_name("0011_leaderboard_measured_at.py")
    spec = importlib.util.spec_from_file_location("aim_catalog_migration_0011", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    views = _previous()._views()
    for name in views:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("benchmarks") as batch:
        for name, size in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(size), nullable=True))
    for name, body in views.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    views = _previous()._views()
    for name in views:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("benchmarks") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
    for name, body in views.items():
        op.execute(f"CREATE VIEW {name} AS {body}")
