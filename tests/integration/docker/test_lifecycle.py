"""An interrupted launch leaves nothing behind: Ctrl-C while the container is created or its
deployment recorded, and a real SIGINT (real Docker engine, the fake server image).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.launch import IMAGE, MODEL, cli, deployments, free_port, mine

# --------------------------------------------------------------------------- interrupted create


def interrupt_after_create(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine creates the container, then Ctrl-C arrives before its id comes back."""
    from docker.api.container import ContainerApiMixin

    real = ContainerApiMixin.create_container

    def create_then_interrupt(self: Any, *args: Any, **kwargs: Any) -> Any:
        real(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(ContainerApiMixin, "create_container", create_then_interrupt)


@pytest.mark.docker
def test_ctrl_c_while_the_container_is_created_leaves_nothing(
    docker_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt_after_create(monkeypatch)
    result = cli("launch", MODEL, "1", "--image", IMAGE, "--port", str(free_port()), code=5)
    assert "interrupted while creating the container" in result.stderr
    assert "the container was removed" in result.stderr
    assert mine(docker_env, tmp_path) == []
    assert deployments(tmp_path) == []


@pytest.mark.docker
def test_ctrl_c_while_the_container_starts_says_so_and_leaves_nothing(
    docker_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage was set to "waiting for the server" before ``container.start()`` ran, so an
    interrupted (or refused) start read as a server that never answered."""
    from docker.models.containers import Container

    def start_interrupted(self: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Container, "start", start_interrupted)
    result = cli("launch", MODEL, "1", "--image", IMAGE, "--port", str(free_port()), code=5)
    assert "interrupted while starting the container" in result.stderr
    assert "waiting for the server" not in result.stderr
    assert "the container was removed" in result.stderr
    assert mine(docker_env, tmp_path) == []
    assert [d["status"] for d in deployments(tmp_path)] == ["failed"]


@pytest.mark.docker
def test_ctrl_c_while_the_deployment_is_recorded_leaves_nothing(
    docker_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aim_catalog.launch import deployments as records

    real = records.record

    def record_then_interrupt(session: Any, **kwargs: Any) -> None:
        real(session, **kwargs)
        session.flush()
        raise KeyboardInterrupt

    monkeypatch.setattr(records, "record", record_then_interrupt)
    result = cli("launch", MODEL, "1", "--image", IMAGE, "--port", str(free_port()), code=5)
    assert "interrupted while recording the deployment" in result.stderr
    assert mine(docker_env, tmp_path) == [] and deployments(tmp_path) == []


@pytest.mark.docker
def test_a_real_sigint_during_create_exits_5_and_removes_the_container(
    docker_env: Any, host: Path, tmp_path: Path
) -> None:
    """SIGINT delivered by the process itself right after the engine created the container."""
    program = (
        "import os, signal, sys, time\n"
        "from docker.api.container import ContainerApiMixin\n"
        "real = ContainerApiMixin.create_container\n"
        "def create(self, *a, **k):\n"
        "    answer = real(self, *a, **k)\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(5)\n"
        "    return answer\n"
        "ContainerApiMixin.create_container = create\n"
        "from aim_catalog.cli import app\n"
        "sys.argv = ['aim-catalog', *sys.argv[1:]]\n"
        "app()\n"
    )
    argv = [sys.executable, "-c", program, "launch", MODEL, "1", "--image", IMAGE, "--port", str(free_port())]
    proc = subprocess.run(argv, env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 5, proc.stderr
    assert "interrupted while creating the container" in proc.stderr and "Traceback" not in proc.stderr
    assert mine(docker_env, tmp_path) == []
