"""The deployments table: what was launched, from which config, and what we last knew of it.

Statuses (``Status``) the targets write: ``starting`` (created), ``running`` (ready or
started with --no-wait), ``failed`` (launch failed; what it made removed unless kept) and
``stopped`` (``aim-catalog stop``). What the target says now is reconciled at display time
(each target's ``deployments``). The snapshot never holds a secret.

Each row says which target it is on (``target``) and where on it (``location``: a Docker
engine's ID, a cluster's ``<API server>/<namespace>``); a name is unique per location
among live (starting/running) rows, as Docker's container names are (and as a namespace's
objects are, whichever cluster target made them). The lookups of one target are its own
(``targets/<name>/records.py``).

``ps`` reads hundreds of rows: each target lists them with Core (``listing_query``: the
``LISTED`` columns, not the JSON spec) and never loads the ORM, which only the functions
that write or return a whole row import.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import Row, select, update

from aim_catalog.storage import tables

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

    from aim_catalog.storage.models import Deployment


class Status(str, Enum):
    """A deployment's status as stored (the values are the column's and the JSON's)."""

    STARTING = "starting"
    RUNNING = "running"
    FAILED = "failed"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return self.value


ACTIVE = (Status.STARTING.value, Status.RUNNING.value)  # live: the name is taken on its engine

# What a ``ps`` row shows of a deployment (``targets.base.DeploymentRow.of``), and a row
# of these columns as ``listing_query`` reads them.
LISTED = (
    "id",
    "name",
    "target",
    "container_id",
    "recipe_id",
    "model",
    "backend",
    "gpus",
    "port",
    "status",
    "created_at",
    "context",
    "namespace",
)
Listed: TypeAlias = Row[Any]


def listing_query(*extra: str) -> Select[Any]:
    """The deployments' ``LISTED`` columns (and the ``extra`` ones), oldest first: Core, for
    a ``connection``; the caller adds its target's conditions."""
    columns = tables.deployments.c
    return select(*(columns[name] for name in (*LISTED, *extra))).order_by(columns.id)


def record(
    session: Session,
    *,
    target: str,
    location: str,
    name: str,
    container_id: str,
    serve_config_id: int | None,
    recipe_id: str,
    model: str,
    backend: str,
    gpus: Sequence[int],
    image: str,
    port: int,
    spec: dict[str, Any],
    **columns: Any,
) -> None:
    """Record what a target has just created. It has just taken ``name`` at ``location``,
    so another live row of that name there is stale (what it named is gone): marked
    stopped. ``columns``: the target's own columns (``docker_host``, ``objects``...)."""
    from aim_catalog.storage.models import Deployment

    now = datetime.now(timezone.utc)
    session.execute(
        update(Deployment)
        .where(
            Deployment.location == location,
            Deployment.name == name,
            Deployment.status.in_(ACTIVE),
            Deployment.container_id != container_id,
        )
        .values(status=Status.STOPPED.value, updated_at=now)
    )
    session.add(
        Deployment(
            name=name,
            target=target,
            location=location,
            container_id=container_id,
            serve_config_id=serve_config_id,
            recipe_id=recipe_id,
            model=model,
            backend=backend,
            gpu_count=len(gpus),
            gpus=list(gpus),
            image=image,
            port=port,
            spec=spec,
            status=Status.STARTING.value,
            created_at=now,
            updated_at=now,
            **columns,
        )
    )


def set_status(session: Session, container_id: str, status: Status) -> None:
    from aim_catalog.storage.models import Deployment

    session.execute(
        update(Deployment)
        .where(Deployment.container_id == container_id)
        .values(status=Status(status).value, updated_at=datetime.now(timezone.utc))
    )


def by_id(session: Session, row_id: int) -> Deployment | None:
    """The deployment row ``row_id`` (None: there is none)."""
    from aim_catalog.storage.models import Deployment

    return session.get(Deployment, row_id) if row_id else None
