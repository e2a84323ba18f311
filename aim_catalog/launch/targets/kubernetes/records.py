"""Deployments on a cluster in the deployments table (target ``kubernetes`` or ``kserve``).

A row's ``location`` is ``<API server URL>/<namespace>`` (its ``docker_host`` is NULL), so
a name is unique per target and cluster namespace. Its
``container_id`` is the main object's uid plus a per-launch id (launching a recipe again
updates the same objects in place; the previous row is then stale and marked stopped by
``deployments.record``). ``objects`` lists what launch applied, with uids: what ``stop``
deletes.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from aim_catalog.launch import deployments
from aim_catalog.storage.tables import deployments as table

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from aim_catalog.storage.models import Deployment


def location(server: str, namespace: str) -> str:
    """Where on its target a cluster deployment is: the API server and the namespace."""
    return f"{server}/{namespace}"


def record(
    session: Session,
    *,
    name: str,
    target: str,
    server: str,
    context: str,
    namespace: str,
    objects: list[dict[str, str]],
    candidate: Any,
    image: str,
    port: int,
    spec: dict[str, Any],
) -> str:
    """Record applied objects; returns the row's key (its ``container_id``)."""
    key = f"{objects[0]['uid']}:{uuid.uuid4().hex[:12]}"
    deployments.record(
        session,
        target=target,
        location=location(server, namespace),
        name=name,
        container_id=key,
        serve_config_id=candidate.serve_config_id,
        recipe_id=candidate.recipe_id,
        model=candidate.huggingface_id,
        backend=candidate.backend,
        gpus=list(range(candidate.gpu_count)),  # per pod; the cluster picks which
        image=image,
        port=port,
        spec=spec,
        context=context,
        namespace=namespace,
        objects=objects,
    )
    return key


def find(
    session: Session, target: str, name: str, *, context: str | None, namespace: str | None
) -> Deployment | None:
    """The ``target`` deployment called ``name``: a live one first, then the newest."""
    from aim_catalog.storage.models import Deployment

    query = select(Deployment).where(table.c.name == name, table.c.target == target)
    if context is not None:
        query = query.where(table.c.context == context)
    if namespace is not None:
        query = query.where(table.c.namespace == namespace)
    return session.scalars(
        query.order_by(table.c.status.in_(deployments.ACTIVE).desc(), table.c.id.desc()).limit(1)
    ).first()


def listing(connection: Connection, target: str, *, include_all: bool) -> list[deployments.Listed]:
    """The ``target`` deployments (their ``deployments.LISTED`` columns and ``objects``), oldest first."""
    query = deployments.listing_query("objects").where(table.c.target == target)
    if not include_all:
        query = query.where(table.c.status.in_(deployments.ACTIVE))
    return list(connection.execute(query))
