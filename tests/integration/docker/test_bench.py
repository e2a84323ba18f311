"""`bench run` and `bench sweep` on the real Docker engine, against the stand-in server
(tests/fake_server: it waits --fake-ttft seconds for the first token and --fake-token-delay
between tokens, and answers /version), on a fake 8 x MI300X host.

- `bench run NAME --client builtin` stores one `measured` row per concurrency, with the
  image's digest, the server's version, the client and the GPU model, and the rows rank;
- `bench sweep` over two configs of one model (the vLLM one told to be five times slower per
  token) launches, measures and stops each, and `select` then picks the faster;
- Ctrl-C in the middle of a sweep leaves no container and keeps the finished points;
- a config whose container crashes is reported and skipped.
A measurement check, not a timed test: what is asserted is which config is faster and what
was stored, never how long anything took.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text as db_text
from support.launch import IMAGE, MODEL, RECIPE, aim, cli, deployments, free_port, launch, mine, set_config

from aim_catalog.storage import db

VLLM_1, SGLANG_1 = f"{RECIPE}/vllm/1", f"{RECIPE}/sglang/1"
# 256 prompt tokens: the stand-in counts the words of the whole request body (about 40 more
# than the prompt's), and bench run's calibration sizes the prompt so the count is near 256.
SCENARIO = ("--input-len", "256", "--output-len", "8")
# A sweep of the seed recipe's two 1-GPU configs (vLLM and SGLang), on any hardware.
SWEEP = ("bench", "sweep", MODEL, "1", "-b", "any", "--hardware", "any", "--only", VLLM_1, "--only", SGLANG_1)
BOTH_MEASURED = [("sglang", "measured"), ("vllm", "measured")]


def measured(tmp_path: Path) -> list[dict[str, Any]]:
    """The catalog's measured rows, with their config."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'data' / 'aim-catalog' / 'catalog.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            db_text(
                "SELECT c.backend, c.gpu_count, b.* FROM benchmarks b JOIN serve_configs c "
                "ON c.id = b.serve_config_id WHERE b.origin = 'measured' ORDER BY b.id"
            )
        )
        found = [dict(r._mapping) for r in rows]
    engine.dispose()
    return found


@pytest.mark.docker
def test_bench_run_stores_each_point_as_a_measured_row_that_ranks(docker_env: Any, tmp_path: Path) -> None:
    launch("--name", "paced", "--arg", "--fake-token-delay=0.02", gpus="1", port=free_port())
    ask = ("bench", "run", "paced", "--client", "builtin", "--concurrency", "1,2", *SCENARIO)
    plan = json.loads(cli(*ask, "--dry-run", "--json").stdout)
    assert [p["concurrency"] for p in plan["points"]] == [1, 2] and plan["stores"] is True
    assert measured(tmp_path) == []  # a dry run sends nothing

    result = json.loads(cli(*ask, "--requests", "4", "--json").stdout)
    assert [(p["spec"]["concurrency"], p["completed"], p["failed"]) for p in result["points"]] == [
        (1, 4, 0),
        (2, 4, 0),
    ]
    assert result["server_version"] == "0.11.0-fake" and result["gpu_model"] == "MI300X"
    rows = measured(tmp_path)
    assert [r["id"] for r in rows] == result["rows"] and [r["concurrency"] for r in rows] == [1, 2]
    for row in rows:
        assert (row["backend"], row["gpu_count"], row["image"]) == ("vllm", 1, IMAGE)
        assert row["image_digest"].startswith("sha256:") and row["server_version"] == "0.11.0-fake"
        assert row["client"].startswith("aim-catalog builtin ") and row["gpu_model"] == "MI300X"
        assert (row["nominal_input_len"], row["nominal_output_len"], row["output_len"]) == (256, 8, 8)
        assert abs(row["input_len"] - 256) <= 0.15 * 256  # calibrated: within select's tolerance
        assert row["import_key"].startswith("measured-") and row["failed"] == 0
        assert row["tpot_ms_p50"] >= 20  # the stand-in's pace, at least
    # The rows rank: select answers from them, at concurrency 2 (the highest measured).
    chosen = json.loads(cli("select", MODEL, "1", "-b", "vllm", *SCENARIO, "--json").stdout)
    assert chosen["operating_point"]["concurrency"] == 2 and chosen["evidence"]["kind"] == "measured"
    assert chosen["evidence"]["source"].startswith("aim-catalog bench run paced (aim-catalog builtin ")
    human = cli("bench", "run", "paced", "--client", "builtin", "--concurrency", "1", *SCENARIO, "--no-save")
    assert "server 0.11.0-fake" in human.stdout and "stored" not in human.stdout
    assert len(measured(tmp_path)) == 2  # --no-save stores nothing


@pytest.mark.docker
def test_a_sweep_measures_each_config_and_select_then_picks_the_faster(
    docker_env: Any, tmp_path: Path
) -> None:
    set_config(tmp_path, args={"--fake-itl": "0.05"})  # vLLM 1 GPU: 5 x the stand-in's 0.01 s
    sweep = SWEEP
    run = ("--client", "builtin", "--concurrency", "1,2", "--requests", "4", *SCENARIO)
    launching = ("--image", IMAGE, "--port", str(free_port()), "--launch-timeout", "60")
    dry = cli(*sweep, *run, *launching, "--dry-run").stdout
    assert "2 config(s) x 2 point(s)" in dry and mine(docker_env, tmp_path) == []

    found = json.loads(cli(*sweep, *run, *launching, "--json").stdout)
    assert sorted((c["backend"], c["outcome"]) for c in found["configs"]) == BOTH_MEASURED
    assert mine(docker_env, tmp_path) == []  # each stopped after its run
    assert sorted((r["backend"], r["concurrency"]) for r in measured(tmp_path)) == [
        ("sglang", 1),
        ("sglang", 2),
        ("vllm", 1),
        ("vllm", 2),
    ]
    chosen = next(v for v in found["after"] if v["verdict"] == "chosen")
    assert (chosen["backend"], chosen["gpu_count"]) == ("sglang", 1)
    picked = json.loads(
        cli("select", MODEL, "1", "-b", "any", "--hardware", "any", *SCENARIO, "--json").stdout
    )
    assert (picked["recipe_id"], picked["backend"]) == (RECIPE, "sglang")
    # --resume: both configs measured on this image at these points already: nothing launched.
    again = json.loads(cli(*sweep, *run, *launching, "--resume", "--json").stdout)
    assert [c["outcome"] for c in again["configs"]] == ["resumed", "resumed"]


@pytest.mark.docker
def test_a_config_that_crashes_is_reported_and_the_sweep_goes_on(docker_env: Any, tmp_path: Path) -> None:
    set_config(tmp_path, env={"FAKE_MODE": "crash"})  # vLLM 1 GPU exits while "loading"
    sweep = SWEEP
    run = ("--client", "builtin", "--concurrency", "1", "--requests", "2", *SCENARIO)
    found = json.loads(
        cli(
            *sweep, *run, "--image", IMAGE, "--port", str(free_port()), "--launch-timeout", "60", "--json"
        ).stdout
    )
    outcomes = {c["backend"]: c for c in found["configs"]}
    assert outcomes["vllm"]["outcome"] == "launch failed" and "\n" not in outcomes["vllm"]["reason"]
    assert outcomes["sglang"]["outcome"] == "measured"
    assert [r["backend"] for r in measured(tmp_path)] == ["sglang"]
    assert mine(docker_env, tmp_path) == []


@pytest.mark.docker
def test_ctrl_c_in_a_sweep_removes_the_container_and_keeps_the_finished_points(
    docker_env: Any, tmp_path: Path
) -> None:
    # vLLM slow: 0.25 s per token, 8 tokens, so its second point is still running when its
    # first has been stored (SGLang, at the stand-in's 0.01 s, may be measured before it).
    set_config(tmp_path, args={"--fake-itl": "0.25"})
    argv = aim(*SWEEP)
    argv += ["--client", "builtin", "--concurrency", "1,2", "--requests", "4", *SCENARIO]
    argv += ["--image", IMAGE, "--port", str(free_port()), "--launch-timeout", "60"]
    proc = subprocess.Popen(
        argv, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not any(r["backend"] == "vllm" for r in measured(tmp_path)):  # bounded: fails if never
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, (out, err)
    assert "stopped: the running container was removed; the finished points are kept" in err, (out, err)
    assert mine(docker_env, tmp_path) == []
    rows = measured(tmp_path)
    assert [r["concurrency"] for r in rows if r["backend"] == "vllm"] == [1]  # the finished point only


@pytest.mark.docker
def test_bench_run_with_the_image_client_imports_its_file_onto_the_config(
    docker_env: Any, tmp_path: Path
) -> None:
    """The default client of a local Docker deployment: the stand-in plays `vllm bench serve`
    (its argv recorded in /tmp/bench-argv), writing the file recorded from vLLM 0.27.1's
    writer (support.bench_results); bench run copies it out and stores it on the config."""
    launch("--name", "imaged", gpus="1", port=free_port())
    out = json.loads(cli("bench", "run", "imaged", "--concurrency", "64", *SCENARIO, "--json").stdout)
    (point,) = out["points"]
    assert point["client"].startswith("vllm bench serve") and out["client"] == point["client"]
    (row,) = measured(tmp_path)
    assert (row["backend"], row["gpu_count"], row["concurrency"], row["origin"]) == (
        "vllm",
        1,
        64,
        "measured",
    )
    assert row["output_throughput"] == point["metrics"]["output_throughput"] > 0
    assert row["client"] == point["client"] and row["server_version"] == "0.11.0-fake"
    (container,) = mine(docker_env, tmp_path)
    argv = container.exec_run(["cat", "/tmp/bench-argv"]).output.decode().splitlines()  # one per line
    assert argv[:3] == ["vllm", "bench", "serve"]
    given = {
        flag: argv[argv.index(flag) + 1] for flag in ("--max-concurrency", "--random-input-len", "--model")
    }
    assert given == {"--max-concurrency": "64", "--random-input-len": "256", "--model": MODEL}
    assert container.exec_run(["ls", "/tmp"]).output.decode().count("aim-catalog-bench") == 0  # cleaned


@pytest.mark.docker
def test_a_cluster_deployment_is_measured_through_its_forwarded_url(docker_env: Any, tmp_path: Path) -> None:
    """A Kubernetes deployment's record names its serve config; its Service answers inside
    the cluster, so bench run measures it through --url (here: the stand-in on this engine
    plays the forwarded Service) and the rows land on the record's config."""
    from types import SimpleNamespace

    from sqlalchemy.orm import Session

    from aim_catalog.launch.deployments import Status, set_status
    from aim_catalog.launch.targets.kubernetes.records import record

    port = free_port()
    launch("--name", "forwarded", gpus="1", port=port)  # plays `kubectl port-forward service/kube-q`
    config = next(d for d in json.loads(cli("ps", "--json").stdout) if d["name"] == "forwarded")
    engine = db.make_engine(f"sqlite:///{tmp_path / 'data' / 'aim-catalog' / 'catalog.db'}")
    with Session(engine) as session, session.begin():
        serve_config = session.execute(
            db_text("SELECT serve_config_id FROM deployments WHERE name = 'forwarded'")
        ).scalar_one()
        candidate = SimpleNamespace(
            serve_config_id=serve_config, recipe_id=RECIPE, huggingface_id=MODEL, backend="vllm", gpu_count=1
        )
        key = record(
            session, name="kube-q", target="kubernetes", server="https://kube.example:6443", context="ctx",
            namespace="default", objects=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": "kube-q",
            "uid": "0b7f"}], candidate=candidate, image=IMAGE, port=8000, spec={},
        )  # fmt: skip
        set_status(session, key, Status.RUNNING)
    engine.dispose()
    assert config["name"] == "forwarded"
    refused = cli("bench", "run", "kube-q", *SCENARIO, code=2)
    assert "kubectl port-forward service/kube-q 8000:8000" in refused.stderr
    image = cli("bench", "run", "kube-q", "--url", f"http://127.0.0.1:{port}", "--client", "image", code=2)
    assert "--client image runs the backend's own client inside a local Docker deployment" in image.stderr
    url = f"http://127.0.0.1:{port}/v1"
    out = json.loads(
        cli(
            "bench",
            "run",
            "kube-q",
            "--url",
            url,
            "--concurrency",
            "1",
            "--requests",
            "2",
            *SCENARIO,
            "--json",
        ).stdout
    )
    (row,) = measured(tmp_path)
    assert row["id"] in out["rows"] and row["serve_config_id"] == serve_config
    assert row["source"].startswith("aim-catalog bench run kube-q (aim-catalog builtin ")
    assert row["gpu_model"] is None  # a cluster's GPUs are not this host's


@pytest.mark.docker
def test_parallel_measures_configs_side_by_side_on_their_own_gpus_and_ports(
    docker_env: Any, tmp_path: Path
) -> None:
    """--parallel on the fake 8-GPU host: the two 1-GPU configs fit one wave, so both run at
    once (each deployment starts before the other is stopped), on ports --port and --port + 1,
    on different GPUs (the launch lock serialises the allocation)."""
    port = free_port()
    sweep = SWEEP
    run = ("--client", "builtin", "--concurrency", "1", "--requests", "2", *SCENARIO)
    found = json.loads(
        cli(*sweep, *run, "--image", IMAGE, "--port", str(port), "--parallel", "--json").stdout
    )
    assert sorted((c["backend"], c["outcome"]) for c in found["configs"]) == BOTH_MEASURED
    assert mine(docker_env, tmp_path) == []
    rows = {d["backend"]: d for d in deployments(tmp_path)}
    assert sorted(d["port"] for d in rows.values()) == [port, port + 1]
    assert set(json.loads(rows["vllm"]["gpus"])).isdisjoint(json.loads(rows["sglang"]["gpus"]))
    a, b = rows["vllm"], rows["sglang"]
    assert a["created_at"] < b["updated_at"] and b["created_at"] < a["updated_at"]  # lifetimes overlap
    assert {r["backend"] for r in measured(tmp_path)} == {"vllm", "sglang"}
