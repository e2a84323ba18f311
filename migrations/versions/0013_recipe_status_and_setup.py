"""recipes say whether upstream still runs them (``status``), configs keep their setup steps

Issue 21. A recipe is ``current`` or ``retired`` (with ``retired_reason`` and, where known,
``retired_on``): InferenceX archives the benchmarks it no longer runs under
``configs/deprecated/``, and a catalog should say so rather than present them as what is
tuned today. A serve config keeps the ``pip install`` lines its launch script ran before
the server (``setup``, a JSON list; empty for every existing config).

Data: every existing recipe is ``current``, except those whose stored document says
otherwise (a ``status`` field) and those generated from InferenceX whose source files lie
under ``configs/deprecated/``: those become ``retired`` with that reason (the date is not
in the document; ``aim-catalog catalog sync inferencex`` records it). A config's setup is
what its recipe's stored document says (none before 0013; kept through a downgrade and
upgrade). The views are 0012's,
dropped and recreated around the change (SQLite checks views when a batch migration
rebuilds a table). The downgrade drops the columns.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import importlib.util
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEPRECATED = (
    "InferenceX no longer runs this benchmark: its config is archived under configs/deprecated/ "
    "(date not recorded; `aim-catalog catalog sync inferencex` records it)"
)


# The columns this migration reads and writes, as they are at its revision.
RECIPES = sa.table(
    "recipes",
    sa.column("id", sa.Integer()),
    sa.column("document", sa.JSON()),
    sa.column("status", sa.String(16)),
    sa.column("retired_reason", sa.Text()),
    sa.column("retired_on", sa.Date()),
)
CONFIGS = sa.table(
    "serve_configs",
    sa.column("id", sa.Integer()),
    sa.column("recipe_pk", sa.Integer()),
    sa.column("backend", sa.String(32)),
    sa.column("gpu_count", sa.Integer()),
    sa.column("setup", sa.JSON()),
)


def _views() -> dict[str, str]:
    """The views as migration 0012 left them (0011's)."""
    path = Path(__file__).with_name("0011_leaderboard_measured_at.py")
    spec = importlib.util.spec_from_file_location("aim_catalog_migration_0011", path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    views: dict[str, str] = module._views()
    return views


def status_of(document: Any) -> tuple[str, str | None, date | None]:
    """What a stored recipe document says of its status (see the module docstring)."""
    doc = json.loads(document) if isinstance(document, str) else document
    if not isinstance(doc, dict):
        return "current", None, None
    if doc.get("status") == "retired" and isinstance(doc.get("retired_reason"), str):
        try:
            day = date.fromisoformat(str(doc.get("retired_on")))
        except ValueError:
            day = None
        return "retired", doc["retired_reason"][:500], day
    source = doc.get("source")
    files = source.get("files") if isinstance(source, dict) else None
    archived = isinstance(files, list) and any(
        isinstance(f, str) and f.startswith("configs/deprecated/") for f in files
    )
    if archived:
        return "retired", DEPRECATED, None
    return "current", None, None


def upgrade() -> None:
    views = _views()
    for name in views:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("recipes") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="current"))
        batch.add_column(sa.Column("retired_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("retired_on", sa.Date(), nullable=True))
    with op.batch_alter_table("serve_configs") as batch:
        batch.add_column(sa.Column("setup", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    connection = op.get_bind()
    documents = {
        pk: json.loads(doc) if isinstance(doc, str) else doc
        for pk, doc in connection.execute(sa.select(RECIPES.c.id, RECIPES.c.document))
    }
    retired = []
    for pk, document in documents.items():
        status, reason, day = status_of(document)
        if status == "retired":
            retired.append({"pk": pk, "status": status, "reason": reason, "day": day})
    _setup_from_documents(connection, documents)
    if retired:
        connection.execute(
            RECIPES.update()
            .where(RECIPES.c.id == sa.bindparam("pk"))
            .values(
                status=sa.bindparam("status"),
                retired_reason=sa.bindparam("reason"),
                retired_on=sa.bindparam("day"),
            ),
            retired,
        )
    for name, body in views.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def _setup_from_documents(connection: Any, documents: dict[int, Any]) -> None:
    """Each config's setup lines as its recipe's stored document has them (a catalog taken
    down to 0012 and up again keeps them; before 0013 no document had any)."""
    found = []
    rows = connection.execute(
        sa.select(CONFIGS.c.id, CONFIGS.c.recipe_pk, CONFIGS.c.backend, CONFIGS.c.gpu_count)
    )
    for config_id, recipe_pk, backend, gpus in rows:
        doc = documents.get(recipe_pk)
        section = doc.get(f"{backend}_serve") if isinstance(doc, dict) else None
        body = section.get(f"{gpus}_gpu") if isinstance(section, dict) else None
        setup = body.get("setup") if isinstance(body, dict) else None
        if isinstance(setup, list) and setup and all(isinstance(line, str) for line in setup):
            found.append({"cid": config_id, "setup": [" ".join(line.split()) for line in setup]})
    if found:
        connection.execute(
            CONFIGS.update().where(CONFIGS.c.id == sa.bindparam("cid")).values(setup=sa.bindparam("setup")),
            found,
        )


def downgrade() -> None:
    views = _views()
    for name in views:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("serve_configs") as batch:
        batch.drop_column("setup")
    with op.batch_alter_table("recipes") as batch:
        batch.drop_column("retired_on")
        batch.drop_column("retired_reason")
        batch.drop_column("status")
    for name, body in views.items():
        op.execute(f"CREATE VIEW {name} AS {body}")
