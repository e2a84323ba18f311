"""`launch --replicas N` against a real Docker engine (fake GPUs, the fake server image):
N deployments on disjoint GPUs and consecutive ports, all or nothing."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from support.launch import cli, deployments, free_port, launch, mine


def two_free_ports() -> int:
    """A port P with P+1 free too (the second replica's)."""
    for _ in range(50):
        port = free_port()
        if port < 65535:
            with socket.socket() as probe:
                try:
                    probe.bind(("0.0.0.0", port + 1))
                except OSError:
                    continue
            return port
    raise AssertionError("no two consecutive free ports")


@pytest.mark.docker
def test_replicas_get_disjoint_gpus_and_ports(docker_env: Any, tmp_path: Path) -> None:
    port = two_free_ports()
    result = launch("--replicas", "2", "--name", "web", port=port)
    assert "web is ready after" in result.stdout and "web-2 is ready after" in result.stdout
    first, second = docker_env.containers.get("web"), docker_env.containers.get("web-2")
    assert (first.labels["aim-catalog.gpus"], second.labels["aim-catalog.gpus"]) == ("0,1,2,3", "4,5,6,7")
    for offset in (0, 1):
        with urllib.request.urlopen(f"http://127.0.0.1:{port + offset}/v1/models", timeout=5) as response:
            assert json.load(response)["data"]
    rows = deployments(tmp_path)
    assert [(r["name"], r["status"], r["port"], json.loads(r["gpus"])) for r in rows] == [
        ("web", "running", port, [0, 1, 2, 3]),
        ("web-2", "running", port + 1, [4, 5, 6, 7]),
    ]
    cli("stop", "web-2")  # each copy is its own deployment
    assert [c.name for c in mine(docker_env, tmp_path)] == ["web"]


@pytest.mark.docker
def test_one_failing_replica_removes_them_all(docker_env: Any, tmp_path: Path) -> None:
    port = two_free_ports()
    with socket.socket() as taken:  # the second replica's port is in use
        taken.bind(("0.0.0.0", port + 1))
        taken.listen()
        result = launch("--replicas", "2", "--name", "api", port=port, code=5)
    assert "replica 2 of 2 failed: every replica was removed" in result.stderr
    assert "Traceback" not in result.stderr
    assert mine(docker_env, tmp_path) == []
    assert [(r["name"], r["status"]) for r in deployments(tmp_path)] == [
        ("api", "failed"),
        ("api-2", "failed"),
    ]


@pytest.mark.docker
def test_replicas_that_do_not_fit_start_nothing(docker_env: Any, tmp_path: Path) -> None:
    result = launch("--replicas", "3", code=5)  # 3 x 4 GPUs on an 8-GPU host
    assert "4 GPU(s) needed, 0 of 8 free" in result.stderr
    assert mine(docker_env, tmp_path) == []
    assert {r["status"] for r in deployments(tmp_path)} <= {"failed"}
