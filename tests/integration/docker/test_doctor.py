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
from support.doctor import VRAM, by_name, doctor, fake_gpu_host, probes_left


@pytest.mark.docker
def test_a_ready_host_passes_every_check(
    host_root: Path, docker_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_gpu_host(host_root)
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
    version = docker_client.version()["Version"]
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
    assert devices["kfd"] == str(host_root / "dev/kfd") and len(devices["render_nodes"]) == 8
    assert set(devices["groups"]) == {"video", "render"}
    assert checks["docker"]["data"]["version"] == version
    assert checks["catalog"]["summary"].endswith("not created yet: the first command creates and fills it")
    assert checks["hf_token"]["data"] == {"set": True}
    assert checks["disk"]["data"]["hf_home"] == str(Path(os.environ["HF_HOME"]))
    assert probes_left(docker_client) == []  # the probe container and image are removed


@pytest.mark.docker
def test_a_device_the_engine_cannot_map_fails_the_container_check(
    host_root: Path, docker_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_gpu_host(host_root, gpus=2)
    node = host_root / "dev/dri/renderD129"
    node.unlink()
    node.write_text("")  # a plain file where a device node should be: the engine refuses it
    checks = by_name(doctor("--min-free-gb", "0", "--json", code=1))
    container = checks["containers"]
    assert container["status"] == "fail"
    assert container["summary"].startswith("the engine cannot start a container with the GPU devices: ")
    assert "renderD129" in container["summary"]
    assert probes_left(docker_client) == []
