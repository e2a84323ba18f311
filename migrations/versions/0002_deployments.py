"""deployments: what was launched, with a snapshot of its run spec

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("container_id", sa.String(80), nullable=False),
        sa.Column("docker_host", sa.String(300), nullable=False),
        sa.Column("serve_config_id", sa.Integer(), nullable=True),
        sa.Column("recipe_id", sa.String(200), nullable=False),
        sa.Column("model", sa.String(300), nullable=False),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("gpus", sa.JSON(), nullable=False),
        sa.Column("image", sa.String(300), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["serve_config_id"],
            ["serve_configs.id"],
            name=op.f("fk_deployments_serve_config_id_serve_configs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
        sa.UniqueConstraint("container_id", name=op.f("uq_deployments_container_id")),
    )
    op.create_index(op.f("ix_deployments_name"), "deployments", ["name"])


def downgrade() -> None:
    op.drop_index(op.f("ix_deployments_name"), table_name="deployments")
    op.drop_table("deployments")
