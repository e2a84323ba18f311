"""deployments are unique per (engine host, name)

``docker_host`` now holds the Docker engine's ID (rows written before keep the address
they were launched through; the launcher recognises them by container id), and
``engine_name`` the name the engine reports. A name is unique per engine among live rows
(partial unique index); history rows (stopped, failed) keep reused names.

Live rows of older catalogs may share (docker_host, name): every host of a fleet recorded
``local``. The newest keeps its value; older ones get `` #<id>`` appended, which keeps
them apart without guessing which engine they were on.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('starting', 'running')"


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("engine_name", sa.String(300), nullable=True))
    op.execute(
        "UPDATE deployments SET docker_host = docker_host || ' #' || CAST(id AS VARCHAR(20)) "
        f"WHERE {LIVE} AND EXISTS (SELECT 1 FROM deployments newer "
        "WHERE newer.docker_host = deployments.docker_host AND newer.name = deployments.name "
        "AND newer.status IN ('starting', 'running') AND newer.id > deployments.id)"
    )
    op.create_index(
        op.f("ix_deployments_docker_host_name"),
        "deployments",
        ["docker_host", "name"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_deployments_docker_host_name"), table_name="deployments")
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("engine_name")
