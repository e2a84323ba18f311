"""The deployments table: what was launched, from which config, and what we last knew of it.

Statuses this module writes: ``starting`` (container created), ``running`` (ready or
started with --no-wait), ``failed`` (launch failed; container removed unless kept) and
``stopped`` (``aim-catalog stop``). What Docker says now is reconciled at display time by
the CLI. The snapshot never holds a secret: the spec's env is stored without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aim_catalog.models import Deployment

ACTIVE = ("starting", "running")


def record(
    session: Session,
    *,
    name: str,
    container_id: str,
    docker_host: str,
    serve_config_id: int | None,
    recipe_id: str,
    model: str,
    backend: str,
    gpus: Sequence[int],
    image: str,
    port: int,
    spec: dict[str, Any],
) -> None:
    now = datetime.now(timezone.utc)
    session.add(
        Deployment(
            name=name,
            container_id=container_id,
            docker_host=docker_host,
            serve_config_id=serve_config_id,
            recipe_id=recipe_id,
            model=model,
            backend=backend,
            gpu_count=len(gpus),
            gpus=list(gpus),
            image=image,
            port=port,
            spec=spec,
            status="starting",
            created_at=now,
            updated_at=now,
        )
    )


def set_status(session: Session, container_id: str, status: str) -> None:
    session.execute(
        update(Deployment)
        .where(Deployment.container_id == container_id)
        .values(status=status, updated_at=datetime.now(timezone.utc))
    )


def find(session: Session, name: str) -> Deployment | None:
    """The newest deployment called ``name`` (names are reused after a stop)."""
    return session.scalars(
        select(Deployment).where(Deployment.name == name).order_by(Deployment.id.desc()).limit(1)
    ).first()


def listing(session: Session, *, include_all: bool) -> list[Deployment]:
    query = select(Deployment).order_by(Deployment.id)
    if not include_all:
        query = query.where(Deployment.status.in_(ACTIVE))
    return list(session.scalars(query))
