"""AIM profiles: goal, profile type, manual selection, general fallbacks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

AMD AIM runtime profiles (amd-enterprise-ai/aim-build) carry, per serve config, the goal it
was tuned for (``metric``: latency or throughput), its ``type`` (optimized, preview,
unoptimized, general) and ``manual_selection_only``; model-agnostic *general* profiles are
fallbacks for models no recipe names. Existing rows: no goal, no type, selectable, not
general, so every config that was chosen before still is. The reporting views do not read
the new columns; they are dropped and recreated around the table rebuild (SQLite checks
views when a batch migration renames the table back).
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _views() -> dict[str, str]:
    """The views of migration 0005 (unchanged by this one)."""
    path = Path(__file__).with_name("0005_benchmark_scenarios.py")
    spec = importlib.util.spec_from_file_location("aim_catalog_migration_0005", path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    views: dict[str, str] = module.VIEWS
    return views


def upgrade() -> None:
    views = _views()
    for name in views:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("serve_configs") as batch:
        batch.add_column(sa.Column("goal", sa.String(16), nullable=True))
        batch.add_column(sa.Column("profile_type", sa.String(16), nullable=True))
        batch.add_column(sa.Column("manual_only", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("recipes") as batch:
        batch.add_column(sa.Column("general", sa.Boolean(), nullable=False, server_default=sa.false()))
    for name, body in views.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    views = _views()
    for name in views:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("recipes") as batch:
        batch.drop_column("general")
    with op.batch_alter_table("serve_configs") as batch:
        batch.drop_column("manual_only")
        batch.drop_column("profile_type")
        batch.drop_column("goal")
    for name, body in views.items():
        op.execute(f"CREATE VIEW {name} AS {body}")
