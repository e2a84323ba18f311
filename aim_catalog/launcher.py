"""Running a RunSpec through the Docker Engine API (the docker SDK; ``DOCKER_HOST`` honoured).

Every failure after the container exists (start refused, early exit, readiness timeout,
Ctrl-C) removes the container unless asked to keep it, and raises ``LaunchFailed`` with
the log tail. GPUs are allocated from the host's detected GPUs minus those named in the
``aim-catalog.gpus`` label of live containers, so ``stop`` frees them by removing the
container and two catalogs on one host see each other's allocations.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from aim_catalog.errors import CatalogError, EnvironmentProblem, LaunchFailed, UsageProblem
from aim_catalog.hardware import Gpu
from aim_catalog.runspec import LABEL, MASK, SECRET_ENV, RunSpec

LIVE_STATES = ("created", "running", "restarting", "paused")
MANAGED = f"{LABEL}.managed=true"
# Proxies from the environment must not intercept readiness checks of our own container.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def connect() -> Any:
    """A docker client for ``DOCKER_HOST`` (default: the local socket), checked with a ping."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except DockerException as exc:
        where = os.environ.get("DOCKER_HOST") or "the local Docker socket"
        raise EnvironmentProblem(f"Docker engine unreachable at {where}: {_first_line(exc)}") from exc
    return client


def engine_host() -> str:
    """Where published ports answer: the remote engine's host, else this machine."""
    url = os.environ.get("DOCKER_HOST", "")
    if url.startswith(("tcp://", "ssh://", "http://", "https://")):
        return urlparse(url).hostname or "127.0.0.1"
    return "127.0.0.1"


def docker_host_label() -> str:
    return os.environ.get("DOCKER_HOST") or "local"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "explanation", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def mask(text: str, secrets: list[str]) -> str:
    for value in secrets:
        if value:
            text = text.replace(value, MASK)
    return text


def secret_values(spec: RunSpec) -> dict[str, str]:
    return {name: os.environ[name] for name in spec.secret_env if os.environ.get(name)}


# --------------------------------------------------------------------------- GPUs


def held_gpus(client: Any) -> dict[int, str]:
    """GPU index -> name of the live labelled container holding it."""
    held: dict[int, str] = {}
    for container in client.containers.list(all=True, filters={"label": MANAGED}, ignore_removed=True):
        if container.status not in LIVE_STATES:
            continue
        for part in container.labels.get(f"{LABEL}.gpus", "").split(","):
            if part.strip().isdigit():
                held[int(part)] = container.name
    return held


def allocate(detected: list[Gpu], held: dict[int, str], count: int, explicit: list[int] | None) -> list[Gpu]:
    by_index = {gpu.index: gpu for gpu in detected}
    if explicit is not None:
        unknown = [i for i in explicit if i not in by_index]
        if unknown:
            raise UsageProblem(f"no GPU {unknown} on this host (detected: {sorted(by_index)})")
        if len(explicit) != count:
            raise UsageProblem(f"--gpus names {len(explicit)} GPU(s) but the config needs {count}")
        taken = {i: held[i] for i in explicit if i in held}
        if taken:
            raise LaunchFailed(f"GPU(s) already in use: {_holders(taken)}")
        return [by_index[i] for i in explicit]
    free = [gpu for gpu in detected if gpu.index not in held]
    if len(free) < count:
        who = f"; held by {_holders(held)}" if held else ""
        raise LaunchFailed(
            f"{count} GPU(s) needed, {len(free)} of {len(detected)} free{who} "
            "(`aim-catalog ps` lists them, `aim-catalog stop NAME` frees them)"
        )
    return free[:count]


def _holders(held: dict[int, str]) -> str:
    by_name: dict[str, list[int]] = {}
    for index, name in sorted(held.items()):
        by_name.setdefault(name, []).append(index)
    return ", ".join(f"{name} (GPU {','.join(map(str, idx))})" for name, idx in by_name.items())


def unique_name(client: Any, base: str) -> str:
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


Tick = Callable[[float, str], None]


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP during a launch, handled like Ctrl-C so the container is cleaned up."""


@contextmanager
def termination_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        raise Terminated(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def allocation_lock() -> Iterator[None]:
    """One launch at a time per Docker engine on this machine, from reading which GPUs are
    held until the new container exists (a remote engine is only guarded on this machine)."""
    engine = hashlib.sha256(docker_host_label().encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"aim-catalog-launch-{engine}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def create(client: Any, spec: RunSpec) -> Any:
    """Pull the image if it is missing, then create (not start) the container."""
    _ensure_image(client, spec.image)
    try:
        return client.containers.create(
            spec.image,
            command=spec.command,
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
        raise LaunchFailed(f"Docker refused to create {spec.name}: {_first_line(exc)}") from exc


def start(
    client: Any,
    container: Any,
    spec: RunSpec,
    *,
    timeout: float,
    wait: bool = True,
    keep_on_failure: bool = False,
    on_tick: Tick | None = None,
    poll: float = 1.0,
) -> Launched:
    """Start the container and wait until it serves; on any failure, clean up and raise."""
    secrets = secret_values(spec)
    started = time.monotonic()
    try:
        container.start()
        url = f"http://{engine_host()}:{spec.host_port}"
        if wait:
            wait_ready(
                container, url, timeout=timeout, on_tick=on_tick, poll=poll, secrets=list(secrets.values())
            )
        return Launched(container.id, spec.name, url, wait, time.monotonic() - started)
    except BaseException as exc:  # whatever went wrong, the container must not be left behind
        raise _failed(container, _reason(exc), keep_on_failure, secrets) from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Terminated):
        return f"terminated ({exc}) while waiting for the server"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted while waiting for the server"
    if isinstance(exc, DockerException):
        return f"Docker refused: {_first_line(exc)}"
    if isinstance(exc, CatalogError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _ensure_image(client: Any, image: str) -> None:
    try:
        client.images.get(image)
        return
    except ImageNotFound:
        pass
    except APIError as exc:
        raise LaunchFailed(f"cannot inspect image {image}: {_first_line(exc)}") from exc
    try:
        client.images.pull(image)
    except DockerException as exc:
        raise LaunchFailed(f"image {image} is not present and cannot be pulled: {_first_line(exc)}") from exc


def _failed(container: Any, reason: str, keep: bool, secrets: dict[str, str]) -> LaunchFailed:
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


def remove(container: Any) -> None:
    with contextlib.suppress(NotFound):
        container.remove(force=True)


def log_tail(container: Any, lines: int, secrets: list[str]) -> str:
    try:
        raw = container.logs(tail=lines)
    except DockerException:
        return ""
    return mask(raw.decode("utf-8", "replace").rstrip(), secrets)


def wait_ready(
    container: Any,
    url: str,
    *,
    timeout: float,
    on_tick: Tick | None = None,
    poll: float = 1.0,
    secrets: list[str] | None = None,
) -> None:
    """Poll ``/health`` then ``/v1/models`` until both answer 200; fail fast if it exits."""
    start = time.monotonic()
    pending = ["/health", "/v1/models"]
    while True:
        container.reload()
        if container.status in ("exited", "dead"):
            code = container.attrs.get("State", {}).get("ExitCode")
            raise LaunchFailed(f"the server exited (code {code}) before it was ready")
        while pending and _answers(url + pending[0]):
            pending.pop(0)
        if not pending:
            return
        elapsed = time.monotonic() - start
        if elapsed > timeout:
            raise LaunchFailed(f"not ready after {timeout:g}s ({pending[0]} never answered)")
        if on_tick is not None:
            on_tick(elapsed, log_tail(container, 1, secrets or []))
        time.sleep(poll)


def _answers(url: str) -> bool:
    try:
        with _DIRECT.open(url, timeout=3) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


# --------------------------------------------------------------------------- manage


def container_state(client: Any, container_id: str) -> str:
    """Docker's view: running, exited (code N), ... or ``removed`` when it is gone."""
    try:
        container = client.containers.get(container_id)
    except NotFound:
        return "removed"
    if container.status == "exited":
        return f"exited ({container.attrs.get('State', {}).get('ExitCode')})"
    return str(container.status)


def labelled_containers(client: Any) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": MANAGED}, ignore_removed=True))


def stop(client: Any, container_id: str, timeout: int = 30) -> bool:
    """Stop and remove; False when the container was already gone."""
    try:
        container = client.containers.get(container_id)
    except NotFound:
        return False
    with contextlib.suppress(APIError):  # already stopped or dying: removal settles it
        container.stop(timeout=timeout)
    remove(container)
    return True


def stream_logs(
    client: Any, container_id: str, *, follow: bool, tail: int | str, write: Callable[[str], None]
) -> None:
    try:
        container = client.containers.get(container_id)
    except NotFound as exc:
        raise UsageProblem("the container no longer exists (`aim-catalog ps --all`)") from exc
    secrets = container_secrets(container)
    if not follow:
        write(mask(container.logs(tail=tail).decode("utf-8", "replace"), secrets))
        return
    pending = b""  # whole lines only, so a secret split across two chunks is still masked
    for chunk in container.logs(stream=True, follow=True, tail=tail):
        pending += chunk
        lines, _, pending = pending.rpartition(b"\n")
        if lines:
            write(mask((lines + b"\n").decode("utf-8", "replace"), secrets))
    if pending:
        write(mask(pending.decode("utf-8", "replace"), secrets))


def container_secrets(container: Any) -> list[str]:
    """The secret values the container was started with (not this shell's, which may differ)."""
    values = []
    for item in container.attrs.get("Config", {}).get("Env") or []:
        key, _, value = item.partition("=")
        if key in SECRET_ENV and value:
            values.append(value)
    return values
