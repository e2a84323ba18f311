"""``launch`` without a Docker engine: the dry run's contract, a host without GPUs, bad options,
an unreachable engine, the timeout's bound, replicas.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pytest
from support.launch import MODEL, cli, write

# --------------------------------------------------------------------------- dry run


def test_dry_run_json_has_the_contract_keys(host: Path) -> None:
    os.environ["HF_TOKEN"] = "hf_dryrun_secret_value"
    try:
        result = cli("launch", MODEL, "4", "--precision", "bf16", "--backend", "vllm", "--dry-run", "--json")
    finally:
        del os.environ["HF_TOKEN"]
    spec = json.loads(result.stdout)
    keys = {
        "recipe_id",
        "backend",
        "gpu_count",
        "image",
        "command",
        "docker_run",
        "devices",
        "env",
        "ports",
        "name",
        "labels",
    }
    assert keys <= spec.keys()
    assert spec["recipe_id"] == "qwen3-32b-mi300x-bf16" and spec["gpu_count"] == 4
    assert spec["name"] == "aim-qwen3-32b-4gpu-bf16-vllm"
    assert spec["command"][:3] == ["vllm", "serve", MODEL]
    assert spec["command"][-4:] == ["--host", "0.0.0.0", "--port", "8000"]
    assert spec["command"].count("--tensor-parallel-size") == 1
    assert spec["env"]["HF_TOKEN"] == "***" and spec["env"]["HF_HOME"] == "/root/.cache/huggingface"
    assert spec["devices"] == [f"{host}/dev/kfd:/dev/kfd:rwm"] + [
        f"{host}/dev/dri/renderD{128 + i}:/dev/dri/renderD{128 + i}:rwm" for i in range(4)
    ]
    assert spec["ports"] == {"8000/tcp": 8000}
    assert spec["labels"]["aim-catalog.gpus"] == "0,1,2,3"
    assert "hf_dryrun_secret_value" not in result.stdout + result.stderr
    argv = shlex.split(spec["docker_run"])
    assert argv[:2] == ["docker", "run"]
    assert argv[-len(spec["command"]) :] == [spec["image"], *spec["command"][1:]]
    assert argv[argv.index("--entrypoint") + 1] == "vllm"  # not the image's own (runspec.ENTRYPOINT_NOTE)
    assert argv[argv.index("-e", argv.index("HF_HOME=/root/.cache/huggingface") - 1) :].count("HF_TOKEN") == 1


def test_dry_run_on_a_host_without_gpus_still_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(tmp_path / "none"))
    monkeypatch.setenv("AIM_CATALOG_DEV_ROOT", str(tmp_path / "none"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    result = cli("launch", MODEL, "2", "--dry-run")
    assert "docker run -d --name aim-qwen3-32b-2gpu-bf16-vllm" in result.stdout
    assert "no AMD GPU detected: showing devices for GPU(s) 0,1" in result.stderr
    real = cli("launch", MODEL, "2", code=5)
    assert "dev/kfd not found" in real.stderr and "--dry-run" in real.stderr


def test_an_unreachable_docker_engine_is_an_environment_error(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    result = cli("ps", code=1)
    assert "Docker engine unreachable at tcp://127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_launch_options_are_usage_errors(host: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert (
        "--shm-size takes a size like 16g" in cli("launch", MODEL, "1", "--shm-size", "lots", code=2).stderr
    )
    assert "--gpus takes distinct GPU indexes" in cli("launch", MODEL, "--gpus", "1,1", code=2).stderr
    assert "is set by the launcher" in cli("launch", MODEL, "1", "--arg", "--port=9", code=2).stderr
    assert "--env takes KEY=VALUE" in cli("launch", MODEL, "1", "--env", "NOPE", code=2).stderr
    assert "container name 'a'" in cli("launch", MODEL, "1", "--name", "a", code=2).stderr


def test_dry_run_shows_every_replica(host: Path) -> None:
    out = cli("launch", MODEL, "2", "--replicas", "3", "--port", "9000", "--dry-run", "--json")
    specs = json.loads(out.stdout)
    assert [s["ports"] for s in specs] == [{"8000/tcp": 9000}, {"8000/tcp": 9001}, {"8000/tcp": 9002}]
    gpus = [s["labels"]["aim-catalog.gpus"] for s in specs]
    assert gpus == ["0,1", "2,3", "4,5"]
    assert len({s["name"] for s in specs}) == 3
    assert "--gpus names one copy" in cli("launch", MODEL, "--replicas", "2", "--gpus", "0,1", code=2).stderr


def test_launch_timeout_is_bounded(tmp_path: Path, host: Path) -> None:
    result = cli("launch", MODEL, "1", "--dry-run", "--timeout", "86401", code=2)
    assert "Invalid value for '--timeout'" in result.stderr and "86400" in result.stderr
    cli("launch", MODEL, "1", "--dry-run", "--timeout", "86400")


def test_dry_run_shows_the_recipe_s_setup_before_the_server(host: Path, tmp_path: Path) -> None:
    """A shared catalog's setup runs in the operator's container: the dry run says so, marked
    as the recipe's, on every face (human, JSON, the cluster's manifest)."""
    steps = ["pip install amd-quark", "pip install -U transformers>=4.57,<5"]
    cli("ingest", str(write(tmp_path, "    setup:\n" + "".join(f"      - {s}\n" for s in steps))))
    note = f"setup (from recipe r, runs in the container before the server): {'; '.join(steps)}"
    human = cli("launch", "org/m", "4", "--dry-run")
    assert note in human.stderr.splitlines()
    lines = human.stdout.splitlines()
    at = lines.index("  setup:   from recipe r, runs in the container before the server:")
    assert lines[at + 1 : at + 4] == [
        "           1. pip install amd-quark",
        "           2. pip install -U transformers>=4.57,<5",
        "  command: vllm serve org/m --tensor-parallel-size 4 --host 0.0.0.0 --port 8000",
    ]
    spec = json.loads(cli("launch", "org/m", "4", "--dry-run", "--json").stdout)
    assert spec["setup"] == steps and spec["notes"][0] == note
    assert spec["command"][:3] == ["vllm", "serve", "org/m"]
    assert spec["container_command"][:2] == ["/bin/sh", "-c"]
    assert spec["container_command"][3:] == ["aim-setup", *spec["command"]]
    argv = shlex.split(spec["docker_run"])
    assert argv[argv.index("--entrypoint") + 1] == "/bin/sh"
    assert argv[argv.index(spec["image"]) + 1 :] == spec["container_command"][1:]
    kube = cli("launch", "org/m", "4", "--target", "kubernetes", "--dry-run")
    assert note in kube.stderr.splitlines()
    assert "aim-catalog setup 2/2: pip install -U transformers>=4.57,<5" in kube.stdout
