"""The server argv runs as given whatever ENTRYPOINT the image has (real Docker engine).

vLLM's official images (``vllm/vllm-openai-rocm``) have ``vllm serve`` as entrypoint
(vllm-project/vllm f1a21afd, docs/deployment/docker.rocm.inc.md: Dockerfile.rocm builds "a
docker image with `vllm serve` as entrypoint", engine args go "after the image tag"). The
test image here is the fake server with that same ``ENTRYPOINT ["vllm", "serve"]`` added:
passing the argv as arguments to it would record ``vllm serve vllm serve MODEL ...``.
"""

from __future__ import annotations

import io
import json
import shlex
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.launch import IMAGE, MODEL, cli, free_port, mine

VLLM_LIKE = "aim-catalog-test/fake-server-vllm-entrypoint:1"


@pytest.fixture(scope="session")
def vllm_like_image(docker_client: Any, fake_image: str) -> str:
    dockerfile = f'FROM {IMAGE}\nENTRYPOINT ["vllm", "serve"]\n'
    docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=VLLM_LIKE, rm=True)
    assert docker_client.images.get(VLLM_LIKE).attrs["Config"]["Entrypoint"] == ["vllm", "serve"]
    return VLLM_LIKE


@pytest.mark.docker
def test_an_image_entrypoint_does_not_double_the_server_command(
    docker_env: Any, vllm_like_image: str, tmp_path: Path
) -> None:
    args = ["launch", MODEL, "2", "--backend", "vllm", "--image", vllm_like_image, "--timeout", "30"]
    result = cli(*args, "--port", str(free_port()))
    assert "is ready after" in result.stdout
    (container,) = mine(docker_env, tmp_path)
    argv = container.logs().decode().splitlines()[0]
    assert argv.startswith(f"ARGV: vllm serve {MODEL} --dtype bfloat16 --tensor-parallel-size 2 "), argv
    assert argv.count("serve") == 1
    assert container.attrs["Config"]["Entrypoint"] == ["vllm"]
    assert container.attrs["Config"]["Cmd"][:2] == ["serve", MODEL]


@pytest.mark.docker
def test_the_printed_docker_run_line_runs_the_same_argv(
    docker_env: Any, vllm_like_image: str, tmp_path: Path
) -> None:
    """The dry run's ``docker run`` line, run by the docker CLI, starts the server once."""
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed")
    dry = ("launch", MODEL, "1", "--image", vllm_like_image, "--port", str(free_port()))
    spec = json.loads(cli(*dry, "--dry-run", "--json").stdout)
    argv = shlex.split(spec["docker_run"])
    argv[argv.index("--name") + 1] = name = f"aim-entrypoint-{uuid.uuid4().hex[:12]}"
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60)
        container = docker_env.containers.get(name)
        deadline = time.monotonic() + 30
        while not container.logs() and time.monotonic() < deadline:
            time.sleep(0.1)
        line = container.logs().decode().splitlines()[0]
        assert line == f"ARGV: {' '.join(spec['command'])}", line
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)
