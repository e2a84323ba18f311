"""The launch lock: private and time-limited, and a GPU taken by a launch outside it is given
up (real Docker engine).
"""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.launch import IMAGE, MODEL, cli, deployments, free_port, mine

from aim_catalog.launch.targets.docker import engine as launcher
from aim_catalog.launch.targets.docker import lock as launch_lock

# --------------------------------------------------------------------------- the launch lock


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
