"""A benchmark client run inside a launched container (``docker exec``), its result file
copied out: what ``bench run --client image`` does with the argv
``operating.bench.image_client.command`` builds.

The Docker Engine API cannot stop an exec'd process (an exec instance is created, started,
resized and inspected, nothing else), and the PID ``exec inspect`` reports is the host's, not
the container's. So the client starts through ``sh -c``: the shell writes its own PID (in
the container's PID namespace) to a file, then ``exec``s the client, which keeps that PID.
The exec is detached and polled (``exec inspect``) until it ends, the timeout passes or
``stop`` is set; then a second exec sends ``kill -TERM`` to that PID, and ``kill -KILL``
after a grace period. Nothing streams into this process: the client's output goes to a log
file, of which the last lines (secrets masked, database passwords redacted) explain a
failure in one line.

Everything happens in a scratch directory, the result path's parent, which must not exist
beforehand: ``mkdir`` makes it (failing if it exists, so it is never anyone else's), the
client runs there (its working directory: whatever it writes beside the result stays in it)
and ``rm -rf`` removes it when done, whatever happened, so the container is left as it was.
A container that stopped meanwhile cannot be cleaned (no exec into a stopped container).
Needs ``sh``, ``mkdir``, ``kill``, ``tail`` and ``rm`` in the image (every server image has
them; the test stand-in's busybox too).
"""

from __future__ import annotations

import contextlib
import io
import math
import posixpath
import tarfile
import threading
import time
from typing import TYPE_CHECKING

from docker.errors import DockerException, NotFound

from aim_catalog.errors import CatalogError, UsageProblem, first_line, redact, shown
from aim_catalog.launch.guard import interrupts_deferred, raise_if_terminated
from aim_catalog.launch.targets.docker.logs import container_secrets, mask

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

MAX_RESULT_BYTES = 64 << 20  # the importers' limit (measurements.importers.MAX_RESULT_BYTES)
TAR_SLACK = 1 << 20  # headers and padding of the one-file tar stream
TAIL_BYTES = 16384  # of the client's log, for messages
TAIL_LINES = 20
SHOWN_LINES = 3  # in the one-line error
POLL = 0.5  # seconds between exec inspections
KILL_GRACE = 10.0  # seconds after SIGTERM before SIGKILL
# $1: the PID file, $2: the log, then the client's argv. `exec` keeps the shell's PID.
WRAPPER = 'echo $$ > "$1" && log="$2" && shift 2 && exec "$@" > "$log" 2>&1'
KILL = 'p=$(cat "$1" 2>/dev/null) && [ -n "$p" ] && kill -"$2" "$p"'
PID_FILE, LOG_FILE = ".client.pid", ".client.log"


class ClientFailed(CatalogError):
    """The benchmark client failed, wrote no result, or did not finish in time."""

    exit_code = 1


class ClientStopped(ClientFailed):
    """The run was stopped (``stop`` set, Ctrl-C) before the client finished: no result."""


def exec_and_fetch(
    client: DockerClient,
    container: str,
    argv: list[str],
    result_path: str,
    *,
    timeout: float,
    stop: threading.Event | None = None,
) -> tuple[int, bytes, str]:
    """Run ``argv`` in ``container`` (its name or id), at most ``timeout`` seconds, and return
    ``(exit code, the bytes of result_path, the tail of its output)``; the result's directory
    (which must not exist yet: ``image_client.result_path`` gives one) is removed afterwards.

    ``ClientFailed`` (one line, with the client's last output lines) for a nonzero exit, a
    missing or oversized result or the timeout; ``ClientStopped`` when ``stop`` is set first.
    The client is killed on every way out, Ctrl-C included."""
    scratch = _scratch(result_path)
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) and a for a in argv):
        raise UsageProblem(f"the benchmark client's argv must be a list of words, got {shown(argv)}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
        raise UsageProblem(f"timeout must be a positive number of seconds, got {shown(timeout)}")
    target = _running(client, container)
    secrets = container_secrets(target)
    label = " ".join(_head(argv))
    pid_file, log_file = posixpath.join(scratch, PID_FILE), posixpath.join(scratch, LOG_FILE)
    made = _run(target, ["mkdir", "-m", "700", scratch])
    if made is not None:
        raise ClientFailed(
            f"cannot make {scratch} in container {target.name} for the benchmark client: {made}"
        )
    exec_id: str | None = None
    try:
        created = client.api.exec_create(
            target.id,
            ["sh", "-c", WRAPPER, "sh", pid_file, log_file, *argv],
            stdout=False,
            stderr=False,
            workdir=scratch,
        )
        exec_id = str(created["Id"])
        client.api.exec_start(exec_id, detach=True)
        code = _wait(client, exec_id, timeout, stop)
        if code is None:
            _kill(client, target, exec_id, pid_file)
        tail = _tail(target, log_file, secrets)
        said = _one_line(tail)
        where = f"in container {target.name}"
        if code is None:
            if stop is not None and stop.is_set():
                raise ClientStopped(f"{label} was stopped {where} before it finished (no result)")
            raise ClientFailed(f"{label} did not finish within {timeout:g}s {where}; it was stopped: {said}")
        if code != 0:
            raise ClientFailed(f"{label} exited with code {code} {where}: {said}")
        return code, _fetch(target, result_path, label, said), tail
    except DockerException as exc:
        raise ClientFailed(f"cannot run {label} in container {target.name}: {first_line(exc)}") from exc
    finally:
        with interrupts_deferred():
            if exec_id is not None and _exec_running(client, exec_id):
                _kill(client, target, exec_id, pid_file)
            _run(target, ["rm", "-rf", scratch])


def _scratch(result_path: str) -> str:
    """The result's directory: absolute, normal, not ``/`` (it is removed with all it holds)."""
    if not isinstance(result_path, str) or not result_path.startswith("/") or result_path.startswith("//"):
        raise UsageProblem(f"the result path must be absolute, got {shown(result_path)}")
    folder, name = posixpath.split(result_path)
    if posixpath.normpath(result_path) != result_path or not name or folder in ("/", ""):
        raise UsageProblem(
            f"the result path must be a file in a directory of its own, got {shown(result_path)}"
        )
    return folder


def _head(argv: list[str]) -> list[str]:
    """The words that name the client: ``vllm bench serve``, ``python3 -m sglang.bench_serving``."""
    words = []
    for word in argv:
        if word.startswith("--"):
            break
        words.append(word)
    return words or argv[:1]


def _running(client: DockerClient, container: str) -> Container:
    try:
        found = client.containers.get(container)
    except NotFound as exc:
        raise UsageProblem(f"no container {shown(container)} on this Docker engine") from exc
    except DockerException as exc:
        raise ClientFailed(f"cannot inspect container {shown(container)}: {first_line(exc)}") from exc
    if found.status != "running":
        raise ClientFailed(f"container {found.name} is {found.status}: no server to benchmark")
    return found


def _run(target: Container, cmd: list[str]) -> str | None:
    """Run a short command in the container; None when it succeeded, else what went wrong."""
    try:
        done = target.exec_run(cmd, stdout=True, stderr=True)
    except DockerException as exc:
        return first_line(exc)
    if done.exit_code == 0:
        return None
    output = _text(done.output).strip()
    return redact(output.splitlines()[-1] if output else f"{cmd[0]} exited with code {done.exit_code}")


def _text(output: object) -> str:
    """``exec_run``'s output (bytes: it is neither streamed nor demultiplexed here)."""
    return output.decode("utf-8", "replace") if isinstance(output, bytes) else ""


def _exec_running(client: DockerClient, exec_id: str) -> bool:
    try:
        return bool(client.api.exec_inspect(exec_id).get("Running"))
    except DockerException:
        return False


def _wait(client: DockerClient, exec_id: str, timeout: float, stop: threading.Event | None) -> int | None:
    """The client's exit code, or None when ``timeout`` passed or ``stop`` was set first."""
    deadline = time.monotonic() + timeout
    while True:
        info = client.api.exec_inspect(exec_id)
        if not info.get("Running") and info.get("ExitCode") is not None:
            return int(info["ExitCode"])
        left = deadline - time.monotonic()
        if left <= 0 or (stop is not None and stop.is_set()):
            return None
        if stop is not None:
            stop.wait(min(POLL, left))
        else:
            time.sleep(min(POLL, left))
        raise_if_terminated()


def _kill(client: DockerClient, target: Container, exec_id: str, pid_file: str) -> None:
    """TERM, then KILL after ``KILL_GRACE``: the client's PID from its file (a second exec)."""
    for signal, grace in (("TERM", KILL_GRACE), ("KILL", KILL_GRACE)):
        _run(target, ["sh", "-c", KILL, "sh", pid_file, signal])
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not _exec_running(client, exec_id):
                return
            time.sleep(0.1)


def _tail(target: Container, log_file: str, secrets: list[str]) -> str:
    """The client's last output lines, secrets masked and passwords redacted ("" if none)."""
    with contextlib.suppress(DockerException):
        done = target.exec_run(["tail", "-c", str(TAIL_BYTES), log_file], stdout=True, stderr=False)
        if done.exit_code == 0:
            text = _text(done.output)
            lines = [line.rstrip() for line in text.splitlines() if line.strip()]
            return redact(mask("\n".join(lines[-TAIL_LINES:]), secrets))
    return ""


def _one_line(tail: str) -> str:
    lines = tail.splitlines()[-SHOWN_LINES:]
    said = " | ".join(line.strip() for line in lines)
    if len(said) > 600:
        said = "..." + said[-597:]
    return f"last output: {said}" if said else "no output"


def _fetch(target: Container, path: str, label: str, said: str) -> bytes:
    """The result file's bytes, from the tar stream ``get_archive`` sends (one regular file,
    at most ``MAX_RESULT_BYTES``)."""
    where = f"{path} in container {target.name}"
    try:
        stream, stat = target.get_archive(path)
    except NotFound as exc:
        raise ClientFailed(f"{label} exited 0 but wrote no result at {where}: {said}") from exc
    size = stat.get("size") if isinstance(stat, dict) else None
    if isinstance(size, int) and size > MAX_RESULT_BYTES:
        raise ClientFailed(f"{label} wrote {size} bytes to {where}; the limit is 64 MiB")
    buffer = bytearray()
    for chunk in stream:
        buffer += chunk
        if len(buffer) > MAX_RESULT_BYTES + TAR_SLACK:
            raise ClientFailed(f"{label} wrote more than 64 MiB to {where}")
    try:
        with tarfile.open(fileobj=io.BytesIO(bytes(buffer)), mode="r:") as tar:
            members = tar.getmembers()
            if len(members) != 1 or not members[0].isfile():
                raise ClientFailed(f"{label}'s result at {where} is not a regular file")
            handle = tar.extractfile(members[0])
            data = handle.read(MAX_RESULT_BYTES + 1) if handle is not None else b""
    except tarfile.TarError as exc:
        raise ClientFailed(f"cannot read {where} from Docker's archive: {exc}") from exc
    if len(data) > MAX_RESULT_BYTES:
        raise ClientFailed(f"{label} wrote more than 64 MiB to {where}")
    return data
