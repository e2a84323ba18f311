"""Docker deployments in the deployments table: this engine's rows and the others'.

A shared catalog holds the deployments of many Docker engines. Each row names its engine
in ``docker_host`` and ``location`` (the engine's ID, ``docker info``), and the commands
act on the current engine's rows only. Rows written before engine IDs were recorded (0004)
hold the address the engine was reached at; such a row belongs to the current engine when
its container is there (container ids are unique), and is shown as another host's
otherwise. ``listing`` (``ps``) reads with Core, the lookups of one deployment with the ORM.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from aim_catalog.launch.deployments import ACTIVE, Listed, listing_query
from aim_catalog.storage.tables import deployments as table

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from aim_catalog.storage.models import Deployment

TARGET = "docker"


def _on_engine(engine_key: str, container_ids: Collection[str]) -> Any:
    mine = table.c.docker_host == engine_key
    return or_(mine, table.c.container_id.in_(list(container_ids))) if container_ids else mine


def find(
    session: Session, engine_key: str, name: str, container_ids: Collection[str] = ()
) -> Deployment | None:
    """This engine's deployment called ``name``: the live one, else the newest (names are
    reused after a stop). ``container_ids``: the engine's containers (for older rows)."""
    from aim_catalog.storage.models import Deployment

    return session.scalars(
        select(Deployment)
        .where(table.c.target == TARGET, table.c.name == name, _on_engine(engine_key, container_ids))
        .order_by(table.c.status.in_(ACTIVE).desc(), table.c.id.desc())
        .limit(1)
    ).first()


def host_label(engine_name: str | None, docker_host: str | None) -> str:
    """An engine for people: its name and the start of its ID (two engines may share a
    host name); rows from before 0004 have only the address they were launched through."""
    host = docker_host or "?"
    return f"{engine_name} ({host[:14]})" if engine_name else host


def hosts_with(session: Session, name: str) -> list[str]:
    """The engines holding a deployment called ``name``."""
    rows = session.execute(
        select(table.c.engine_name, table.c.docker_host)
        .where(table.c.target == TARGET, table.c.name == name)
        .distinct()
    )
    return sorted({host_label(engine_name, docker_host) for engine_name, docker_host in rows})


def listing(
    connection: Connection,
    *,
    include_all: bool,
    engine_key: str | None = None,
    container_ids: Collection[str] = (),
    other_hosts: bool = False,
) -> list[Listed]:
    """Deployments (their ``deployments.LISTED`` columns, ``engine_name`` and ``docker_host``),
    oldest first: of the engine ``engine_key`` (or, with ``other_hosts``, of every other
    engine); all engines' when ``engine_key`` is None."""
    query = listing_query("engine_name", "docker_host").where(table.c.target == TARGET)
    if engine_key is not None:
        here = _on_engine(engine_key, container_ids)
        query = query.where(~here if other_hosts else here)
    if not include_all:
        query = query.where(table.c.status.in_(ACTIVE))
    return list(connection.execute(query))
