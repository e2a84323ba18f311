"""Where scripts/gen_flag_lists.py reads a server's source from, one file at a time.

A tree is a set of files read by path (``names``, ``read``; every path read is kept in
``read_paths``, which the generator records):

* ``LocalTree``: a directory (an unpacked wheel, a checkout; the generator's tests use it).
* ``WheelTree``: a wheel on PyPI read with HTTP Range requests, never downloaded whole (a
  vLLM wheel is 250-430 MB): the zip's end records and central directory (at the end of
  the file), then only the members asked for; each member's sha256 is checked against the
  wheel's own ``*.dist-info/RECORD``.
* ``GitTree``: one commit of a git repository (a clone or a bare mirror), through
  ``git show``.

``release_files`` asks PyPI's JSON API (``https://pypi.org/pypi/<project>/json``) for a
release's files with their URLs and sha256 digests. Only httpx (the project's own HTTP
client) and the standard library are used.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import subprocess
import zipfile
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

PYPI = "https://pypi.org/pypi/{project}/json"
TIMEOUT = httpx.Timeout(60.0, connect=20.0)


class Unpublished(Exception):
    """The release has no source to read (not on PyPI, no wheel, no tag): recorded, not fatal."""


class LocalTree:
    """The files under a directory (an unpacked wheel: the directory holding ``vllm/``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.names = frozenset(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        self.read_paths: list[str] = []

    def read(self, path: str) -> str:
        self.read_paths.append(path)
        return (self.root / path).read_text(encoding="utf-8")


class GitTree:
    """The files of one commit of a git repository (``git_dir`` is its .git or bare mirror)."""

    def __init__(self, git_dir: Path, rev: str) -> None:
        self.git_dir = git_dir
        self.commit = self._git("rev-parse", f"{rev}^{{commit}}").strip()
        self.date = self._git("log", "-1", "--format=%cI", self.commit).strip()
        self.names = frozenset(self._git("ls-tree", "-r", "--name-only", self.commit).splitlines())
        self.read_paths: list[str] = []

    def _git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "--git-dir", str(self.git_dir), *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def read(self, path: str) -> str:
        self.read_paths.append(path)
        return self._git("show", f"{self.commit}:{path}")


def git_tags(git_dir: Path) -> list[str]:
    done = subprocess.run(
        ["git", "--git-dir", str(git_dir), "tag", "--list"], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


class _RangeFile(io.RawIOBase):
    """A remote file as a seekable stream: each read is one HTTP Range request (a server that
    answers with the whole file instead is refused before its body is read)."""

    def __init__(self, client: httpx.Client, url: str, size: int) -> None:
        self.client, self.url, self.size, self.pos = client, url, size, 0
        self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = base + offset
        return self.pos

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.pos)
        if count <= 0:
            return 0
        headers = {"Range": f"bytes={self.pos}-{self.pos + count - 1}"}
        with self.client.stream("GET", self.url, headers=headers) as answer:
            if answer.status_code != 206:
                raise RuntimeError(f"{self.url}: answered {answer.status_code} to a Range request")
            data = answer.read()
        self.requests += 1
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)


class WheelTree:
    """A wheel on PyPI, its members read by HTTP Range requests and checked against RECORD."""

    def __init__(self, client: httpx.Client, url: str, size: int) -> None:
        self.raw = _RangeFile(client, url, size)
        self.zip = zipfile.ZipFile(io.BufferedReader(self.raw, buffer_size=1 << 16))
        self.names = frozenset(self.zip.namelist())
        records = [n for n in self.names if n.endswith(".dist-info/RECORD") and n.count("/") == 1]
        if len(records) != 1:
            raise RuntimeError(f"{url}: {len(records)} *.dist-info/RECORD files")
        rows = csv.reader(io.StringIO(self.zip.read(records[0]).decode("utf-8")))
        self.record = {row[0]: row[1] for row in rows if len(row) >= 2 and row[1]}
        self.read_paths: list[str] = []

    def read(self, path: str) -> str:
        data = self.zip.read(path)
        algorithm, _, expected = self.record.get(path, "=").partition("=")
        digest = base64.urlsafe_b64encode(hashlib.new(algorithm or "sha256", data).digest()).rstrip(b"=")
        if digest.decode() != expected:
            raise RuntimeError(f"{path}: does not match the wheel's RECORD")
        self.read_paths.append(path)
        return data.decode("utf-8")


@cache
def _project(project: str) -> tuple[str, dict[str, Any]]:
    url = PYPI.format(project=project)
    answer = httpx.get(url, timeout=TIMEOUT, follow_redirects=True)
    answer.raise_for_status()
    return url, answer.json()


def newest_release(project: str) -> str:
    """The version PyPI calls the project's current one."""
    return str(_project(project)[1]["info"]["version"])


def release_files(project: str, version: str) -> list[dict[str, Any]]:
    """PyPI's files of one release, each with an absolute ``url`` (Unpublished: none)."""
    url, data = _project(project)
    files = data["releases"].get(version)
    if files is None:
        raise Unpublished(f"{project} {version} is not on PyPI")
    if not files:
        raise Unpublished(f"{project} {version} has no files on PyPI")
    return [{**f, "url": urljoin(url, f["url"])} for f in files]


def open_wheel(client: httpx.Client, project: str, version: str) -> tuple[WheelTree, dict[str, Any]]:
    """One wheel of the release (pure Python first, else x86_64, else the first by name; the
    Python sources are the same in each) and what to record of it."""
    wheels = sorted(
        (f for f in release_files(project, version) if f["packagetype"] == "bdist_wheel"),
        key=lambda f: ("-none-any" not in f["filename"], "x86_64" not in f["filename"], f["filename"]),
    )
    if not wheels:
        raise Unpublished(f"{project} {version} has no wheel on PyPI")
    chosen = wheels[0]
    tree = WheelTree(client, chosen["url"], int(chosen["size"]))
    source = {
        "kind": "wheel",
        "url": chosen["url"],
        "sha256": chosen["digests"]["sha256"],
        "size": int(chosen["size"]),
    }
    return tree, source
