"""``--client image`` on a real Docker engine: the stand-in server (tests/fake_server) plays
each backend's benchmark client, which ``bench_exec.exec_and_fetch`` runs with ``docker exec``
in a launched container, as ``image_client.command`` builds its argv; the result file it
copies out is the one recorded from that client's writer (``support.bench_results``).

The stand-in records the argv it was given in /tmp/bench-argv; FAKE_BENCH (given at launch)
makes it fail (exit 1, after printing the container's HF_TOKEN), hang, or write nothing.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support.bench_results import fake_server_result
from support.launch import MODEL, deployments, launch

from aim_catalog.backends.registry import get
from aim_catalog.launch.targets.docker import bench_exec
from aim_catalog.launch.targets.docker.bench_exec import ClientFailed, ClientStopped, exec_and_fetch
from aim_catalog.operating.bench.image_client import command, result, result_path
from aim_catalog.operating.bench.point import PointSpec

SPEC = PointSpec(concurrency=64, requests=640, input_len=1024, output_len=512, max_duration=900.0, warmup=4)
RECORDED = {
    "vllm": "vllm-bench-serve-0.27.1.json",
    "sglang": "sglang-bench-serving-0.5.17.jsonl",
    "atom": "atom-benchmark-serving-0.1.4.json",
}


def started(tmp_path: Path, name: str, *env: str) -> str:
    """Launch the stand-in as deployment ``name`` (1 GPU, vLLM), with ``FAKE_BENCH=...`` envs."""
    extra = [arg for value in env for arg in ("--env", value)]
    launch("--name", name, *extra, gpus="1")
    (row,) = [d for d in deployments(tmp_path) if d["name"] == name]
    return str(row["container_id"])


def in_container(client: Any, container: str, *cmd: str) -> str:
    done = client.containers.get(container).exec_run(list(cmd))
    return bytes(done.output).decode()


def scratch_left(client: Any, container: str) -> list[str]:
    return [
        name for name in in_container(client, container, "ls", "/tmp").split() if "aim-catalog-bench" in name
    ]


@pytest.mark.docker
def test_each_backends_client_runs_in_the_container(docker_env: Any, tmp_path: Path) -> None:
    client = docker_env
    container = started(tmp_path, "bench")
    for backend, recorded in RECORDED.items():
        path = result_path(backend)
        port = get(backend).container_port
        argv = command(backend, SPEC, model=MODEL, port=port, result_path=path)
        code, data, tail = exec_and_fetch(client, container, argv, path, timeout=60)
        assert code == 0 and data == fake_server_result(recorded), backend
        assert in_container(client, container, "cat", "/tmp/bench-argv").splitlines() == argv
        assert tail.splitlines()[-1] == "saved the result"
        point = result(backend, data, SPEC, path=path)
        assert point.completed > 0 and point.metrics["output_throughput"] > 0
        assert point.metrics["ttft_ms_p99"] == 812.0  # as the recorded file says
        assert scratch_left(client, container) == [], backend  # result, log and PID file removed


@pytest.mark.docker
def test_a_failing_client_is_one_line_with_its_output_masked(
    docker_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = docker_env
    monkeypatch.setenv("HF_TOKEN", "hf_secret_bench_token")
    container = started(tmp_path, "failing", "FAKE_BENCH=fail")
    path = result_path("vllm")
    argv = command("vllm", SPEC, model=MODEL, port=8000, result_path=path)
    with pytest.raises(ClientFailed) as caught:
        exec_and_fetch(client, container, argv, path, timeout=60)
    message = str(caught.value)
    assert "\n" not in message and "hf_secret_bench_token" not in message
    assert message == (
        "vllm bench serve exited with code 1 in container failing: last output: token seen: *** | "
        "Traceback (most recent call last): | ValueError: simulated benchmark client failure"
    )
    assert caught.value.exit_code == 1
    assert scratch_left(client, container) == []


@pytest.mark.docker
def test_no_result_a_hang_and_a_stop(
    docker_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = docker_env
    silent = started(tmp_path, "silent", "FAKE_BENCH=noresult")
    path = result_path("sglang")
    argv = command("sglang", SPEC, model=MODEL, port=30000, result_path=path)
    with pytest.raises(ClientFailed, match=r"exited 0 but wrote no result at .* finished without a result$"):
        exec_and_fetch(client, silent, argv, path, timeout=60)
    assert scratch_left(client, silent) == []

    hung = started(tmp_path, "hung", "FAKE_BENCH=hang")
    path = result_path("vllm")
    argv = command("vllm", SPEC, model=MODEL, port=8000, result_path=path)
    begun = time.monotonic()
    with pytest.raises(ClientFailed, match=r"did not finish within 2s in container hung; it was stopped: "):
        exec_and_fetch(client, hung, argv, path, timeout=2)
    assert time.monotonic() - begun < 15
    assert "sleep 100000" not in in_container(client, hung, "ps")  # killed, not left running
    assert scratch_left(client, hung) == []

    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    path = result_path("vllm")
    with pytest.raises(ClientStopped, match="was stopped in container hung before it finished"):
        exec_and_fetch(client, hung, command("vllm", SPEC, model=MODEL, port=8000, result_path=path), path,
                       timeout=60, stop=stop)  # fmt: skip
    assert "sleep 100000" not in in_container(client, hung, "ps")
    assert scratch_left(client, hung) == []

    # Ctrl-C while the client runs: it is killed and its directory removed all the same.
    def interrupted(*_args: Any) -> int:
        time.sleep(1.0)
        assert "sleep 100000" in in_container(client, hung, "ps")
        raise KeyboardInterrupt

    monkeypatch.setattr(bench_exec, "_wait", interrupted)
    path = result_path("vllm")
    with pytest.raises(KeyboardInterrupt):
        exec_and_fetch(client, hung, command("vllm", SPEC, model=MODEL, port=8000, result_path=path), path,
                       timeout=60)  # fmt: skip
    assert "sleep 100000" not in in_container(client, hung, "ps")
    assert scratch_left(client, hung) == []


@pytest.mark.docker
def test_an_existing_directory_is_never_used_nor_removed(docker_env: Any, tmp_path: Path) -> None:
    client = docker_env
    container = started(tmp_path, "taken")
    path = result_path("vllm")
    folder = path.rsplit("/", 1)[0]
    in_container(client, container, "mkdir", folder)
    argv = command("vllm", SPEC, model=MODEL, port=8000, result_path=path)
    with pytest.raises(ClientFailed, match=r"cannot make .* for the benchmark client"):
        exec_and_fetch(client, container, argv, path, timeout=60)
    assert scratch_left(client, container) == [folder.rsplit("/", 1)[1]]
    assert "bench-argv" not in in_container(client, container, "ls", "/tmp")  # never started
