"""`aim-catalog doctor` on fake hosts (sysfs + mknod device nodes), no Docker engine needed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.doctor import by_name, doctor, fake_gpu_host
from support.launch import cli
from support.services import missing_service
from typer.testing import CliRunner

from aim_catalog.cli import app


def test_doctor_does_not_create_a_catalog(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'typo-dir' / 'c.db'}"
    result = cli("--db", url, "doctor", "--json", code=None)
    (check,) = [c for c in json.loads(result.stdout)["checks"] if c["name"] == "catalog"]
    assert check["status"] == "fail" and "no catalog at" in check["summary"]
    assert list(tmp_path.iterdir()) == []


def test_a_bare_host_fails_with_a_fix_per_line(
    host_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")  # nothing listens there
    result = doctor("--min-free-gb", "1e8", code=1)  # 100 PB wanted
    lines = result.stdout.splitlines()
    assert lines[0] == f"❌ driver: amdgpu driver not loaded ({host_root}/sys/module/amdgpu missing)"
    assert (
        lines[1] == "   fix: install the ROCm kernel driver (amdgpu-dkms) and load it: sudo modprobe amdgpu"
    )
    assert f"❌ devices: {host_root}/dev/kfd not found" in lines
    assert "❌ gpus: no AMD GPU in the KFD topology" in lines
    assert any(
        line.startswith("❌ docker: Docker engine unreachable at tcp://127.0.0.1:1: ") for line in lines
    )
    assert "-- containers: not checked: no Docker engine" in lines
    assert "⚠️  hf_token: HF_TOKEN is not set: gated models (Llama, ...) cannot be downloaded" in lines
    assert any(line.startswith("❌ disk: only ") and "(want 1e+08 GB" in line for line in lines)
    assert lines[-1] == "8 checks: 1 passed, 5 failed"  # the catalog passes
    for i, line in enumerate(lines[:-1]):
        if line.startswith(("❌", "⚠️")):
            assert lines[i + 1].startswith("   fix: "), line
    data = json.loads(doctor("--min-free-gb", "1e8", "--json", code=1).stdout)
    assert data["ok"] is False
    assert {c["name"]: c["status"] for c in data["checks"]} == {
        "driver": "fail",
        "devices": "fail",
        "gpus": "fail",
        "docker": "fail",
        "containers": "skip",
        "catalog": "pass",
        "hf_token": "warn",
        "disk": "fail",
    }


def test_driver_without_kfd_and_devices_missing(host_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (host_root / "sys/module/amdgpu").mkdir(parents=True)
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    checks = by_name(doctor("--json", code=1))
    assert checks["driver"]["summary"].startswith("amdgpu is loaded but the KFD topology is missing")
    assert "dmesg" in checks["driver"]["fix"]


def test_devices_the_user_cannot_open_name_their_group(
    host_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked as a user outside video/render: doctor runs as 'nobody' (setpriv)."""
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        missing_service("root and setpriv are needed to run doctor as another user")
    fake_gpu_host(host_root, gpus=1)
    for node in (host_root / "dev/kfd", host_root / "dev/dri/renderD128"):
        os.chown(node, 0, 44)
        node.chmod(0o660)
    opened = {p: p.stat().st_mode for p in [host_root, *host_root.parents] if p != Path("/")}
    for path, mode in opened.items():  # let nobody reach the tree, for the run only
        path.chmod(mode | 0o005)
    environ = dict(
        os.environ, DOCKER_HOST="tcp://127.0.0.1:1", XDG_DATA_HOME="/nonexistent", HOME="/nonexistent"
    )
    argv = [sys.executable, "-m", "aim_catalog", "doctor", "--json"]
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    try:
        done = subprocess.run(nobody, env=environ, capture_output=True, text=True, timeout=120)
    finally:
        for path, mode in opened.items():
            path.chmod(mode)
    assert done.returncode == 1, done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    devices = checks["devices"]
    assert devices["status"] == "fail"
    assert f"cannot open {host_root}/dev/kfd (group video=44, mode 660)" in devices["summary"]
    assert "mode 660" in devices["summary"] and "you are in neither" in devices["summary"]
    assert devices["fix"].startswith(
        "add yourself to the groups owning the nodes: sudo usermod -aG video,render"
    )
    assert devices["data"]["your_gids"] == [65534]


def test_an_unreachable_catalog_hides_its_password(host_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    result = doctor("--json", code=1, db_url="postgresql://aim:secret_pw@127.0.0.1:1/none")
    catalog = by_name(result)["catalog"]
    assert catalog["status"] == "fail" and "127.0.0.1:1" in catalog["summary"]
    assert "secret_pw" not in result.stdout + result.stderr


def test_a_password_in_docker_host_is_never_shown(host_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """doctor reaches the engine the way launch does (launcher.connect), which redacts the
    address: DOCKER_HOST may carry credentials (tcp://user:password@host)."""
    monkeypatch.setenv("DOCKER_HOST", "tcp://user:dockerpw_secret@127.0.0.1:1")  # nothing listens there
    human = doctor(code=1)
    data = doctor("--json", code=1)
    for result in (human, data):
        assert "dockerpw_secret" not in result.stdout + result.stderr
    assert "❌ docker: Docker engine unreachable at tcp://user:***@127.0.0.1:1: " in human.stdout
    assert by_name(data)["docker"]["data"] == {"docker_host": "tcp://user:***@127.0.0.1:1"}
    ps = CliRunner().invoke(app, ["ps"])  # and launch's commands say the same
    assert ps.exit_code == 1 and "dockerpw_secret" not in ps.stdout + ps.stderr
    assert "Docker engine unreachable at tcp://user:***@127.0.0.1:1" in ps.stderr
