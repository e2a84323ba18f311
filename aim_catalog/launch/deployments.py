"""The deployments table: what was launched, from which config, and what we last knew of it.

Statuses (``Status``) this module writes: ``starting`` (container created), ``running``
(ready or started with --no-wait), ``failed`` (launch failed; container removed unless kept)
and ``stopped`` (``aim-catalog stop``). What Docker says now is reconciled at display time
(``deployment_ops.py``). The snapshot never holds a secret: the spec's env is stored without them.

A shared catalog holds the deployments of many Docker engines. Each row names its engine
in ``docker_host`` (the engine's ID, ``docker info``); a name is unique per engine among
live (starting/running) rows, as Docker's container names are, and the commands act on
the current engine's rows only. Rows written before engine IDs were recorded (0004) hold
the address the engine was reached at; such a row belongs to the current engine when its
container is there (container ids are unique), and is shown as another host's otherwise.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from sqlalchemy import or_, select, update
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
    engine_name: str | None = None,
) -> None:
    """Record a created container. The engine has just given it ``name``, so another live
    row of that name on this engine is stale (its container is gone): marked stopped."""
    now = datetime.now(timezone.utc)
    session.execute(
        update(Deployment)
        .where(
            Deployment.docker_host == docker_host,
            Deployment.name == name,
            Deployment.status.in_(ACTIVE),
            Deployment.container_id != container_id,
        )
        .values(status=Status.STOPPED.value, updated_at=now)
    )
    session.add(
        Deployment(
            name=name,
            container_id=container_id,
            docker_host=docker_host,
            engine_name=engine_name,
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
        )
    )


def set_status(session: Session, container_id: str, status: Status) -> None:
    session.execute(
        update(Deployment)
        .where(Deployment.container_id == container_id)
        .values(status=Status(status).value, updated_at=datetime.now(timezone.utc))
    )


def _on_engine(engine_key: str, container_ids: Collection[str]) -> Any:
    mine = Deployment.docker_host == engine_key
    return or_(mine, Deployment.container_id.in_(list(container_ids))) if container_ids else mine


def find(
    session: Session, engine_key: str, name: str, container_ids: Collection[str] = ()
) -> Deployment | None:
    """This engine's deployment called ``name``: the live one, else the newest (names are
    reused after a stop). ``container_ids``: the engine's containers (for older rows)."""
    return session.scalars(
        select(Deployment)
        .where(Deployment.name == name, _on_engine(engine_key, container_ids))
        .order_by(Deployment.status.in_(ACTIVE).desc(), Deployment.id.desc())
        .limit(1)
    ).first()


def host_label(engine_name: str | None, docker_host: str) -> str:
    """An engine for people: its name and the start of its ID (two engines may share a
    host name); rows from before 0004 have only the address they were launched through."""
    return f"{engine_name} ({docker_host[:14]})" if engine_name else docker_host


def hosts_with(session: Session, name: str) -> list[str]:
    """The engines holding a deployment called ``name``."""
    rows = session.execute(
        select(Deployment.engine_name, Deployment.docker_host).where(Deployment.name == name).distinct()
    )
    return sorted({host_label(engine_name, docker_host) for engine_name, docker_host in rows})


def listing(
    session: Session,
    *,
    include_all: bool,
    engine_key: str | None = None,
    container_ids: Collection[str] = (),
    other_hosts: bool = False,
) -> list[Deployment]:
    """Deployments, oldest first: of the engine ``engine_key`` (or, with ``other_hosts``,
    of every other engine); all engines' when ``engine_key`` is None."""
    query = select(Deployment).order_by(Deployment.id)
    if engine_key is not None:
        here = _on_engine(engine_key, container_ids)
        query = query.where(~here if other_hosts else here)
    if not include_all:
        query = query.where(Deployment.status.in_(ACTIVE))
    return list(session.scalars(query))
