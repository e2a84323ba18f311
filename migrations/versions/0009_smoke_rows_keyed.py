"""every benchmark row that did not come from a recipe file has an import key

A recipe's own rows are replaced when the file changes; every other row (``bench import``,
``test --save``) is kept across re-ingests and identified by its ``import_key``. Smoke-test
rows were stored without one until now, so ``export`` wrote rows that ``ingest`` refuses
(a row whose origin is not ``recipe`` needs a key) and a backup with one saved smoke test
could not be restored. This gives each such row the key ``<origin>-<id>``: unique per serve
config (ids are unique) and stable across exports. New smoke rows get a random key when
saved. The downgrade keeps the keys: the code of 0008 reads a keyed smoke row as it reads a
keyed imported one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE benchmarks SET import_key = origin || '-' || CAST(id AS VARCHAR(20)) "
        "WHERE import_key IS NULL AND origin <> 'recipe'"
    )


def downgrade() -> None:
    pass  # the keys stay (see above)
