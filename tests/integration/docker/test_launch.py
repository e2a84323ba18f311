"""Launching against a real Docker engine, with a stand-in server image, fake GPUs and devices.

The image is built locally FROM scratch (static busybox + tests/fake_server), so no
registry is needed. Fake ``/dev/kfd`` and render nodes (mknod) and a fake KFD sysfs tree
with 8 MI300X make device mapping and GPU allocation real.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from support.launch import (
    IMAGE,
    MODEL,
    aim,
    assert_cleaned,
    cli,
    deployments,
    free_port,
    launch,
    mine,
    wait_polled,
    write,
)

# --------------------------------------------------------------------------- real launches


@pytest.mark.docker
def test_launch_serves_and_is_managed(
    docker_env: Any, host: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_real_secret_value")
    port = free_port()
    result = launch("--env", "EXTRA=1", "--arg", "--max-model-len=4096", port=port)
    name = "aim-qwen3-32b-4gpu-bf16-vllm"
    assert result.stdout.startswith(f"{name} is ready after")
    assert f"endpoint: http://127.0.0.1:{port}/v1" in result.stdout
    curl = result.stdout.split("try:", 1)[1].strip()
    assert shlex.split(curl)[:2] == ["curl", f"http://127.0.0.1:{port}/v1/chat/completions"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=5) as response:
        assert json.load(response)["data"][0]["id"] == "fake-model"

    container = docker_env.containers.get(name)
    hc = container.attrs["HostConfig"]
    assert [d["PathOnHost"] for d in hc["Devices"]] == [str(host / "dev/kfd")] + [
        str(host / f"dev/dri/renderD{128 + i}") for i in range(4)
    ]
    assert hc["IpcMode"] == "host" and hc["CapAdd"] == ["SYS_PTRACE"]
    assert "seccomp=unconfined" in hc["SecurityOpt"]
    assert "render" in hc["GroupAdd"] or any(g.isdigit() for g in hc["GroupAdd"])
    assert container.labels["aim-catalog.recipe"] == "qwen3-32b-mi300x-bf16"
    assert container.labels["aim-catalog.gpus"] == "0,1,2,3"
    argv = container.logs().decode().splitlines()[0]
    assert argv == (
        f"ARGV: vllm serve {MODEL} --dtype bfloat16 --tensor-parallel-size 4 --max-model-len 4096 "
        "--max-num-batched-tokens 32768 --gpu-memory-utilization 0.9 --host 0.0.0.0 --port 8000"
    )
    assert "HF_TOKEN=hf_real_secret_value" in container.attrs["Config"]["Env"]  # passed through
    assert "EXTRA=1" in container.attrs["Config"]["Env"]

    (row,) = deployments(tmp_path)
    assert (row["name"], row["status"], row["gpu_count"], row["port"]) == (name, "running", 4, port)
    assert "hf_real_secret_value" not in json.dumps(row, default=str)

    listed = json.loads(cli("ps", "--json").stdout)
    assert [(d["name"], d["status"], d["container"]) for d in listed] == [(name, "running", "running")]
    logs = cli("logs", name, "--tail", "2").stdout
    assert "serving on port 8000" in logs and "hf_real_secret_value" not in logs and "***" in logs
    assert "hf_real_secret_value" not in result.stdout + result.stderr

    assert cli("stop", name).stdout.strip() == f"stopped {name}"
    assert mine(docker_env, tmp_path) == []
    assert [d["status"] for d in json.loads(cli("ps", "--all", "--json").stdout)] == ["stopped"]
    assert json.loads(cli("ps", "--json").stdout) == []


@pytest.mark.docker
def test_sglang_gets_its_own_command_line(docker_env: Any, tmp_path: Path) -> None:
    launch(backend="sglang", gpus="2")
    (container,) = mine(docker_env, tmp_path)
    argv = container.logs().decode().splitlines()[0]
    assert argv.startswith(
        f"ARGV: python3 -m sglang.launch_server --model-path {MODEL} --dtype bfloat16 --tp-size 2 "
    )
    assert argv.endswith("--host 0.0.0.0 --port 30000")
    assert container.attrs["HostConfig"]["PortBindings"]["30000/tcp"][0]["HostPort"].isdigit()


@pytest.mark.docker
def test_gpus_are_allocated_and_freed(docker_env: Any, tmp_path: Path) -> None:
    launch("--name", "first")
    launch("--name", "second")
    second = docker_env.containers.get("second")
    assert second.labels["aim-catalog.gpus"] == "4,5,6,7"
    assert [d["PathOnHost"].rsplit("/", 1)[1] for d in second.attrs["HostConfig"]["Devices"]][1:] == [
        f"renderD{132 + i}" for i in range(4)
    ]
    full = launch("--name", "third", code=5)
    assert "4 GPU(s) needed, 0 of 8 free; held by first (GPU 0,1,2,3), second (GPU 4,5,6,7)" in full.stderr
    clash = launch("--gpus", "3,4,5,6", "--name", "clash", code=5)
    assert "GPU(s) already in use: first (GPU 3), second (GPU 4,5,6)" in clash.stderr
    cli("stop", "first")
    launch("--gpus", "0,1", "--name", "pair", gpus="2")
    assert docker_env.containers.get("pair").labels["aim-catalog.gpus"] == "0,1"
    # With GPUS omitted, only counts that fit the 2 free GPUs compete.
    spec = json.loads(cli("launch", MODEL, "--image", IMAGE, "--dry-run", "--json").stdout)
    assert spec["gpu_count"] <= 2 and spec["gpus"] == [2, 3][: spec["gpu_count"]]


@pytest.mark.docker
def test_default_names_are_made_unique(docker_env: Any, tmp_path: Path) -> None:
    launch(gpus="1")
    launch(gpus="1")
    names = sorted(c.name for c in mine(docker_env, tmp_path))
    assert names == ["aim-qwen3-32b-1gpu-bf16-vllm", "aim-qwen3-32b-1gpu-bf16-vllm-2"]


@pytest.mark.docker
def test_no_wait_returns_at_once(docker_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = launch("--no-wait", "--env", "FAKE_MODE=hang")
    assert "started; not waiting for it" in result.stdout
    assert [d["status"] for d in deployments(tmp_path)] == ["running"]


# --------------------------------------------------------------------------- failures clean up


@pytest.mark.docker
def test_a_crash_fails_fast_with_the_log_tail(docker_env: Any, tmp_path: Path) -> None:
    result = launch("--env", "FAKE_MODE=crash", code=5)
    assert "the server exited (code 3) before it was ready" in result.stderr
    assert "not ready after" not in result.stderr  # the crash ended the wait, not the 30 s timeout
    assert "fatal: simulated crash while loading the model" in result.stderr
    assert "the container was removed" in result.stderr
    assert_cleaned(docker_env, tmp_path)
    assert [d["status"] for d in deployments(tmp_path)] == ["failed"]


@pytest.mark.docker
def test_a_server_that_never_gets_ready_times_out(docker_env: Any, tmp_path: Path) -> None:
    result = cli(
        "launch",
        MODEL,
        "1",
        "--image",
        IMAGE,
        "--port",
        str(free_port()),
        "--timeout",
        "3",
        "--env",
        "FAKE_MODE=hang",
        code=5,
    )
    assert "not ready after 3s (/health never answered)" in result.stderr
    assert "loading the model forever" in result.stderr
    assert_cleaned(docker_env, tmp_path)


@pytest.mark.docker
def test_keep_on_failure_keeps_the_container(docker_env: Any, tmp_path: Path) -> None:
    result = launch("--env", "FAKE_MODE=hang", "--keep-on-failure", "--timeout", "2", code=5)
    assert "kept (stopped) for inspection" in result.stderr
    (kept,) = mine(docker_env, tmp_path)
    assert kept.status == "exited"  # stopped: it holds no GPU while it is inspected
    assert launch("--name", "next").stdout.startswith("next is ready")  # GPUs 0-3 are free again
    assert docker_env.containers.get("next").labels["aim-catalog.gpus"] == "0,1,2,3"


@pytest.mark.docker
def test_a_missing_image_fails_cleanly(docker_env: Any, tmp_path: Path) -> None:
    args = ["launch", MODEL, "1", "--image", "aim-catalog-test/not-built:0", "--port", str(free_port())]
    result = cli(*args, code=5)
    assert "image aim-catalog-test/not-built:0 is not present and cannot be pulled" in result.stderr
    assert_cleaned(docker_env, tmp_path)


@pytest.mark.docker
def test_a_taken_port_fails_cleanly(docker_env: Any, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = launch(port=port, code=5)
    assert "Docker refused" in result.stderr and "the container was removed" in result.stderr
    assert_cleaned(docker_env, tmp_path)


@pytest.mark.docker
def test_a_missing_device_fails_before_anything_runs(docker_env: Any, host: Path, tmp_path: Path) -> None:
    (host / "dev" / "dri" / "renderD130").unlink()
    result = launch(code=5)
    assert f"{host}/dev/dri/renderD130 not found" in result.stderr and "--dry-run" in result.stderr
    (host / "dev" / "kfd").unlink()
    result = launch(code=5)
    assert "dev/kfd not found" in result.stderr
    assert_cleaned(docker_env, tmp_path)


@pytest.mark.docker
def test_ctrl_c_during_the_wait_removes_the_container(docker_env: Any, host: Path, tmp_path: Path) -> None:
    env = dict(os.environ)
    argv = [str(Path(sys.executable).parent / "aim-catalog"), "launch", MODEL, "1", "--image", IMAGE]
    argv += ["--port", str(free_port()), "--env", "FAKE_MODE=loading", "--timeout", "120"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_polled(docker_env, tmp_path, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 5, err
    assert "interrupted while waiting for the server" in err and "the container was removed" in err
    assert_cleaned(docker_env, tmp_path)


# --------------------------------------------------------------------------- ps reconciles


@pytest.mark.docker
def test_ps_shows_containers_that_died_or_were_removed(docker_env: Any, tmp_path: Path) -> None:
    launch("--name", "dies", gpus="1")
    launch("--name", "vanishes", gpus="1")
    docker_env.containers.get("dies").kill()
    docker_env.containers.get("vanishes").remove(force=True)
    states = {d["name"]: d["container"] for d in json.loads(cli("ps", "--json").stdout)}
    assert states == {"dies": "exited (137)", "vanishes": "removed"}
    table = cli("ps").stdout
    assert "exited (137)" in table and "removed" in table
    assert (
        cli("stop", "vanishes").stdout.strip() == "vanishes: its container was already gone; marked stopped"
    )
    cli("stop", "dies")
    assert json.loads(cli("ps", "--json").stdout) == []
    assert "no deployment called 'nobody'" in cli("stop", "nobody", code=2).stderr


@pytest.mark.docker
def test_docker_host_is_honoured(docker_env: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The engine reached through another path to its socket; a wrong one fails (test above).
    socket_path = docker_env.api.base_url  # http+docker://localhost for the default socket
    assert socket_path.startswith("http+docker://")
    link = tmp_path / "engine.sock"
    link.symlink_to("/var/run/docker.sock")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{link}")
    launch("--name", "via-docker-host", gpus="1")
    (row,) = deployments(tmp_path)
    # the engine is recorded by its ID, whatever path reached it (a fleet's hosts share paths)
    assert (row["docker_host"], row["engine_name"]) == (docker_env.info()["ID"], docker_env.info()["Name"])
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'nothing.sock'}")
    assert "Docker engine unreachable" in launch("--name", "nowhere", gpus="1", code=1).stderr


# --------------------------------------------------------------------------- signals, concurrency, logs


@pytest.mark.docker
def test_sigterm_during_the_wait_removes_the_container(docker_env: Any, host: Path, tmp_path: Path) -> None:
    argv = aim(
        "launch", MODEL, "1", "--image", IMAGE, "--port", str(free_port()), "--env", "FAKE_MODE=loading"
    )
    proc = subprocess.Popen(
        argv, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_polled(docker_env, tmp_path, proc)
    proc.terminate()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 5, err
    assert "terminated (SIGTERM) while waiting for the server" in err
    assert_cleaned(docker_env, tmp_path)


@pytest.mark.docker
def test_concurrent_launches_never_share_gpus_or_names(docker_env: Any, host: Path, tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            aim("launch", MODEL, "4", "--image", IMAGE, "--port", str(free_port()), "--no-wait"),
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = [(p.wait(timeout=120), p.communicate()) for p in procs]
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 0, 5], outcomes
    refused = next(err for code, (_, err) in outcomes if code == 5)
    assert "4 GPU(s) needed, 0 of 8 free; held by aim-qwen3-32b-4gpu-bf16-vllm" in refused
    containers = mine(docker_env, tmp_path)
    assert sorted(c.labels["aim-catalog.gpus"] for c in containers) == ["0,1,2,3", "4,5,6,7"]
    assert sorted(c.name for c in containers) == [
        "aim-qwen3-32b-4gpu-bf16-vllm",
        "aim-qwen3-32b-4gpu-bf16-vllm-2",
    ]


@pytest.mark.docker
def test_busy_gpus_are_named_when_the_count_is_left_open(docker_env: Any, tmp_path: Path) -> None:
    launch("--name", "ga", gpus="4")
    launch("--name", "gb", gpus="4")
    result = cli("launch", MODEL, "--image", IMAGE, code=5)
    assert "held by ga (GPU 0,1,2,3), gb (GPU 4,5,6,7)" in result.stderr


@pytest.mark.docker
def test_logs_mask_the_token_the_container_got(
    docker_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_launch_time_secret")
    launch("--name", "tok", gpus="1")
    monkeypatch.delenv("HF_TOKEN")  # a fresh shell, later
    logs = cli("logs", "tok").stdout
    assert "token seen: ***" in logs and "hf_launch_time_secret" not in logs
    monkeypatch.setenv("HF_TOKEN", "some_other_value")
    assert "hf_launch_time_secret" not in cli("logs", "tok", "--tail", "5").stdout


@pytest.mark.docker
def test_the_spinner_shows_log_lines_as_text(docker_env: Any, host: Path, tmp_path: Path) -> None:
    """On a terminal the wait shows the last log line; '[/x]' in it is text, not rich markup."""
    port = free_port()
    command = shlex.join(
        aim(
            "launch", MODEL, "1", "--image", IMAGE, "--port", str(port),
            "--env", "FAKE_LOG=INFO [/root/.cache/huggingface/hub] fetching", "--env", "FAKE_DELAY=3",
        )
    )  # fmt: skip
    result = subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "waiting for aim-qwen3-32b-1gpu-bf16-vllm" in result.stdout
    assert "is ready after" in result.stdout


@pytest.mark.docker
def test_curl_uses_the_served_model_name(docker_env: Any, tmp_path: Path) -> None:
    result = launch("--arg", "--served-model-name=qwen-fast", gpus="1", port=free_port())
    assert '"model": "qwen-fast"' in result.stdout


@pytest.mark.docker
def test_an_unusable_hf_cache_is_a_usage_error(docker_env: Any, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    result = launch("--hf-cache", str(a_file / "sub"), gpus="1", code=2)
    assert "cannot use" in result.stderr and "Hugging Face cache" in result.stderr
    assert_cleaned(docker_env, tmp_path)


# --------------------------------------------------------------------------- the recipe's setup steps


def launch_with_setup(tmp_path: Path, *steps: str, code: int = 0) -> Any:
    """Launch recipe 'r' (org/m, vLLM 4 GPU) whose config runs ``steps`` before the server."""
    body = "    setup:\n" + "".join(f"      - {step}\n" for step in steps)
    cli("ingest", str(write(tmp_path, body)))
    args = ["launch", "org/m", "4", "--image", IMAGE, "--port", str(free_port()), "--timeout", "30"]
    return cli(*args, code=code)


@pytest.mark.docker
def test_setup_steps_run_in_the_container_before_the_server(docker_env: Any, tmp_path: Path) -> None:
    """The image's fake pip plays the installs (no package index here): each step runs, in
    order, its pin one word, then the server starts and answers; the launch said first what
    the recipe runs in the container."""
    result = launch_with_setup(tmp_path, "pip install amd-quark", "pip install -U transformers>=4.57,<5")
    note = (
        "setup (from recipe r, runs in the container before the server): "
        "pip install amd-quark; pip install -U transformers>=4.57,<5"
    )
    assert note in result.stderr
    assert result.stdout.startswith("aim-m-4gpu-bf16-vllm is ready after")
    (container,) = mine(docker_env, tmp_path)
    assert container.attrs["Config"]["Entrypoint"] == ["/bin/sh"]
    lines = container.logs().decode().splitlines()
    assert lines[:8] == [
        "aim-catalog setup 1/2: pip install amd-quark",
        "fake pip: args [amd-quark]",
        "fake pip: would install amd-quark",
        "aim-catalog setup 2/2: pip install -U transformers>=4.57,<5",
        "fake pip: args [-U][transformers>=4.57,<5]",
        "fake pip: would install -U transformers>=4.57,<5",
        "aim-catalog setup done: starting the server",
        "ARGV: vllm serve org/m --tensor-parallel-size 4 --host 0.0.0.0 --port 8000",
    ]
    (row,) = deployments(tmp_path)
    assert row["status"] == "running"
    assert json.loads(row["spec"])["setup"] == [
        "pip install amd-quark",
        "pip install -U transformers>=4.57,<5",
    ]


@pytest.mark.docker
def test_a_failing_setup_step_fails_the_launch_naming_it(docker_env: Any, tmp_path: Path) -> None:
    steps = ("pip install amd-quark", "pip install aim-test-fails==1.0", "pip install never-run")
    result = launch_with_setup(tmp_path, *steps, code=5)
    error = next(line for line in result.stderr.splitlines() if line.startswith("error: "))
    assert error == (
        "error: setup step 2/3 failed (exit 1): pip install aim-test-fails==1.0; the server was not started"
    )
    assert "No matching distribution found for aim-test-fails==1.0" in result.stderr  # its log lines
    assert "never-run" not in result.stderr.split("last log lines:")[1]
    assert "not ready after" not in result.stderr  # the exit ended the wait, not the timeout
    assert "the container was removed" in result.stderr
    assert_cleaned(docker_env, tmp_path)
    assert [d["status"] for d in deployments(tmp_path)] == ["failed"]
