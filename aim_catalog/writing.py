"""Files the tool writes (exports, manifests, plots), written so that nothing planted in
the way is followed: new files are created exclusively under random names and renamed into
place, so a symbolic link at a final or a predictable name is replaced, never written
through, and a failure leaves nothing partial. Imports nothing of aim_catalog.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path


def write_files(out: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write ``files`` (plain names) into directory ``out`` atomically, never through a link.

    A new ``out`` is built as a temporary sibling and renamed into place. Into an existing
    ``out`` the files are staged in a temporary directory inside it and renamed over their
    names, which replaces a symbolic link there instead of writing where it points.
    """
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(20, f"{out} exists and is not a directory")
    fresh = not out.exists()
    if fresh:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    else:
        staging = Path(tempfile.mkdtemp(prefix=".aim-catalog-export.", dir=out))
    try:
        for name, data in files.items():
            _write_new(staging / name, data)
        if fresh:
            os.chmod(staging, 0o755)  # mkdtemp's 0700 was for the staging only
            os.rename(staging, out)
            return [out / name for name in files]
        for name in files:
            target = out / name
            if target.is_dir() and not target.is_symlink():
                raise IsADirectoryError(21, f"{target} is a directory")
        for name in files:
            os.replace(staging / name, out / name)
        staging.rmdir()
        return [out / name for name in files]
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_file(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, never through a link: it goes to a new file of
    a random name beside ``path`` (``mkstemp``: created exclusively) and is renamed over
    ``path``, which replaces a link there instead of writing where it points. A directory
    at ``path`` is refused."""
    if path.is_dir() and not path.is_symlink():
        raise IsADirectoryError(21, f"{path} is a directory")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        try:
            os.fchmod(fd, 0o644)  # mkstemp's 0600 is for the temporary name only
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
