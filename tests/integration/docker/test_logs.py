"""An API key given at launch reaches the container, is masked in its logs and never reaches
the catalog (real Docker engine).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.launch import IMAGE, MODEL, cli, deployments, free_port

from aim_catalog.launch.targets.docker import logs as container_logs


@pytest.mark.docker
def test_an_api_key_reaches_the_container_but_not_the_catalog(docker_env: Any, tmp_path: Path) -> None:
    port = str(free_port())
    cli(
        "launch", MODEL, "1", "--image", IMAGE, "--port", port, "--name", "key", "--arg", "--api-key=k_secret"
    )
    container = docker_env.containers.get("key")
    argv = container.attrs["Config"]["Cmd"]
    assert argv[argv.index("--api-key") + 1] == "k_secret"
    (row,) = deployments(tmp_path)
    assert "k_secret" not in json.dumps(row, default=str)
    assert "--api-key" in json.loads(row["spec"])["command"]
    assert container_logs.container_secrets(container) == ["k_secret"]  # masked in logs
