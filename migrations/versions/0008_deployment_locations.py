"""deployments say where they run in a column of their own: ``location``

Until 0007 a cluster deployment stored ``kubernetes:<API server URL>/<namespace>`` in
``docker_host``, so that column held two kinds of value and every new target would have
needed a column or another prefix. Now ``target`` says which target and ``location`` where
on it (the Docker engine's ID; a cluster's ``<API server URL>/<namespace>``). A name is
unique per location among live rows, as it was per ``docker_host`` (a Deployment and an
InferenceService of one name in one namespace still exclude each other). ``docker_host``
holds only Docker engine IDs: it is NULL for cluster rows. Downgrading writes the old
prefixed value back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('starting', 'running')"
CLUSTER_PREFIX = "kubernetes:"  # what 0007's cluster rows put before the server URL


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("location", sa.String(300), nullable=True))
    op.execute(
        f"UPDATE deployments SET location = SUBSTR(docker_host, {len(CLUSTER_PREFIX) + 1}) "
        f"WHERE target <> 'docker' AND docker_host LIKE '{CLUSTER_PREFIX}%'"
    )
    op.execute("UPDATE deployments SET location = docker_host WHERE location IS NULL")
    op.drop_index(op.f("ix_deployments_docker_host_name"), table_name="deployments")
    with op.batch_alter_table("deployments") as batch:
        batch.alter_column("location", existing_type=sa.String(300), nullable=False)
        batch.alter_column("docker_host", existing_type=sa.String(300), nullable=True)
    op.execute("UPDATE deployments SET docker_host = NULL WHERE target <> 'docker'")
    op.create_index(
        op.f("ix_deployments_location_name"),
        "deployments",
        ["location", "name"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_deployments_location_name"), table_name="deployments")
    op.execute(
        f"UPDATE deployments SET docker_host = '{CLUSTER_PREFIX}' || location WHERE docker_host IS NULL"
    )
    with op.batch_alter_table("deployments") as batch:
        batch.alter_column("docker_host", existing_type=sa.String(300), nullable=False)
        batch.drop_column("location")
    op.create_index(
        op.f("ix_deployments_docker_host_name"),
        "deployments",
        ["docker_host", "name"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
