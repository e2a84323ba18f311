"""Issue 8, launch side: interrupted creates, recipe env and flags, secrets, the launch lock,
control characters. Docker cases use the real engine and the fake server image of
test_launch.py; the rest need no Docker.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from support.launch import (
    IMAGE,
    MODEL,
    RECIPE,
    catalog_url,
    cli,
    deployments,
    free_port,
    mine,
    set_config,
    write,
)

from aim_catalog.launch.targets.docker import engine as launcher
from aim_catalog.launch.targets.docker import lock as launch_lock
from aim_catalog.launch.targets.docker import logs as container_logs
from aim_catalog.storage import db

# --------------------------------------------------------------------------- point 8: recipe env


@pytest.mark.parametrize(
    "name",
    [
        "HF_ENDPOINT",
        "HTTPS_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "PATH",
        "PYTHONPATH",
    ],
)
def test_recipes_may_not_redirect_traffic_or_the_loader(tmp_path: Path, host: Path, name: str) -> None:
    path = write(tmp_path, f"    env:\n      VLLM_ROCM_USE_AITER: '1'\n      {name}: http://evil.example\n")
    result = cli("validate", str(path), code=4)
    assert f"{path}:11:7: vllm_serve.4_gpu.env.{name}: {name} " in result.stderr
    assert "a recipe may not set it" in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_named_variables_are_refused_in_recipes_but_tokenizers_is_not(
    tmp_path: Path, host: Path
) -> None:
    path = write(tmp_path, "    env:\n      HUGGING_FACE_HUB_TOKEN: x\n      VLLM_API_KEY: y\n")
    err = cli("validate", str(path), code=4).stderr
    assert "env.HUGGING_FACE_HUB_TOKEN: HUGGING_FACE_HUB_TOKEN looks like a secret" in err
    assert "env.VLLM_API_KEY: VLLM_API_KEY looks like a secret" in err
    cli("validate", str(write(tmp_path, "    env:\n      TOKENIZERS_PARALLELISM: 'false'\n")))


def test_a_catalog_row_with_a_denied_variable_is_not_launched(tmp_path: Path, host: Path) -> None:
    set_config(tmp_path, env={"HF_ENDPOINT": "https://evil.example"})
    result = cli("launch", MODEL, "1", "--dry-run", code=4)
    assert "env.HF_ENDPOINT: HF_ENDPOINT redirects model downloads" in result.stderr
    assert RECIPE in result.stderr and "docker run" not in result.stdout


def test_launch_names_the_registry_and_warns_outside_the_trusted_ones(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = json.loads(cli("launch", MODEL, "1", "--dry-run", "--json").stdout)
    assert (spec["registry"], spec["trusted_registry"]) == ("docker.io/rocm", True)
    result = cli("launch", MODEL, "1", "--dry-run", "--image", "ghcr.io/someone/vllm:1")
    assert "(registry ghcr.io/someone: NOT a trusted registry)" in result.stdout
    assert "warning: image ghcr.io/someone/vllm:1 comes from ghcr.io/someone" in result.stderr
    monkeypatch.setenv("AIM_CATALOG_TRUSTED_REGISTRIES", "ghcr.io/someone, rocm")
    result = cli("launch", MODEL, "1", "--dry-run", "--image", "ghcr.io/someone/vllm:1")
    assert "warning" not in result.stderr and "(registry ghcr.io/someone: trusted)" in result.stdout
    result = cli("launch", MODEL, "1", "--dry-run", "--image", "vllm/vllm-openai:v0.11.0")
    assert "warning: image vllm/vllm-openai:v0.11.0 comes from docker.io/vllm" in result.stderr


# --------------------------------------------------------------------------- point 9: secrets


def test_every_secret_named_variable_is_masked_in_a_dry_run(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = ("--env", "HUGGING_FACE_HUB_TOKEN=hf_hub_secret_value", "--env", "PLAIN=1")
    result = cli("launch", MODEL, "1", "--dry-run", "--json", *given)
    spec = json.loads(result.stdout)
    assert spec["env"]["HUGGING_FACE_HUB_TOKEN"] == "***" and spec["env"]["PLAIN"] == "1"
    argv = shlex.split(spec["docker_run"])
    assert argv[argv.index("HUGGING_FACE_HUB_TOKEN") - 1] == "-e" and "PLAIN=1" in argv
    assert "hf_hub_secret_value" not in result.stdout + result.stderr
    human = cli("launch", MODEL, "1", "--dry-run", "--env", "DB_PASSWORD=pw_secret_value")
    assert "pw_secret_value" not in human.stdout + human.stderr and "DB_PASSWORD=***" in human.stdout
    # --env NAME passes NAME from this environment: the value never is on a command line
    monkeypatch.setenv("VLLM_API_KEY", "vk_from_the_environment")
    result = cli("launch", MODEL, "1", "--dry-run", "--json", "--env", "VLLM_API_KEY")
    assert json.loads(result.stdout)["env"]["VLLM_API_KEY"] == "***"
    assert "vk_from_the_environment" not in result.stdout + result.stderr


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


# --------------------------------------------------------------------------- point 11: flags, escapes


def test_flag_keys_with_an_equals_sign_are_split_at_validation(tmp_path: Path, host: Path) -> None:
    from aim_catalog.recipes.files import parse_file

    path = write(tmp_path, "    args:\n      --port=9999: null\n      --max-model-len=8192: true\n")
    recipe, problems = parse_file(path)
    assert problems == [] and recipe is not None
    assert recipe.serve_configs[0].args == {"--port": "9999", "--max-model-len": "8192"}
    tp = write(tmp_path, "    args:\n      --tensor-parallel-size=64:\n")
    err = cli("validate", str(tp), code=4).stderr
    assert f"{tp}:10:7: vllm_serve.4_gpu.args.--tensor-parallel-size=64: tensor x pipeline" in err
    both = write(tmp_path, "    args:\n      --model=other/model: org/m\n")
    err = cli("validate", str(both), code=4).stderr
    assert (
        f"{both}:10:7: vllm_serve.4_gpu.args.--model=other/model: '--model=other/model' carries a value"
        in err
    )


def test_the_launcher_splits_flag_keys_of_older_catalog_rows(tmp_path: Path, host: Path) -> None:
    set_config(tmp_path, args={"--port=9999": None, f"--model={MODEL}": None, "--dtype": "bfloat16"})
    spec = json.loads(cli("launch", MODEL, "1", "--dry-run", "--json").stdout)
    assert spec["command"] == [
        "vllm", "serve", MODEL, "--dtype", "bfloat16", "--tensor-parallel-size", "1",
        "--host", "0.0.0.0", "--port", "8000",
    ]  # fmt: skip
    set_config(tmp_path, args={"--tensor-parallel-size=64": None})
    assert "64 x 1 = 64 needs more than the 1 GPU(s)" in cli("launch", MODEL, "1", "--dry-run", code=2).stderr


def test_control_characters_from_a_catalog_are_escaped_in_human_output(tmp_path: Path, host: Path) -> None:
    hostile = "\x1b]0;owned\x07\x1b[31mred\x9b2J"
    set_config(tmp_path, args={"--served-model-name": hostile})
    for args in (("select", MODEL, "1"), ("launch", MODEL, "1", "--dry-run")):
        result = cli(*args)
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\x9b" not in result.stdout
        assert "\\x1b]0;owned\\x07\\x1b[31mred\\x9b2J" in result.stdout
    spec = cli("launch", MODEL, "1", "--dry-run", "--json").stdout  # JSON escapes them too
    assert "\x1b" not in spec and "\x9b" not in spec and json.loads(spec)["command"][-7] == hostile


def test_explain_escapes_control_characters_of_the_catalog(tmp_path: Path, host: Path) -> None:
    cli("list-recipes")
    engine = db.make_engine(catalog_url(tmp_path))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE recipes SET hardware = :h WHERE recipe_id = :r"), {"h": "MI3\x1b[31mX", "r": RECIPE}
        )
    engine.dispose()
    result = cli("explain", MODEL, "4", "--hardware", "MI300X", code=None)
    assert "\x1b" not in result.stdout + result.stderr
    assert "recipe is for MI3\\x1b[31mX" in result.stdout


# --------------------------------------------------------------------------- point 7: interrupted create


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


# --------------------------------------------------------------------------- point 10: the launch lock


def lock_path(client: Any) -> Path:
    import hashlib

    key = launcher.identify(client).key
    return launch_lock.lock_dir() / f"launch-{hashlib.sha256(key.encode()).hexdigest()[:16]}.lock"


@pytest.mark.docker
def test_the_launch_lock_is_private_and_time_limited(
    docker_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("AIM_CATALOG_LAUNCH_LOCK_TIMEOUT", "1")
    path = lock_path(docker_env)
    assert path.parent == runtime / "aim-catalog"
    with open(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+b") as held:  # another launch holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(b"pid 4242, since 12:00:00")
        held.flush()
        argv = [str(Path(sys.executable).parent / "aim-catalog"), "launch", MODEL, "1", "--image", IMAGE]
        proc = subprocess.run(argv, env=dict(os.environ), capture_output=True, text=True, timeout=60)
        # It gave up on the lock after the 1 s limit (not after a launch): the message says so.
        assert proc.returncode == 5, proc.stderr
        assert "holds the launch lock (held by pid 4242, since 12:00:00)" in proc.stderr
        assert "within 1s" in proc.stderr and "nothing was started" in proc.stderr
        assert "is ready after" not in proc.stdout + proc.stderr
        # the image is pulled before the lock is taken: a missing image fails at once, not after the wait
        missing = subprocess.run(
            [*argv[:-1], "aim-catalog-test/not-built:0"],
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (
            "not present and cannot be pulled" in missing.stderr
            and "holds the launch lock" not in missing.stderr
        )
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert mine(docker_env, tmp_path) == []
    cli("launch", MODEL, "1", "--image", IMAGE, "--port", str(free_port()), "--no-wait")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_lock_directory_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to create a directory owned by another user")
    runtime = tmp_path / "run"
    (runtime / "aim-catalog").mkdir(parents=True)
    os.chown(runtime / "aim-catalog", 65534, 65534)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    from aim_catalog.errors import EnvironmentProblem

    with pytest.raises(EnvironmentProblem, match="is not a directory of yours"):
        launch_lock.lock_dir()


@pytest.mark.docker
def test_a_gpu_taken_by_a_launch_outside_the_lock_is_given_up(
    docker_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's launch (their own lock) creates a container on GPU 0 between our
    allocation and our create: the later container gives the GPU up and is removed."""
    real = launcher.create
    rival_labels = {
        "aim-catalog.managed": "true",
        "aim-catalog.gpus": "0",
        "aim-catalog.catalog": f"another user's catalog {tmp_path}",
    }

    def rival_first(client: Any, spec: Any) -> Any:
        client.containers.create(IMAGE, ["sleep", "600"], name="rival", labels=rival_labels)
        return real(client, spec)

    monkeypatch.setattr(launcher, "create", rival_first)
    result = cli("launch", MODEL, "1", "--gpus", "0", "--image", IMAGE, "--port", str(free_port()), code=5)
    assert "GPU(s) taken at the same moment by another launch: rival (GPU 0)" in result.stderr
    assert "the container was removed" in result.stderr
    assert [c.name for c in mine(docker_env, tmp_path)] == ["rival"]  # theirs stays, ours is gone
    assert deployments(tmp_path) == []
