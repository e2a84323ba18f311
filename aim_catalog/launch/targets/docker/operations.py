"""What runs on this Docker engine, and acting on it: ``ps``, ``stop``, ``logs`` and ``test``.

``rows`` reconciles the catalog's rows of this engine with what the engine says now, from
ONE container list request (``engine.engine_containers``), matching rows by the engine ID
they recorded; labelled containers of other catalogs are listed too (they may hold GPUs).
``find`` resolves a name on this engine (a deployment of that name on another engine is
not ours), ``stop`` and ``logs`` act on what it found. No printing.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from aim_catalog.errors import UsageProblem, redact
from aim_catalog.launch.deployments import ACTIVE, Status
from aim_catalog.launch.targets.base import DeploymentRow, Served, Stopped

if TYPE_CHECKING:
    from docker import DockerClient

    from aim_catalog.launch.targets.docker.engine import EngineContainer, EngineId
    from aim_catalog.notes import Write
    from aim_catalog.storage.work import Work


@dataclass(frozen=True)
class Container:
    """A deployment (or labelled container) of this engine: ``key`` is its container's id
    (or name), ``status`` its row's (None: the catalog has no row for it)."""

    name: str
    key: str
    status: str | None
    client: DockerClient


def rows(work: Work, *, include_all: bool, all_hosts: bool) -> list[DeploymentRow]:
    """This engine's deployments (running and starting; ``include_all``: every status)
    with their containers' states, live labelled containers of other catalogs, then other
    engines' rows (``all_hosts``, as recorded). ``EnvironmentProblem``: no engine answered."""
    from aim_catalog.errors import EnvironmentProblem
    from aim_catalog.launch.targets.base import Unreachable
    from aim_catalog.launch.targets.docker.engine import connect, engine_containers, identify

    try:
        client = connect()
    except EnvironmentProblem as exc:
        skipped = "no Docker engine reachable: showing the deployments on clusters only"
        raise Unreachable(str(exc), skipped) from exc
    engine = identify(client)
    live = {c.id: c for c in engine_containers(client)}
    found, known = _catalog_rows(work, engine, live, include_all=include_all, all_hosts=all_hosts)
    for c in live.values():
        if c.id not in known and (include_all or c.status in _live_states()):
            found.append(_foreign_row(c, engine.label))
    return found


def _live_states() -> tuple[str, ...]:
    from aim_catalog.launch.targets.docker.engine import LIVE_STATES

    return LIVE_STATES


def _catalog_rows(
    work: Work,
    engine: EngineId,
    live: dict[str, EngineContainer],
    *,
    include_all: bool,
    all_hosts: bool,
) -> tuple[list[DeploymentRow], set[str]]:
    """The catalog's rows of this engine, reconciled with ``live`` (the engine's labelled
    containers), then (``all_hosts``) other engines' Docker rows, unchecked."""
    from aim_catalog.launch.targets.docker import records

    def alive(container_id: str) -> bool:
        container = live.get(container_id)
        return container is not None and container.status in _live_states()

    with work.connection() as connection:
        here = records.listing(connection, include_all=True, engine_key=engine.key, container_ids=live)
        rows = [
            replace(DeploymentRow.of(d, engine.label), container=_state(live.get(d.container_id)))
            for d in here
            if include_all or d.status in ACTIVE or alive(d.container_id)
        ]
        if all_hosts:  # no Docker call for these: their containers are on other engines
            elsewhere = records.listing(
                connection,
                include_all=include_all,
                engine_key=engine.key,
                container_ids=live,
                other_hosts=True,
            )
            rows += [DeploymentRow.of(d, records.host_label(d.engine_name, d.docker_host)) for d in elsewhere]
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


def container_for(work: Work, client: DockerClient, name: str) -> tuple[str, str | None]:
    """(container id or name, deployment status) for a deployment of this engine or a
    labelled container on it; a deployment of that name on another engine is not ours."""
    from aim_catalog.launch.targets.docker import records
    from aim_catalog.launch.targets.docker.engine import engine_containers, identify, is_labelled

    engine = identify(client)
    container_ids = {c.id for c in engine_containers(client)}
    with work.read() as session:
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


def find(work: Work, name: str) -> Container:
    """The deployment (or labelled container) called ``name`` on this engine."""
    from aim_catalog.launch.targets.docker.engine import connect

    client = connect()
    key, status = container_for(work, client, name)
    return Container(name, key, status, client)


def stop(work: Work, found: Container) -> Stopped:
    """Stop and remove the container; mark its deployment stopped."""
    from aim_catalog.launch import deployments
    from aim_catalog.launch.targets.docker import engine as launcher

    existed = launcher.stop(found.client, found.key)
    if found.status is not None:
        with work.write() as session:
            deployments.set_status(session, found.key, Status.STOPPED)
    return Stopped(found.name, existed)


def logs(found: Container, *, follow: bool, tail: int | None, write: Write) -> None:
    """The container's logs (secrets masked) through ``write``; Ctrl-C ends ``follow``."""
    from aim_catalog.launch.targets.docker.logs import stream_logs

    with contextlib.suppress(KeyboardInterrupt):
        stream_logs(found.client, found.key, follow=follow, tail="all" if tail is None else tail, write=write)


def served(work: Work, name: str) -> Served:
    """The deployment called ``name`` on the current engine, if it is active."""
    from aim_catalog.launch.targets.docker import records
    from aim_catalog.launch.targets.docker.engine import connect, engine_host, identify, labelled_containers

    client = connect()
    engine = identify(client)
    container_ids = {c.id for c in labelled_containers(client) if c.id is not None}
    with work.read() as session:
        found = records.find(session, engine.key, name, container_ids)
        if found is None:
            raise UsageProblem(f"no deployment called {name!r} on this engine (`aim-catalog ps` lists them)")
        if found.status not in ACTIVE:
            raise UsageProblem(f"deployment {name!r} is {found.status} (`aim-catalog ps --all`)")
        row = Served(
            found.name,
            f"http://{engine_host()}:{found.port}",
            found.serve_config_id,
            found.image,
            backend=found.backend,
            model=found.model,
            gpu_count=found.gpu_count,
        )
        container_id = found.container_id
    return replace(row, image_digest=_digest(client, container_id))


def _digest(client: DockerClient, container_id: str) -> str | None:
    """The image the container runs, as the engine names it (``sha256:...``; a pulled image
    also has a registry digest, ``repo@sha256:...``, preferred); None when it cannot say."""
    import docker.errors

    try:
        image = client.containers.get(container_id).image
    except (docker.errors.DockerException, OSError):
        return None
    if image is None:
        return None
    pulled = image.attrs.get("RepoDigests") or []
    return str(pulled[0]) if pulled else (str(image.id) if image.id else None)
