"""deployment targets: docker, kubernetes, kserve (context, namespace)

A deployment is a Docker container (target ``docker``, every row before this revision)
or objects in a Kubernetes cluster (``kubernetes``: Deployment + Service; ``kserve``: an
InferenceService): the kubeconfig context and namespace they were applied to, and the
objects launch created (what ``stop`` deletes, and nothing else).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("target", sa.String(16), nullable=False, server_default="docker"))
        batch.add_column(sa.Column("context", sa.String(253), nullable=True))
        batch.add_column(sa.Column("namespace", sa.String(63), nullable=True))
        batch.add_column(sa.Column("objects", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Rows of other targets would read as Docker containers to an older aim-catalog.
    op.execute("DELETE FROM deployments WHERE target <> 'docker'")
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("objects")
        batch.drop_column("namespace")
        batch.drop_column("context")
        batch.drop_column("target")
