"""`aim-catalog cache ls|pull|rm` and launch's cache check, against a fake Hugging Face Hub.

No network is reachable here, so the hub is a small HTTP server on 127.0.0.1 answering
what huggingface_hub 2.4.0 asks (read from its source: ``hf_api.model_info`` ->
``GET /api/models/{id}[/revision/{rev}]`` giving ``sha`` and ``siblings`` [{rfilename,
size, blobId}]; ``snapshot_download`` -> ``GET /api/models/{id}/tree/{sha}?recursive=true``
giving [{type, oid, size, path}]; ``file_download`` -> ``HEAD``/``GET /{id}/resolve/{sha}/{file}``
with the ``X-Repo-Commit`` and ``ETag`` headers; errors as ``X-Error-Code: RepoNotFound``
/ ``GatedRepo`` as ``utils/_http.hf_raise_for_status`` reads them). The cache tree the tests
list and delete is therefore written by the library itself (models--org--name/{blobs,refs,
snapshots} with relative symlinks), through `aim-catalog cache pull`.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.hostile import HostileServer, Request, answer, endless_head, forever, trickle
from typer.testing import CliRunner

from aim_catalog.cli import app
from aim_catalog.host import hfcache

COMMIT = "0123456789abcdef0123456789abcdef01234567"

TINY = {"config.json": b'{"model_type": "llama"}\n', "model.safetensors": b"\x00" * 4096}

QWEN = "Qwen/Qwen3-32B"  # a bundled seed recipe: marked as a catalog model


class FakeHub:
    """Repos (id -> files), per-repo metadata sizes that may lie (a "huge" model without the
    bytes), gated repos, and the Authorization headers it saw."""

    def __init__(self) -> None:
        self.repos: dict[str, dict[str, bytes]] = {"org/tiny": TINY, QWEN: TINY}
        self.claimed_size: dict[str, int] = {}
        self.gated: set[str] = set()
        self.auth: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: bytes, headers: dict[str, str], head: bool) -> None:
                self.send_response(code)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _json(self, data: Any, head: bool) -> None:
                self._send(200, json.dumps(data).encode(), {"Content-Type": "application/json"}, head)

            def _error(self, code: int, error_code: str, head: bool) -> None:
                headers = {"Content-Type": "application/json", "X-Error-Code": error_code}
                self._send(code, b'{"error": "nope"}', headers, head)

            def do_GET(self, head: bool = False) -> None:
                hub.auth.append(self.headers.get("Authorization", ""))
                path = self.path.split("?", 1)[0]
                for repo, files in hub.repos.items():
                    api = f"/api/models/{repo}"
                    if path.startswith(api) or path.startswith(f"/{repo}/resolve/"):
                        if repo in hub.gated:
                            return self._error(401, "GatedRepo", head)
                        return self._repo(repo, files, path, head)
                return self._error(404, "RepoNotFound", head)

            def _repo(self, repo: str, files: dict[str, bytes], path: str, head: bool) -> None:
                api = f"/api/models/{repo}"
                if path in (api, f"{api}/revision/main", f"{api}/revision/{COMMIT}"):
                    extra = hub.claimed_size.get(repo, 0)
                    siblings = [
                        {"rfilename": name, "size": len(data) + (extra if i == 0 else 0)}
                        for i, (name, data) in enumerate(files.items())
                    ]
                    return self._json({"id": repo, "sha": COMMIT, "siblings": siblings}, head)
                if path.startswith(f"{api}/revision/"):
                    return self._error(404, "RevisionNotFound", head)
                if path.startswith(f"{api}/tree/"):
                    tree = [
                        {"type": "file", "oid": hashlib.sha1(d).hexdigest(), "size": len(d), "path": n}
                        for n, d in files.items()
                    ]
                    return self._json(tree, head)
                for name, data in files.items():
                    if path in (f"/{repo}/resolve/{COMMIT}/{name}", f"/{repo}/resolve/main/{name}"):
                        headers = {
                            "X-Repo-Commit": COMMIT,
                            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                            "Content-Type": "application/octet-stream",
                        }
                        return self._send(200, data, headers, head)
                return self._error(404, "EntryNotFound", head)

            def do_HEAD(self) -> None:
                self.do_GET(head=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """The fake hub as HF_ENDPOINT, a private HF_HOME and catalog, no token, online."""
    fake = FakeHub()
    monkeypatch.setenv("HF_ENDPOINT", fake.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in ("HF_TOKEN", "HF_HUB_OFFLINE", "AIM_CATALOG_DB_URL", "HF_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    yield fake
    fake.close()


def cli(*args: str, code: int = 0, input: str | None = None) -> Any:
    result = CliRunner().invoke(app, list(args), input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


def listing() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cli("cache", "ls", "--json").stdout)
    return data


def test_pull_fills_the_cache_as_the_hub_library_lays_it_out(hub: FakeHub, tmp_path: Path) -> None:
    result = cli("cache", "pull", "org/tiny")
    snapshot = tmp_path / "hf" / "hub" / "models--org--tiny" / "snapshots" / COMMIT
    assert result.stdout.strip() == f"org/tiny is cached: {snapshot}"
    assert "2 file(s), 4.1 KB" in result.stderr  # the hub's metadata, before the download
    repo = tmp_path / "hf" / "hub" / "models--org--tiny"
    assert (repo / "refs" / "main").read_text() == COMMIT
    link = snapshot / "model.safetensors"
    assert link.is_symlink() and os.readlink(link).startswith("../../blobs/")
    assert link.read_bytes() == TINY["model.safetensors"]

    data = listing()
    assert data["cache_dir"] == str(tmp_path / "hf" / "hub")
    (model,) = data["models"]
    assert (model["repo_id"], model["size"], model["files"], model["refs"]) == ("org/tiny", 4120, 2, ["main"])
    assert model["revisions"] == [COMMIT] and model["in_catalog"] is False
    assert model["last_used"] > 0 and model["last_used_iso"].endswith("Z")
    assert QWEN in data["catalog_models_not_cached"]  # as the catalog writes it


def test_ls_marks_catalog_models_and_rm_asks_first(hub: FakeHub, tmp_path: Path) -> None:
    assert "no model cached in" in cli("cache", "ls").stderr  # before anything: no cache dir yet
    cli("cache", "pull", QWEN)
    cli("cache", "pull", "org/tiny")
    table = cli("cache", "ls").stdout
    assert "2 model(s), 8.2 KB in" in table
    marks = {m["repo_id"]: m["in_catalog"] for m in listing()["models"]}
    assert marks == {QWEN: True, "org/tiny": False}

    no = cli("cache", "rm", "org/tiny", input="n\n")
    assert "nothing removed" in no.stderr
    unanswered = cli("cache", "rm", "org/tiny", input="", code=2)
    assert "needs a yes: answer the question or add --yes" in unanswered.stderr
    assert len(listing()["models"]) == 2

    yes = cli("cache", "rm", "ORG/TINY", input="y\n")  # hub ids are case-insensitive
    assert "removed org/tiny (4.1 KB freed)" in yes.stdout
    assert not (tmp_path / "hf" / "hub" / "models--org--tiny").exists()
    cli("cache", "rm", QWEN, "--yes")
    assert listing()["models"] == []
    gone = cli("cache", "rm", QWEN, "--yes", code=2)
    assert f"{QWEN} is not in the Hugging Face cache at {tmp_path / 'hf' / 'hub'}" in gone.stderr


def test_hf_cache_option_and_token(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_cache_test_secret")
    other = tmp_path / "elsewhere"
    result = cli("cache", "pull", "org/tiny", "--hf-cache", str(other))
    assert (other / "hub" / "models--org--tiny" / "refs" / "main").exists()
    assert not (tmp_path / "hf").exists()
    assert set(hub.auth) == {"Bearer hf_cache_test_secret"}  # every request carried it
    assert "hf_cache_test_secret" not in result.stdout + result.stderr
    assert [
        m["repo_id"]
        for m in json.loads(cli("cache", "ls", "--hf-cache", str(other), "--json").stdout)["models"]
    ] == ["org/tiny"]


def test_pull_refuses_when_the_disk_cannot_hold_the_model(hub: FakeHub, tmp_path: Path) -> None:
    hub.claimed_size["org/tiny"] = 10**14  # 100 TB according to the hub's metadata
    result = cli("cache", "pull", "org/tiny", code=1)
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: org/tiny needs 100.0 TB but only ")
    assert f"is free under {tmp_path / 'hf' / 'hub'}; free space or use --hf-cache" in line
    assert not (tmp_path / "hf" / "hub" / "models--org--tiny").exists()  # nothing downloaded


def test_pull_failures_are_one_line_each(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = cli("cache", "pull", "org/nothing", code=2).stderr.strip()
    assert missing == f"error: model org/nothing not found on {hub.url} (or it is private: set HF_TOKEN)"
    revision = cli("cache", "pull", "org/tiny", "--revision", "v9", code=2).stderr.strip()
    assert revision == f"error: revision 'v9' of org/tiny not found on {hub.url}"
    invalid = cli("cache", "pull", "not a/valid--id!", code=2).stderr.strip()
    assert invalid == "error: 'not a/valid--id!' is not a Hugging Face model id (like Qwen/Qwen3-32B)"
    hub.gated.add("org/tiny")
    gated = cli("cache", "pull", "org/tiny", code=1).stderr.strip()
    assert gated == (
        f"error: org/tiny is gated on {hub.url}: accept its licence on the model page; "
        "set HF_TOKEN to a token with access"
    )
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    offline = cli("cache", "pull", "org/tiny", code=1).stderr.strip()
    assert (
        offline == "error: cannot reach the Hugging Face Hub: HF_HUB_OFFLINE is set (org/tiny not looked up)"
    )


def test_pull_with_the_hub_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a user without network gets: one line, exit 1, nothing written."""
    port = closed_port()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")  # no traffic leaves the machine
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    result = cli("cache", "pull", "Qwen/Qwen3-32B", code=1)
    assert result.stderr.strip().splitlines() == [
        f"error: cannot reach the Hugging Face Hub at http://127.0.0.1:{port}: "
        "[Errno 111] Connection refused (is this host online?)"
    ]
    assert not (tmp_path / "hf" / "hub" / "models--Qwen--Qwen3-32B").exists()
    # The download itself, past the metadata call, fails the same way.
    with pytest.raises(hfcache.HubUnreachable, match=r"\[Errno 111\] Connection refused"):
        hfcache.pull("Qwen/Qwen3-32B", tmp_path / "hf" / "hub")


def test_launch_warnings(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "hf"
    (first,) = hfcache.launch_warnings("org/tiny", home)  # the hub says it fits: no disk warning
    assert first.startswith(
        f"org/tiny is not in the Hugging Face cache ({home / 'hub'}): the server downloads"
    )
    assert "`aim-catalog cache pull org/tiny` fetches it ahead" in first
    hub.claimed_size["org/tiny"] = 10**14
    notes = hfcache.launch_warnings("org/tiny", home)
    assert notes[-1].startswith("the disk cannot hold org/tiny: it needs 100.0 TB, ")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hfcache.launch_warnings("org/tiny", home)[-1].startswith(
        "download size unknown (HF_HUB_OFFLINE is set); "
    )
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    unreachable = hfcache.launch_warnings("org/tiny", home)[-1]
    assert unreachable.startswith(
        "download size unknown (cannot reach the Hugging Face Hub at http://127.0.0.1:"
    )
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    hub.claimed_size.clear()
    cli("cache", "pull", "org/tiny")
    assert hfcache.launch_warnings("org/tiny", home) == []  # cached: nothing to say


def test_pull_from_an_endpoint_that_is_not_a_hub_says_what_was_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An HF_ENDPOINT that answers 200 with something else than a model's metadata: the line
    says what was wrong with the answer (it used to be "cannot reach ...: 'id' (is this host
    online?)"), exit 1, nothing downloaded."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for name in ("HF_TOKEN", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    cases = [
        (b"{}", "it names no model (`id` is None)"),
        (b'{"models": []}', "it names no model (`id` is None)"),
        (b"<html>It works!</html>", "the answer is not JSON ('<html>It works!</html>')"),
        (b"[1, 2]", "the answer is not a JSON object (got [1, 2])"),
        (b'{"id": "org/tiny", "siblings": "all"}', "`siblings` is not a list (got 'all')"),
        (
            b'{"id": "org/tiny", "siblings": [{"rfilename": "a", "size": -1}]}',
            "siblings[0].size is not a byte count (got -1)",
        ),
        (b'{"id": "org/tiny", "siblings": [{"rfilename": "a", "size": NaN}]}', "its JSON holds NaN"),
    ]
    for body, why in cases:
        with HostileServer(lambda request, conn, body=body: conn.sendall(answer(body))) as server:
            monkeypatch.setenv("HF_ENDPOINT", server.url)
            result = cli("cache", "pull", "org/tiny", code=1)
        assert result.stderr.strip().splitlines() == [
            f"error: {server.url} did not answer as a Hugging Face Hub for org/tiny: {why} "
            "(is HF_ENDPOINT a hub?)"
        ]
    assert not (tmp_path / "hf" / "hub" / "models--org--tiny").exists()


def test_the_hub_metadata_call_is_bounded_as_a_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hub that trickles its answer (a byte every 0.2 s: no single read times out) is given
    up at the deadline; one that never stops answering is cut off at the cap. (The trickling
    server finishes after ~15 s, so a client without a whole-request deadline fails here,
    rather than hanging.)"""
    stop = threading.Event()
    meta = json.dumps({"id": "org/tiny", "sha": COMMIT, "siblings": []}).encode()

    def slow(request: Request, conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(meta)}\r\n\r\n".encode())
        trickle(conn, [meta[i : i + 1] for i in range(len(meta))], 15 / len(meta), stop)

    def endless(request: Request, conn: socket.socket) -> None:
        conn.sendall(endless_head())
        forever(conn, b'{"id": "' + b"a" * 65536, stop)

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    try:
        with HostileServer(slow) as server:
            monkeypatch.setenv("HF_ENDPOINT", server.url)
            with pytest.raises(hfcache.HubUnreachable) as slow_error:
                hfcache.hub_model("org/tiny", timeout=1)
            warning = hfcache.launch_warnings("org/tiny", tmp_path / "hf", timeout=1)[-1]
        with HostileServer(endless) as server:
            monkeypatch.setenv("HF_ENDPOINT", server.url)
            with pytest.raises(hfcache.HubUnreachable) as endless_error:
                hfcache.hub_model("org/tiny", timeout=60)
    finally:
        stop.set()
    assert str(slow_error.value).endswith(": no complete answer within 1 s (is this host online?)")
    assert str(slow_error.value).startswith("cannot reach the Hugging Face Hub at http://127.0.0.1:")
    assert "no complete answer within 1 s" in warning
    assert str(endless_error.value) == (
        f"{server.url} did not answer as a Hugging Face Hub for org/tiny: "
        "the answer is larger than 16 MiB (is HF_ENDPOINT a hub?)"
    )


def test_ls_of_a_regular_file_is_not_a_directory(hub: FakeHub, tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("hello\n")
    result = cli("cache", "ls", "--hf-cache", str(a_file), code=1)
    assert result.stderr.strip().splitlines() == [
        f"error: {a_file} is not a directory, so it cannot hold a Hugging Face cache"
    ]
    cli("cache", "ls", "--hf-cache", str(a_file), "--json", code=1)
    (tmp_path / "hf-home").mkdir()
    (tmp_path / "hf-home" / "hub").write_text("")  # the hub directory itself a file
    hub_file = cli("cache", "ls", "--hf-cache", str(tmp_path / "hf-home"), code=1)
    assert "hf-home/hub is not a directory" in hub_file.stderr
