"""Secret-named variables reach the container but not the catalog (real Docker engine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.launch import IMAGE, MODEL, cli, deployments, free_port

from aim_catalog.launch.targets.docker import logs as container_logs


@pytest.mark.docker
def test_secret_named_variables_reach_the_container_but_not_the_catalog(
    docker_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = (
        "--env",
        "HUGGING_FACE_HUB_TOKEN=hf_hub_launch_secret",
        "--env",
        "VLLM_API_KEY=vk_launch_secret",
    )
    cli("launch", MODEL, "1", "--image", IMAGE, "--port", str(free_port()), "--name", "sec", *secrets)
    container = docker_env.containers.get("sec")
    env = container.attrs["Config"]["Env"]
    assert "HUGGING_FACE_HUB_TOKEN=hf_hub_launch_secret" in env and "VLLM_API_KEY=vk_launch_secret" in env
    (row,) = deployments(tmp_path)
    stored = json.dumps(row, default=str)
    assert "hf_hub_launch_secret" not in stored and "vk_launch_secret" not in stored
    assert row["spec"] and json.loads(row["spec"])["env"]["HUGGING_FACE_HUB_TOKEN"] == "***"
    # logs mask every secret the container was given, whatever its name
    assert sorted(container_logs.container_secrets(container)) == ["hf_hub_launch_secret", "vk_launch_secret"]
