"""The per-user launch lock: one launch at a time per Docker engine for this user.

Reading which GPUs are held, creating the container and recording it happen under it, so
two launches on one engine never take the same GPUs. The lock file is private (0600 in a
0700 directory): another user can neither block nor break it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aim_catalog.errors import EnvironmentProblem, LaunchFailed
from aim_catalog.notes import Note
from aim_catalog.settings import LAUNCH_LOCK_TIMEOUT_ENV, data_dir, launch_lock_timeout, runtime_dir


def lock_dir() -> Path:
    """A directory only this user can use: ``$XDG_RUNTIME_DIR/aim-catalog`` when the
    runtime directory is ours, else ``<data dir>/locks``; mode 0700, checked."""
    runtime = runtime_dir()
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


@contextmanager
def launch_lock(
    engine_key: str, *, timeout: float | None = None, on_wait: Note | None = None
) -> Iterator[None]:
    """One launch at a time per Docker engine for this user, from reading which GPUs are
    held until the container exists and is recorded. The lock file is private (0600 in a
    0700 directory): another user can neither block nor break it. Waits at most
    ``timeout`` seconds (``AIM_CATALOG_LAUNCH_LOCK_TIMEOUT``, default 120), saying once
    who holds it, then fails naming the holder."""
    limit = launch_lock_timeout() if timeout is None else timeout
    path = lock_dir() / f"launch-{hashlib.sha256(engine_key.encode()).hexdigest()[:16]}.lock"
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
                        f"release it within {limit:g}s ({LAUNCH_LOCK_TIMEOUT_ENV}); nothing was started. "
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
