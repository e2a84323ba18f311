"""`aim-catalog doctor` on fake hosts (sysfs + mknod device nodes) and the real Docker engine.

The fake KFD topology follows the kernel's sysfs files (drivers/gpu/drm/amd/amdkfd/
kfd_topology.c): ``nodes/<n>/properties`` and ``nodes/<n>/mem_banks/<m>/properties`` with
``heap_type`` (1 = public frame buffer, kfd_topology.h) and ``size_in_bytes``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from support.host import make_fake_host
from support.services import missing_service
from typer.testing import CliRunner

from aim_catalog.cli import app
from aim_catalog.storage import db

VRAM = 192 * 2**30  # an MI300X's HBM


def fake_gpu_host(root: Path, gpus: int = 8) -> None:
    """make_fake_host (KFD nodes + /dev nodes) plus the amdgpu module and VRAM banks."""
    make_fake_host(root, gpus=gpus)
    (root / "sys/module/amdgpu").mkdir(parents=True)
    for node in range(1, gpus + 1):
        bank = root / f"sys/class/kfd/kfd/topology/nodes/{node}/mem_banks/0"
        bank.mkdir(parents=True)
        bank.joinpath("properties").write_text(
            f"heap_type 1\nsize_in_bytes {VRAM}\nflags 0\nwidth 8192\nmem_clk_max 1300\n"
        )


@pytest.fixture
def engine_client() -> Any:
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        missing_service(f"Docker engine: {exc}")
    return client


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "host"
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(root))
    monkeypatch.setenv("AIM_CATALOG_DEV_ROOT", str(root))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("AIM_CATALOG_DB_URL", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return root


def doctor(*args: str, code: int, db_url: str | None = None) -> Any:
    result = CliRunner().invoke(app, [*(["--db", db_url] if db_url else []), "doctor", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def by_name(result: Any) -> dict[str, dict[str, Any]]:
    data = json.loads(result.stdout)
    return {c["name"]: c for c in data["checks"]}


def probes_left(client: Any) -> list[Any]:
    containers = client.containers.list(all=True, filters={"label": "aim-catalog.doctor=true"})
    images = [i for i in client.images.list() if any("aim-catalog-doctor-probe" in t for t in i.tags)]
    return containers + images


@pytest.mark.docker
def test_a_ready_host_passes_every_check(
    env: Path, engine_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_gpu_host(env)
    monkeypatch.setenv("HF_TOKEN", "hf_doctor_secret_value")
    text = doctor("--min-free-gb", "0", code=0)
    lines = text.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "✅ driver",
        "✅ devices",
        "✅ gpus",
        "✅ docker",
        "✅ containers",
        "✅ catalog",
        "✅ hf_token",
        "✅ disk",
    ]
    assert lines[-1] == "8 checks: 8 passed, 0 failed"
    assert "✅ gpus: 8 x MI300X (gfx942, 192 GiB VRAM each)" in lines
    assert "✅ containers: a container gets /dev/kfd and 8 render node(s)" in lines
    version = engine_client.version()["Version"]
    assert any(line.startswith(f"✅ docker: Docker engine {version} (API ") for line in lines)
    assert "hf_doctor_secret_value" not in text.stdout + text.stderr

    checks = by_name(doctor("--min-free-gb", "0", "--json", code=0))
    assert json.loads(doctor("--min-free-gb", "0", "--json", code=0).stdout)["ok"] is True
    gpus = checks["gpus"]["data"]
    assert gpus["count"] == 8
    assert gpus["gpus"][0] == {
        "index": 0,
        "model": "MI300X",
        "gfx": "gfx942",
        "device_id": "0x74a1",
        "vram_bytes": VRAM,
        "render_node": "renderD128",
    }
    devices = checks["devices"]["data"]
    assert devices["kfd"] == str(env / "dev/kfd") and len(devices["render_nodes"]) == 8
    assert set(devices["groups"]) == {"video", "render"}
    assert checks["docker"]["data"]["version"] == version
    assert checks["catalog"]["summary"].endswith("not created yet: the first command creates and fills it")
    assert checks["hf_token"]["data"] == {"set": True}
    assert checks["disk"]["data"]["hf_home"] == str(Path(os.environ["HF_HOME"]))
    assert probes_left(engine_client) == []  # the probe container and image are removed


def test_a_bare_host_fails_with_a_fix_per_line(
    env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")  # nothing listens there
    result = doctor("--min-free-gb", "1e8", code=1)  # 100 PB wanted
    lines = result.stdout.splitlines()
    assert lines[0] == f"❌ driver: amdgpu driver not loaded ({env}/sys/module/amdgpu missing)"
    assert (
        lines[1] == "   fix: install the ROCm kernel driver (amdgpu-dkms) and load it: sudo modprobe amdgpu"
    )
    assert f"❌ devices: {env}/dev/kfd not found" in lines
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


def test_driver_without_kfd_and_devices_missing(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (env / "sys/module/amdgpu").mkdir(parents=True)
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    checks = by_name(doctor("--json", code=1))
    assert checks["driver"]["summary"].startswith("amdgpu is loaded but the KFD topology is missing")
    assert "dmesg" in checks["driver"]["fix"]


@pytest.mark.docker
def test_a_device_the_engine_cannot_map_fails_the_container_check(
    env: Path, engine_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_gpu_host(env, gpus=2)
    node = env / "dev/dri/renderD129"
    node.unlink()
    node.write_text("")  # a plain file where a device node should be: the engine refuses it
    checks = by_name(doctor("--min-free-gb", "0", "--json", code=1))
    container = checks["containers"]
    assert container["status"] == "fail"
    assert container["summary"].startswith("the engine cannot start a container with the GPU devices: ")
    assert "renderD129" in container["summary"]
    assert probes_left(engine_client) == []


def test_devices_the_user_cannot_open_name_their_group(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked as a user outside video/render: doctor runs as 'nobody' (setpriv)."""
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        missing_service("root and setpriv are needed to run doctor as another user")
    fake_gpu_host(env, gpus=1)
    for node in (env / "dev/kfd", env / "dev/dri/renderD128"):
        os.chown(node, 0, 44)
        node.chmod(0o660)
    opened = {p: p.stat().st_mode for p in [env, *env.parents] if p != Path("/")}
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
    assert f"cannot open {env}/dev/kfd (group video=44, mode 660)" in devices["summary"]
    assert "mode 660" in devices["summary"] and "you are in neither" in devices["summary"]
    assert devices["fix"].startswith(
        "add yourself to the groups owning the nodes: sudo usermod -aG video,render"
    )
    assert devices["data"]["your_gids"] == [65534]


def test_the_catalog_check_on_each_dialect(env: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty, behind, at head: the revision is read, never migrated."""
    from aim_catalog.errors import redact

    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    shown = redact(db_url)

    def catalog() -> dict[str, Any]:
        return by_name(doctor("--json", code=1, db_url=db_url))["catalog"]

    if db_url.startswith("sqlite:///"):  # an empty database (no file at all: "no catalog at")
        Path(db_url[len("sqlite:///") :]).touch()
    empty = catalog()
    assert (empty["status"], empty["data"]["revision"]) == ("fail", None)
    assert empty["summary"] == f"{shown} is at schema revision none, this version needs {db.HEAD_REVISION}"
    engine = db.make_engine(db_url)
    db.upgrade(engine, "0006")
    behind = catalog()
    assert behind["summary"] == f"{shown} is at schema revision 0006, this version needs {db.HEAD_REVISION}"
    assert behind["fix"] == "run `aim-catalog db upgrade`"
    with engine.connect() as conn:
        assert db.current_revision(conn) == "0006"  # doctor did not migrate it
    db.upgrade(engine)
    engine.dispose()
    head = catalog()
    assert (head["status"], head["summary"]) == ("pass", f"{shown} opens, schema revision {db.HEAD_REVISION}")


def test_an_unreachable_catalog_hides_its_password(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    result = doctor("--json", code=1, db_url="postgresql://aim:secret_pw@127.0.0.1:1/none")
    catalog = by_name(result)["catalog"]
    assert catalog["status"] == "fail" and "127.0.0.1:1" in catalog["summary"]
    assert "secret_pw" not in result.stdout + result.stderr


def test_a_password_in_docker_host_is_never_shown(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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
