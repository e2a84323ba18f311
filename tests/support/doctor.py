"""`aim-catalog doctor` in-process, its JSON read back, and the fake GPU host it checks.

The fake KFD topology follows the kernel's sysfs files (drivers/gpu/drm/amd/amdkfd/
kfd_topology.c): ``nodes/<n>/properties`` and ``nodes/<n>/mem_banks/<m>/properties`` with
``heap_type`` (1 = public frame buffer, kfd_topology.h) and ``size_in_bytes``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from aim_catalog.cli import app
from support.host import make_fake_host

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
    containers = client.containers.list(
        all=True, filters={"label": "aim-catalog.doctor=true"}, ignore_removed=True
    )
    images = [i for i in client.images.list() if any("aim-catalog-doctor-probe" in t for t in i.tags)]
    return containers + images
