"""What runs, and acting on it: the service behind ``ps``, ``stop`` and ``logs``.

``deployments`` reconciles the catalog's rows of this Docker engine with what the engine
says now, from ONE container list request (``launcher.engine_containers``), matching rows
by the engine ID they recorded; labelled containers of other catalogs are listed too (they
may hold GPUs), and cluster deployments come from ``kube/launching.py``. ``stop`` and
``logs`` find a deployment on this engine (or a cluster) by name. No printing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from aim_catalog.errors import UsageProblem
from aim_catalog.launch.deployments import ACTIVE, Status
from aim_catalog.settings import redact

if TYPE_CHECKING:
    from docker import DockerClient

    from aim_catalog.api import Catalog
    from aim_catalog.launch.targets.docker.engine import EngineContainer, EngineId
    from aim_catalog.launch.targets.kubernetes.service import ClusterDeployment
    from aim_catalog.storage.models import Deployment

Note = Callable[[str], None]
# JSON key order of ``ps --json`` (as it always was): rows of the catalog, and containers
# of another catalog on this engine.
_KEYS = (
    "name",
    "host",
    "recipe_id",
    "model",
    "backend",
    "gpus",
    "port",
    "status",
    "container_id",
    "created_at",
)
_FOREIGN_KEYS = (*_KEYS[:8], "container", "container_id", "created_at")


@dataclass(frozen=True)
class DeploymentRow:
    """One line of ``ps``: a deployment (Docker or cluster) or another catalog's container.

    ``container`` is what its engine or cluster says now (None: another engine's row,
    not checked); ``target``/``context``/``namespace`` are set for cluster rows."""

    name: str
    host: str
    recipe_id: str
    model: str
    backend: str
    gpus: tuple[int, ...]
    port: int
    status: str
    container_id: str
    created_at: str
    container: str | None = None
    target: str | None = None
    context: str | None = None
    namespace: str | None = None
    foreign: bool = False  # a labelled container of another catalog

    @classmethod
    def of(cls, d: Deployment, host: str, *, cluster: bool = False) -> DeploymentRow:
        return cls(
            name=d.name,
            host=host,
            recipe_id=d.recipe_id,
            model=d.model,
            backend=d.backend,
            gpus=tuple(d.gpus),
            port=d.port,
            status=d.status,
            container_id=d.container_id[:12],
            created_at=d.created_at.isoformat(timespec="seconds"),
            target=d.target if cluster else None,
            context=d.context if cluster else None,
            namespace=d.namespace if cluster else None,
        )

    def fields(self) -> dict[str, Any]:
        """The row's own fields (what Docker and cluster rows share), JSON-ready."""
        return {key: list(self.gpus) if key == "gpus" else getattr(self, key) for key in _KEYS}

    def as_dict(self) -> dict[str, Any]:
        if self.foreign:
            return {key: list(self.gpus) if key == "gpus" else getattr(self, key) for key in _FOREIGN_KEYS}
        data = {**self.fields(), "container": self.container}
        if self.target is not None:
            data.update(target=self.target, context=self.context, namespace=self.namespace)
        return data


@dataclass(frozen=True)
class Listing:
    """``ps``'s rows; ``docker`` False when no engine answered (cluster rows only)."""

    rows: tuple[DeploymentRow, ...]
    docker: bool = True


def deployments(catalog: Catalog, *, include_all: bool, all_hosts: bool, note: Note) -> Listing:
    """This engine's deployments (running and starting; ``include_all``: every status)
    with their containers' states, live labelled containers of other catalogs, then other
    engines' rows (``all_hosts``, as recorded) and cluster deployments."""
    from aim_catalog.errors import EnvironmentProblem
    from aim_catalog.launch.targets.docker.engine import connect, engine_containers, identify
    from aim_catalog.launch.targets.kubernetes.service import cluster_rows

    on_clusters = cluster_rows(catalog, include_all=include_all)  # --target kubernetes|kserve
    try:
        client = connect()
    except EnvironmentProblem:
        if not on_clusters:
            raise
        note("no Docker engine reachable: showing the deployments on clusters only")
        return Listing(tuple(on_clusters), docker=False)
    engine = identify(client)
    live = {c.id: c for c in engine_containers(client)}
    rows, known = _catalog_rows(catalog, engine, live, include_all=include_all, all_hosts=all_hosts)
    for c in live.values():
        if c.id not in known and (include_all or c.status in _live_states()):
            rows.append(_foreign_row(c, engine.label))
    return Listing(tuple([*rows, *on_clusters]))


def _live_states() -> tuple[str, ...]:
    from aim_catalog.launch.targets.docker.engine import LIVE_STATES

    return LIVE_STATES


def _catalog_rows(
    catalog: Catalog,
    engine: EngineId,
    live: dict[str, EngineContainer],
    *,
    include_all: bool,
    all_hosts: bool,
) -> tuple[list[DeploymentRow], set[str]]:
    """The catalog's rows of this engine, reconciled with ``live`` (the engine's labelled
    containers), then (``all_hosts``) other engines' Docker rows, unchecked."""
    from aim_catalog.launch import deployments as records

    def alive(container_id: str) -> bool:
        container = live.get(container_id)
        return container is not None and container.status in _live_states()

    with catalog.read() as session:
        here = records.listing(session, include_all=True, engine_key=engine.key, container_ids=live)
        rows = [
            replace(DeploymentRow.of(d, engine.label), container=_state(live.get(d.container_id)))
            for d in here
            if include_all or d.status in ACTIVE or alive(d.container_id)
        ]
        if all_hosts:  # no Docker call for these: their containers are on other engines
            elsewhere = records.listing(
                session, include_all=include_all, engine_key=engine.key, container_ids=live, other_hosts=True
            )
            rows += [
                DeploymentRow.of(d, records.host_label(d.engine_name, d.docker_host))
                for d in elsewhere
                if d.target == "docker"  # cluster deployments are listed apart, checked
            ]
        return rows, {d.container_id for d in here}


def _state(container: EngineContainer | None) -> str:
    return "removed" if container is None else container.state


def _foreign_row(c: EngineContainer, host: str) -> DeploymentRow:
    labels = c.labels
    return DeploymentRow(
        name=c.name,
        host=host,
        recipe_id=labels.recipe,
        model=labels.model,
        backend=labels.backend,
        gpus=labels.gpus,
        port=labels.port,
        status=f"other catalog ({redact('?' if labels.catalog is None else labels.catalog)})",
        container_id=c.id[:12],
        created_at="",
        container=c.state,
        foreign=True,
    )


# --------------------------------------------------------------------------- stop / logs


@dataclass(frozen=True)
class Stopped:
    """What ``stop`` did: ``existed`` False when the container (or objects) were already
    gone; ``cluster`` and ``deleted`` for a deployment on a cluster."""

    name: str
    existed: bool
    cluster: ClusterDeployment | None = None
    deleted: tuple[str, ...] = ()


def container_for(catalog: Catalog, client: DockerClient, name: str) -> tuple[str, str | None]:
    """(container id or name, deployment status) for a deployment of this engine or a
    labelled container on it; a deployment of that name on another engine is not ours."""
    from aim_catalog.launch import deployments as records
    from aim_catalog.launch.targets.docker.engine import engine_containers, identify, is_labelled

    engine = identify(client)
    container_ids = {c.id for c in engine_containers(client)}
    with catalog.read() as session:
        found = records.find(session, engine.key, name, container_ids)
        if found is not None:
            return found.container_id, found.status
        elsewhere = records.hosts_with(session, name)
    if is_labelled(client, name):
        return name, None
    if elsewhere:
        raise UsageProblem(
            f"no deployment called {name!r} on this Docker engine ({engine.label}, {engine.address}); "
            f"the catalog has one on {', '.join(elsewhere)}: run the command against that engine "
            "(DOCKER_HOST=...)"
        )
    raise UsageProblem(f"no deployment called {name!r} (`aim-catalog ps --all` lists them)")


def stop(catalog: Catalog, name: str) -> Stopped:
    """Stop and remove a deployment's container (a cluster's: delete its objects); mark it stopped."""
    from aim_catalog.launch import deployments as records
    from aim_catalog.launch.targets.docker import engine as launcher
    from aim_catalog.launch.targets.kubernetes.service import find_on_cluster, stop_on_cluster

    on_cluster = find_on_cluster(catalog, name)
    if on_cluster is not None:  # --target kubernetes|kserve: delete what launch applied
        deleted = stop_on_cluster(catalog, on_cluster)
        return Stopped(on_cluster.name, bool(deleted), on_cluster, tuple(deleted))
    client = launcher.connect()
    target, status = container_for(catalog, client, name)
    existed = launcher.stop(client, target)
    if status is not None:
        with catalog.write() as session:
            records.set_status(session, target, Status.STOPPED)
    return Stopped(name, existed)


def logs(
    catalog: Catalog, name: str, *, follow: bool, tail: int | None, write: Callable[[str], None]
) -> None:
    """A deployment's logs (secrets masked) through ``write``; Ctrl-C ends ``follow``."""
    from aim_catalog.launch.targets.docker.engine import connect
    from aim_catalog.launch.targets.docker.logs import stream_logs
    from aim_catalog.launch.targets.kubernetes.service import find_on_cluster, logs_on_cluster

    on_cluster = find_on_cluster(catalog, name)
    if on_cluster is not None:  # the pods' logs
        logs_on_cluster(on_cluster, follow=follow, tail=tail, write=write)
        return
    client = connect()
    target, _status = container_for(catalog, client, name)
    with contextlib.suppress(KeyboardInterrupt):
        stream_logs(client, target, follow=follow, tail="all" if tail is None else tail, write=write)


@dataclass(frozen=True)
class Served:
    """An active deployment of this Docker engine and where it answers (``test``)."""

    name: str
    base_url: str
    serve_config_id: int | None
    image: str


def served(catalog: Catalog, name: str) -> Served:
    """The deployment called ``name`` on the current engine, if it is active."""
    from aim_catalog.launch import deployments
    from aim_catalog.launch.targets.docker.engine import connect, engine_host, identify, labelled_containers

    client = connect()
    engine = identify(client)
    container_ids = {c.id for c in labelled_containers(client) if c.id is not None}
    with catalog.read() as session:
        found = deployments.find(session, engine.key, name, container_ids)
        if found is None:
            raise UsageProblem(f"no deployment called {name!r} on this engine (`aim-catalog ps` lists them)")
        if found.status not in ACTIVE:
            raise UsageProblem(f"deployment {name!r} is {found.status} (`aim-catalog ps --all`)")
        return Served(found.name, f"http://{engine_host()}:{found.port}", found.serve_config_id, found.image)
