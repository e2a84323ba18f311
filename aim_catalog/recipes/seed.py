"""The bundled catalog: what fills a default catalog a migration has just created.

Storage imports no recipe code: the API hands ``seed_catalog`` to its ``Store`` as the
hook of a new default catalog, and ``storage.db`` calls it inside the migration's
transaction, so a new catalog is created and filled in one commit.
"""

from __future__ import annotations

from sqlalchemy import Connection

from aim_catalog.errors import EnvironmentProblem
from aim_catalog.storage.resources import seed_recipe_dir


def seed_catalog(connection: Connection) -> None:
    """Ingest the bundled recipes into the catalog being created on ``connection``."""
    from sqlalchemy.orm import Session

    from aim_catalog.recipes.files import load_recipes
    from aim_catalog.recipes.ingest import ingest

    recipes, problems, _ = load_recipes([seed_recipe_dir()])
    if problems:  # pragma: no cover - the bundled recipes are tested
        raise EnvironmentProblem("bundled seed recipes are invalid:\n" + "\n".join(map(str, problems)))
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        ingest(session, recipes)
        session.commit()  # releases the savepoint; the migration's transaction commits it
