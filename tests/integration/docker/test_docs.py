"""The docs' commands on a deployment run against a real one.

A deployment needs a GPU, so the test launches the stand-in server image (``fake_image``)
on the fake 8 x MI300X host under the name the docs use (``launch Qwen/Qwen3-32B 4
--precision bf16 --backend vllm`` names it ``aim-qwen3-32b-4gpu-bf16-vllm``), then runs each
page's ``ps``, ``logs``, ``test NAME``, ``bench run`` and ``bench import --deployment``
commands in page order as real processes, and ``stop`` last. ``logs --follow`` runs without
``--follow`` (it would follow until the container ends). A ``--url`` of
``http://127.0.0.1:8000`` is the deployment's own address. ``bench run --client builtin``
gets ``--requests 8 --output-len 16`` where the docs give none: the stand-in is a shell
script, and the default points (1,264 requests of 1,024 tokens) took 270 s from it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support import docs
from support.launch import aim, free_port, launch

NAME = "aim-qwen3-32b-4gpu-bf16-vllm"


def deployment_of(command: docs.Command) -> str | None:
    """The deployment a command names (None: ``ps``)."""
    words = command.words
    if words[:2] == ("bench", "import"):
        return words[words.index("--deployment") + 1]
    if words[0] in ("logs", "stop", "test"):
        return words[1]
    return words[2] if words[:2] == ("bench", "run") else None


PAGES = [page for page in docs.PAGES if any(c.on_deployment() for c in docs.shell_commands(page)[0])]


@pytest.mark.docker
@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(docs.REPO)) for p in PAGES])
def test_commands_on_a_deployment_run(page: Path, docker_env: Any, tmp_path: Path) -> None:
    commands = [c for c in docs.shell_commands(page)[0] if c.on_deployment()]
    others = [str(c) for c in commands if deployment_of(c) not in (None, NAME)]
    assert others == [], f"the docs name a deployment this test does not launch (use {NAME})"
    port = free_port()
    launch("--precision", "bf16", "--name", NAME, port=port)
    sandbox = docs.sandbox(tmp_path / "work")
    stops = [c for c in commands if c.words[0] == "stop"]
    for command in [c for c in commands if c.words[0] != "stop"] + stops:
        words = [w for w in docs.in_sandbox(command, sandbox) if w not in ("--follow", "-f")]
        words = [w.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}") for w in words]
        if command.words[:2] == ("bench", "run") and command.has("--client") and "builtin" in words:
            words += [*(("--requests", "8") * (not command.has("--requests")))]
            words += [*(("--output-len", "16") * (not command.has("--output-len")))]
        done = subprocess.run(
            aim(*words), cwd=sandbox, env=dict(os.environ), capture_output=True, text=True, timeout=600
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{command}\nexit {done.returncode}:\n{output[-3000:]}"
        assert "Traceback" not in output, f"{command}\n{output[-3000:]}"
        if command.words[0] == "ps":
            assert NAME in output
