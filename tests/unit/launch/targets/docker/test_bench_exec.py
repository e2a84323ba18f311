"""``bench_exec``'s checks and reading of Docker's archive, without an engine (the runs
themselves are in ``integration/docker/test_bench_image.py``)."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import pytest

from aim_catalog.errors import UsageProblem
from aim_catalog.launch.targets.docker import bench_exec
from aim_catalog.launch.targets.docker.bench_exec import ClientFailed, exec_and_fetch


def tar_of(*members: tuple[str, bytes | None]) -> bytes:
    """A tar stream as ``GET /containers/{id}/archive`` sends it (None: a symlink)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


class Archived:
    """A container whose ``get_archive`` answers with ``stream`` (in 1 KiB chunks) and ``size``."""

    name = "box"

    def __init__(self, stream: bytes, size: int) -> None:
        self.stream, self.size = stream, size

    def get_archive(self, path: str) -> tuple[Any, dict[str, Any]]:
        chunks = (self.stream[i : i + 1024] for i in range(0, len(self.stream), 1024))
        return chunks, {"name": path.rsplit("/", 1)[1], "size": self.size, "mode": 0o644}


def test_the_result_is_the_one_regular_file_of_the_archive() -> None:
    data = b'{"completed": 1}'
    got = bench_exec._fetch(Archived(tar_of(("result.json", data)), len(data)), "/tmp/d/result.json", "x", "")  # type: ignore[arg-type]
    assert got == data


@pytest.mark.parametrize(
    ("stream", "size", "message"),
    [
        (tar_of(("result.json", None)), 11, "is not a regular file"),
        (tar_of(("a", b"1"), ("b", b"2")), 1, "is not a regular file"),
        (b"not a tar stream at all" * 40, 10, "cannot read"),
        (tar_of(("result.json", b"{}")), (64 << 20) + 1, "wrote 67108865 bytes to .*; the limit is 64 MiB"),
    ],
)
def test_what_is_not_one_small_regular_file_is_refused(stream: bytes, size: int, message: str) -> None:
    with pytest.raises(ClientFailed, match=message):
        bench_exec._fetch(Archived(stream, size), "/tmp/d/result.json", "vllm bench serve", "")  # type: ignore[arg-type]


def test_a_stream_longer_than_it_said_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_exec, "MAX_RESULT_BYTES", 1000)
    monkeypatch.setattr(bench_exec, "TAR_SLACK", 2048)
    stream = tar_of(("result.json", b"x" * 5000))
    with pytest.raises(ClientFailed, match="more than 64 MiB"):
        bench_exec._fetch(Archived(stream, 10), "/tmp/d/result.json", "x", "")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "path", ["result.json", "/result.json", "/tmp/d/../result.json", "/tmp/d/", "//tmp/d/result.json", 7]
)
def test_the_result_must_be_a_file_in_a_directory_of_its_own(path: Any) -> None:
    with pytest.raises(UsageProblem, match="result path"):
        exec_and_fetch(None, "box", ["vllm"], path, timeout=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(("argv", "timeout"), [([], 1), (["vllm", ""], 1), ("vllm bench", 1), (["vllm"], 0)])
def test_argv_and_timeout_are_checked_before_the_engine_is_asked(argv: Any, timeout: Any) -> None:
    with pytest.raises(UsageProblem):
        exec_and_fetch(None, "box", argv, "/tmp/d/result.json", timeout=timeout)  # type: ignore[arg-type]


def test_the_one_line_keeps_the_last_lines() -> None:
    assert bench_exec._one_line("") == "no output"
    assert bench_exec._one_line("a\nb\nc\nd") == "last output: b | c | d"
    long = bench_exec._one_line("x" * 1000)
    assert len(long) == len("last output: ") + 600 and long.startswith("last output: ...")
    assert bench_exec._head(["python3", "-m", "sglang.bench_serving", "--port", "1"]) == [
        "python3",
        "-m",
        "sglang.bench_serving",
    ]
