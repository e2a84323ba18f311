"""Docker Engine API calls for launches (the docker SDK; ``DOCKER_HOST`` honoured).

The engine is identified by its ID (``docker info``), not by the address used to reach
it: several hosts of a fleet all say ``unix:///var/run/docker.sock``. GPUs are allocated
from the host's detected GPUs minus those named in the ``aim-catalog.gpus`` label of live
containers, so ``stop`` frees them by removing the container and two catalogs on one host
see each other's allocations. ``lifecycle`` owns a launch from create to running (or
cleaned up); this module holds the single calls (the launch lock is ``lock.py``'s, signal
handling ``launch.guard``'s, masked logs ``logs.py``'s).
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass
from urllib.parse import urlparse

import docker
from docker import DockerClient
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container

from aim_catalog.errors import EnvironmentProblem, LaunchFailed, first_line, redact
from aim_catalog.launch import labels
from aim_catalog.launch.guard import raise_if_terminated
from aim_catalog.launch.labels import ContainerLabels, parse_labels
from aim_catalog.launch.runspec import RunSpec
from aim_catalog.launch.server_command import setup_stage
from aim_catalog.launch.targets.docker.logs import log_tail
from aim_catalog.notes import WaitProgress
from aim_catalog.settings import docker_host

LIVE_STATES = ("created", "running", "restarting", "paused")
PROBE_TIMEOUT = 3.0  # seconds for one readiness probe, from connecting to its status line
# Log lines read back for the setup wrapper's last marker: a pip install prints a few dozen.
SETUP_LOG_LINES = 500


def connect(timeout: int = 120) -> DockerClient:
    """A docker client for ``DOCKER_HOST`` (default: the local socket), checked with a ping.
    The one way commands (and ``doctor``) reach the engine: the address it names is redacted
    (``tcp://user:password@host`` carries a password)."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (DockerException, OSError) as exc:
        raise EnvironmentProblem(f"Docker engine unreachable at {docker_where()}: {first_line(exc)}") from exc
    return client


def docker_where() -> str:
    """``DOCKER_HOST`` (redacted) for messages, or what it defaults to."""
    return redact(docker_host() or "") or "the local Docker socket"


def engine_host() -> str:
    """Where published ports answer: the remote engine's host, else this machine."""
    url = docker_host() or ""
    if url.startswith(("tcp://", "ssh://", "http://", "https://")):
        return urlparse(url).hostname or "127.0.0.1"
    return "127.0.0.1"


def docker_host_label() -> str:
    """The address this process reaches the engine at (not an identity: see ``identify``), redacted."""
    return redact(docker_host() or "") or "local"


@dataclass(frozen=True)
class EngineId:
    """A Docker engine: ``key`` (its ID, what ``deployments.docker_host`` holds) and the
    name it reports (its host name), for people."""

    key: str
    name: str
    address: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.key[:14]})"  # as deployments.host_label shows it


def identify(client: DockerClient) -> EngineId:
    try:
        info = client.info()
    except DockerException as exc:
        raise EnvironmentProblem(
            f"Docker engine at {docker_host_label()} did not answer: {first_line(exc)}"
        ) from exc
    key = str(info.get("ID") or "")
    if not key:
        raise EnvironmentProblem(f"Docker engine at {docker_host_label()} reports no engine ID")
    return EngineId(key=key, name=str(info.get("Name") or "?"), address=docker_host_label())


def secret_values(spec: RunSpec) -> dict[str, str]:
    return dict(spec.secret_values)


# --------------------------------------------------------------------------- GPUs


def held_gpus(client: DockerClient) -> dict[int, str]:
    """GPU index -> name of the live labelled container holding it."""
    return {
        gpu: container.name
        for container in engine_containers(client)
        if container.status in LIVE_STATES
        for gpu in container.labels.gpus
    }


def _created(container: Container) -> tuple[str, str]:
    """A container's creation instant as a sortable key: Docker writes RFC 3339 with the
    trailing zeros of the nanoseconds dropped, so the fraction is padded first."""
    stamp = str(container.attrs.get("Created", ""))
    head, dot, rest = stamp.partition(".")
    fraction = rest.rstrip("Z").split("+")[0]
    return (f"{head}.{fraction.ljust(9, '0')}" if dot else head), id_of(container)


def id_of(container: Container) -> str:
    """A container's id (the engine gives every container one; the SDK types it optional)."""
    return str(container.id)


def gpu_rivals(client: DockerClient, container: Container, gpus: list[int]) -> dict[int, str]:
    """GPUs of ``gpus`` that another live labelled container created before ``container``
    also holds. Launches of one user take turns through the launch lock; this catches the
    launches it cannot see (another user, another machine driving the same engine): the
    earlier container keeps the GPU, the later one gives up."""
    container.reload()
    mine = _created(container)
    rivals: dict[int, str] = {}
    for other in labelled_containers(client):
        if other.id == container.id or other.status not in LIVE_STATES:
            continue
        shared = set(parse_labels(other.labels).gpus) & set(gpus)
        if shared:
            with contextlib.suppress(NotFound):
                other.reload()  # the list's Created is whole seconds; inspect has nanoseconds
                if _created(other) < mine:
                    rivals.update({gpu: str(other.name) for gpu in shared})
    return rivals


def unique_name(client: DockerClient, base: str) -> str:
    existing = {c.name for c in client.containers.list(all=True, ignore_removed=True)}
    name, n = base, 2
    while name in existing:
        name, n = f"{base}-{n}", n + 1
    return name


# --------------------------------------------------------------------------- launch


@dataclass
class Launched:
    container_id: str
    name: str
    url: str
    ready: bool
    elapsed: float


def create(client: DockerClient, spec: RunSpec) -> Container:
    """Create (not start) the container; the image must be present (``ensure_image``)."""
    # The server argv (behind the setup wrapper, if any) replaces the image's entrypoint
    # (runspec.ENTRYPOINT_NOTE).
    command = spec.container_command()
    try:
        return client.containers.create(
            spec.image,
            entrypoint=command[:1],
            command=command[1:],
            name=spec.name,
            environment={**spec.env, **secret_values(spec)},
            devices=spec.devices,
            group_add=spec.group_add,
            ipc_mode=spec.ipc_mode,
            shm_size=spec.shm_size,
            init=spec.init,
            cap_add=spec.cap_add,
            security_opt=spec.security_opt,
            ports=spec.ports,
            volumes=spec.volumes,
            labels=spec.labels,
            detach=True,
        )
    except DockerException as exc:
        raise LaunchFailed(f"Docker refused to create {spec.name}: {first_line(exc)}") from exc


def created_by(client: DockerClient, launch_id: str) -> Container | None:
    """The container a launch created, found by its launch label: the create call may have
    been interrupted after the engine made it but before its id came back."""
    found = client.containers.list(
        all=True, filters={"label": labels.launch_filter(launch_id)}, ignore_removed=True
    )
    return found[0] if found else None


def await_serving(
    container: Container,
    spec: RunSpec,
    *,
    started: float,
    timeout: float,
    wait: bool = True,
    on_tick: WaitProgress | None = None,
    poll: float = 1.0,
) -> Launched:
    """A started container (at ``started``, ``time.monotonic()``): with ``wait``, poll until
    it serves; raises on any failure, leaving the clean-up to the caller
    (``lifecycle.ContainerLaunch``)."""
    url = f"http://{engine_host()}:{spec.host_port}"
    if wait:
        secrets = list(secret_values(spec).values())
        wait_ready(
            container,
            url,
            timeout=timeout,
            on_tick=on_tick,
            poll=poll,
            secrets=secrets,
            paths=spec.readiness,
            setup=bool(spec.setup),
        )
    return Launched(id_of(container), spec.name, url, wait, time.monotonic() - started)


def ensure_image(client: DockerClient, image: str) -> bool:
    """Pull the image if the engine lacks it; True when it was pulled."""
    try:
        client.images.get(image)
        return False
    except ImageNotFound:
        pass
    except APIError as exc:
        raise LaunchFailed(f"cannot inspect image {image}: {first_line(exc)}") from exc
    try:
        client.images.pull(image)
    except DockerException as exc:
        raise LaunchFailed(f"image {image} is not present and cannot be pulled: {first_line(exc)}") from exc
    return True


def has_image(client: DockerClient, image: str) -> bool:
    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    except APIError as exc:
        raise LaunchFailed(f"cannot inspect image {image}: {first_line(exc)}") from exc
    return True


def failed(container: Container | None, reason: str, keep: bool, secrets: dict[str, str]) -> LaunchFailed:
    """Show the log tail, then remove the container (or stop and keep it)."""
    message = reason
    if container is not None:
        tail = log_tail(container, 20, list(secrets.values()))
        if tail:
            message += "\nlast log lines:\n" + tail
        if keep:  # stopped, so that it holds no GPU while it is inspected
            with contextlib.suppress(DockerException):
                container.stop(timeout=10)
            message += f"\ncontainer {container.name} kept (stopped) for inspection (--keep-on-failure)"
        else:
            remove(container)
            message += "\nthe container was removed"
    return LaunchFailed(message)


def remove(container: Container) -> None:
    with contextlib.suppress(NotFound):
        container.remove(force=True)


def wait_ready(
    container: Container,
    url: str,
    *,
    timeout: float,
    on_tick: WaitProgress | None = None,
    poll: float = 1.0,
    secrets: list[str] | None = None,
    paths: tuple[str, ...] | list[str] = ("/health", "/v1/models"),
    setup: bool = False,
) -> None:
    """Poll ``/health`` then ``/v1/models`` (the backend's ``paths``) until all answer 200;
    fail fast if it exits. With ``setup`` (the container runs the recipe's setup steps before
    the server, within the same ``timeout``), a failure says which step it stopped at."""
    start = time.monotonic()
    pending = list(paths)  # the backend's readiness endpoints (backends.json)
    while True:
        raise_if_terminated()
        container.reload()
        if container.status in ("exited", "dead"):
            code = container.attrs.get("State", {}).get("ExitCode")
            raise LaunchFailed(_exited(container, code, secrets or []) if setup else _server_exited(code))
        left = timeout - (time.monotonic() - start)
        while pending and _answers(url + pending[0], max(0.1, min(PROBE_TIMEOUT, left))):
            pending.pop(0)
        if not pending:
            return
        elapsed = time.monotonic() - start
        if elapsed > timeout:
            stage = _setup_stage(container, secrets or []) if setup else None
            why = f"{pending[0]} never answered" if stage is None else _setup_words(*stage, "still in")
            raise LaunchFailed(f"not ready after {timeout:g}s ({why})")
        if on_tick is not None:
            on_tick(elapsed, log_tail(container, 1, secrets or []))
        time.sleep(poll)


def _server_exited(code: object) -> str:
    return f"the server exited (code {code}) before it was ready"


def _setup_stage(container: Container, secrets: list[str]) -> tuple[str, str] | None:
    """Where the setup wrapper stood (``server_command.setup_stage``), from the log's end."""
    return setup_stage(log_tail(container, SETUP_LOG_LINES, secrets))


def _exited(container: Container, code: object, secrets: list[str]) -> str:
    """Why a container with setup steps exited: a step failed, it died during one, or the server exited."""
    stage = _setup_stage(container, secrets)
    if stage is None:
        return _server_exited(code)
    said = _setup_words(*stage, "during")
    lead = "" if stage[0] == "failed" else f"the container exited (code {code}) "
    return f"{lead}{said}; the server was not started"


def _setup_words(state: str, step: str, running: str) -> str:
    """``setup step 2/2 failed (exit 1): pip install x``, or ``<running> setup step 1/2: ...``."""
    return f"setup {step}" if state == "failed" else f"{running} setup {step}"


def _answers(url: str, deadline: float = PROBE_TIMEOUT) -> bool:
    """Whether ``url`` answers 200 within ``deadline`` seconds, all of it: a server that
    trickles its headers cannot hold a launch past its --timeout (``httpcall``: no proxy
    from the environment either, nor a redirect followed)."""
    from aim_catalog import httpcall

    try:
        return httpcall.fetch(url, deadline=deadline, read_body=False).status == 200
    except (httpcall.HttpProblem, ValueError):
        return False


# --------------------------------------------------------------------------- manage


@dataclass(frozen=True)
class EngineContainer:
    """A labelled container as the engine's container list shows it (one request for all)."""

    id: str
    name: str
    status: str  # created, running, exited, ...
    exit_code: int | None
    labels: ContainerLabels

    @property
    def state(self) -> str:
        """Docker's view for people: running, exited (code N), ..."""
        return f"exited ({self.exit_code})" if self.status == "exited" else self.status


# The list's "Status" of an exited container: "Exited (137) 5 minutes ago" (moby's
# container.State.String()); the exit code is not a field of the list's answer.
_EXITED = re.compile(r"Exited \((-?\d+)\)")


def engine_containers(client: DockerClient) -> list[EngineContainer]:
    """Every ``aim-catalog``-labelled container of the engine, from ONE list request
    (sparse: no inspect per container)."""
    found = []
    for c in client.api.containers(all=True, filters={"label": labels.MANAGED_FILTER}):
        exited = _EXITED.match(str(c.get("Status") or ""))
        names = c.get("Names") or [""]
        found.append(
            EngineContainer(
                id=str(c["Id"]),
                name=str(names[0]).lstrip("/"),
                status=str(c.get("State") or ""),
                exit_code=int(exited.group(1)) if exited else None,
                labels=parse_labels(c.get("Labels")),
            )
        )
    return found


def labelled_containers(client: DockerClient) -> list[Container]:
    """The labelled containers, each inspected (their creation instants to the nanosecond)."""
    return list(
        client.containers.list(all=True, filters={"label": labels.MANAGED_FILTER}, ignore_removed=True)
    )


def is_labelled(client: DockerClient, name: str) -> bool:
    """Whether the engine has a container ``name`` (or id) made by a launch."""
    try:
        container = client.containers.get(name)
    except NotFound:
        return False
    return parse_labels(container.labels).managed


def stop(client: DockerClient, container_id: str, timeout: int = 30) -> bool:
    """Stop and remove; False when the container was already gone."""
    try:
        container = client.containers.get(container_id)
    except NotFound:
        return False
    with contextlib.suppress(APIError):  # already stopped or dying: removal settles it
        container.stop(timeout=timeout)
    remove(container)
    return True
