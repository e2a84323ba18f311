"""Docker Engine API calls for launches (the docker SDK; ``DOCKER_HOST`` honoured).

The engine is identified by its ID (``docker info``), not by the address used to reach
it: several hosts of a fleet all say ``unix:///var/run/docker.sock``. GPUs are allocated
from the host's detected GPUs minus those named in the ``aim-catalog.gpus`` label of live
containers, so ``stop`` frees them by removing the container and two catalogs on one host
see each other's allocations. ``lifecycle.py`` owns a launch from create to running (or
cleaned up); this module holds the single calls and the per-user launch lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import stat
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

from aim_catalog.envpolicy import is_secret, mask_secret_flags
from aim_catalog.errors import EnvironmentProblem, LaunchFailed, UsageProblem
from aim_catalog.hardware import Gpu
from aim_catalog.runspec import LABEL, LAUNCH_LABEL, MASK, RunSpec
from aim_catalog.settings import data_dir, redact

LIVE_STATES = ("created", "running", "restarting", "paused")
MANAGED = f"{LABEL}.managed=true"
LOCK_TIMEOUT_ENV = "AIM_CATALOG_LAUNCH_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 120.0  # the lock covers GPU reading, create and record: seconds
# Proxies from the environment must not intercept readiness checks of our own container.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def connect(timeout: int = 120) -> Any:
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
    return redact(os.environ.get("DOCKER_HOST") or "") or "the local Docker socket"


def engine_host() -> str:
    """Where published ports answer: the remote engine's host, else this machine."""
    url = os.environ.get("DOCKER_HOST", "")
    if url.startswith(("tcp://", "ssh://", "http://", "https://")):
        return urlparse(url).hostname or "127.0.0.1"
    return "127.0.0.1"


def docker_host_label() -> str:
    """The address this process reaches the engine at (not an identity: see ``identify``), redacted."""
    return redact(os.environ.get("DOCKER_HOST") or "") or "local"


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


def identify(client: Any) -> EngineId:
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


def first_line(exc: BaseException) -> str:
    """The first line of an error (docker's APIError: the engine's words), passwords redacted."""
    text = str(getattr(exc, "explanation", None) or exc).strip()
    return redact(text.splitlines()[0] if text else type(exc).__name__)


def mask(text: str, secrets: list[str]) -> str:
    for value in secrets:
        if value:
            text = text.replace(value, MASK)
    return text


def secret_values(spec: RunSpec) -> dict[str, str]:
    return dict(spec.secret_values)


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


def _created(container: Any) -> tuple[str, str]:
    """A container's creation instant as a sortable key: Docker writes RFC 3339 with the
    trailing zeros of the nanoseconds dropped, so the fraction is padded first."""
    stamp = str(container.attrs.get("Created", ""))
    head, dot, rest = stamp.partition(".")
    fraction = rest.rstrip("Z").split("+")[0]
    return (f"{head}.{fraction.ljust(9, '0')}" if dot else head), container.id


def gpu_rivals(client: Any, container: Any, gpus: list[int]) -> dict[int, str]:
    """GPUs of ``gpus`` that another live labelled container created before ``container``
    also holds. Launches of one user take turns through the launch lock; this catches the
    launches it cannot see (another user, another machine driving the same engine): the
    earlier container keeps the GPU, the later one gives up."""
    container.reload()
    mine = _created(container)
    rivals: dict[int, str] = {}
    for other in client.containers.list(all=True, filters={"label": MANAGED}, ignore_removed=True):
        if other.id == container.id or other.status not in LIVE_STATES:
            continue
        theirs = {int(p) for p in other.labels.get(f"{LABEL}.gpus", "").split(",") if p.strip().isdigit()}
        shared = theirs & set(gpus)
        if shared:
            with contextlib.suppress(NotFound):
                other.reload()  # the list's Created is whole seconds; inspect has nanoseconds
                if _created(other) < mine:
                    rivals.update({gpu: other.name for gpu in shared})
    return rivals


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
            raise LaunchFailed(f"GPU(s) already in use: {holders(taken)}")
        return [by_index[i] for i in explicit]
    free = [gpu for gpu in detected if gpu.index not in held]
    if len(free) < count:
        who = f"; held by {holders(held)}" if held else ""
        raise LaunchFailed(
            f"{count} GPU(s) needed, {len(free)} of {len(detected)} free{who} "
            "(`aim-catalog ps` lists them, `aim-catalog stop NAME` frees them)"
        )
    return free[:count]


def holders(held: dict[int, str]) -> str:
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


# Terminations seen inside termination_as_interrupt(). The handler raises at once, but an
# exception raised while a __del__ or weakref callback runs (GC of a socket or an HTTP
# response, say) is printed and dropped by Python: the wait loop checks this list too.
_terminations: list[str] = []


@contextmanager
def termination_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        _terminations.append(signal.Signals(signum).name)
        raise Terminated(_terminations[-1])

    _terminations.clear()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _terminations.clear()


def raise_if_terminated() -> None:
    """Raise a termination whose exception was lost (see ``_terminations``)."""
    if _terminations:
        raise Terminated(_terminations[-1])


def lock_dir() -> Path:
    """A directory only this user can use: ``$XDG_RUNTIME_DIR/aim-catalog`` when the
    runtime directory is ours, else ``<data dir>/locks``; mode 0700, checked."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = data_dir() / "locks"
    if runtime:
        with contextlib.suppress(OSError):
            info = os.stat(runtime)
            if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
                base = Path(runtime) / "aim-catalog"
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(base)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot create the lock directory {base}: {exc.strerror or exc}") from exc
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise EnvironmentProblem(f"{base} is not a directory of yours; remove it or set XDG_RUNTIME_DIR")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(base, 0o700)
    return base


def lock_timeout() -> float:
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        raise UsageProblem(f"{LOCK_TIMEOUT_ENV} must be a number of seconds, got {raw[:40]!r}") from None
    if not 0 <= value <= 86400:  # also refuses nan
        raise UsageProblem(f"{LOCK_TIMEOUT_ENV} must be from 0 to 86400 seconds, got {raw[:40]!r}")
    return value


@contextmanager
def launch_lock(
    engine: EngineId, *, timeout: float | None = None, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """One launch at a time per Docker engine for this user, from reading which GPUs are
    held until the container exists and is recorded. The lock file is private (0600 in a
    0700 directory): another user can neither block nor break it. Waits at most
    ``timeout`` seconds (``AIM_CATALOG_LAUNCH_LOCK_TIMEOUT``, default 120), saying once
    who holds it, then fails naming the holder."""
    limit = lock_timeout() if timeout is None else timeout
    path = lock_dir() / f"launch-{hashlib.sha256(engine.key.encode()).hexdigest()[:16]}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot open the launch lock {path}: {exc.strerror or exc}") from exc
    try:
        deadline = time.monotonic() + limit
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(fd)
                if time.monotonic() >= deadline:
                    raise LaunchFailed(
                        f"another launch on this Docker engine holds the launch lock ({holder}) and did not "
                        f"release it within {limit:g}s ({LOCK_TIMEOUT_ENV}); nothing was started. "
                        f"If it hangs, stop that process; the lock is {path}"
                    ) from None
                if not told and on_wait is not None:
                    on_wait(f"waiting for another launch on this Docker engine ({holder})")
                    told = True
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError):
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        if text:
            return f"held by {text}"
    return "holder unknown"


def create(client: Any, spec: RunSpec) -> Any:
    """Create (not start) the container; the image must be present (``ensure_image``)."""
    try:
        return client.containers.create(
            spec.image,
            # The server argv replaces the image's entrypoint (runspec.ENTRYPOINT_NOTE).
            entrypoint=spec.command[:1],
            command=spec.command[1:],
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


def created_by(client: Any, launch_id: str) -> Any | None:
    """The container a launch created, found by its launch label: the create call may have
    been interrupted after the engine made it but before its id came back."""
    found = client.containers.list(all=True, filters={"label": f"{LAUNCH_LABEL}={launch_id}"})
    return found[0] if found else None


def start_and_wait(
    container: Any,
    spec: RunSpec,
    *,
    timeout: float,
    wait: bool = True,
    on_tick: Tick | None = None,
    poll: float = 1.0,
) -> Launched:
    """Start the container and (with ``wait``) poll until it serves; raises on any failure,
    leaving the clean-up to the caller (``lifecycle.ContainerLaunch``)."""
    started = time.monotonic()
    container.start()
    url = f"http://{engine_host()}:{spec.host_port}"
    if wait:
        secrets = list(secret_values(spec).values())
        wait_ready(
            container, url, timeout=timeout, on_tick=on_tick, poll=poll, secrets=secrets, paths=spec.readiness
        )
    return Launched(container.id, spec.name, url, wait, time.monotonic() - started)


def ensure_image(client: Any, image: str) -> bool:
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


def has_image(client: Any, image: str) -> bool:
    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    except APIError as exc:
        raise LaunchFailed(f"cannot inspect image {image}: {first_line(exc)}") from exc
    return True


def failed(container: Any, reason: str, keep: bool, secrets: dict[str, str]) -> LaunchFailed:
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
    paths: tuple[str, ...] | list[str] = ("/health", "/v1/models"),
) -> None:
    """Poll ``/health`` then ``/v1/models`` (the backend's ``paths``) until all answer 200;
    fail fast if it exits."""
    start = time.monotonic()
    pending = list(paths)  # the backend's readiness endpoints (backends.json)
    while True:
        raise_if_terminated()
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
        if is_secret(key) and value:
            values.append(value)
    # and the values of secret-valued server flags (--api-key KEY): servers log their args
    config = container.attrs.get("Config", {})
    argv = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
    for shown, real in zip(mask_secret_flags(argv, "\0"), argv, strict=True):
        if shown != real:
            values.append(real.split("=", 1)[1] if shown.endswith("=\0") else real)
    return values
