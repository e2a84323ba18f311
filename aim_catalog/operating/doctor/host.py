"""The host's side: the amdgpu driver (sysfs), the device nodes in /dev, the GPUs and VRAM."""

from __future__ import annotations

import grp
import os
from pathlib import Path
from typing import Any

from aim_catalog.host.gpus import TOPOLOGY, Gpu, detect_gpus
from aim_catalog.operating.doctor.check import FAIL, PASS, Check
from aim_catalog.settings import sysfs_root

# Heap types of a KFD memory bank (kfd_topology.h): 1 = public frame buffer, 2 = private.
VRAM_HEAPS = (1, 2)


def check_driver(root: Path | None = None) -> Check:
    base = root or sysfs_root()
    module = base / "sys/module/amdgpu"
    topology = base / TOPOLOGY
    data = {"module": str(module), "topology": str(topology)}
    if not module.is_dir():
        return Check(
            "driver",
            FAIL,
            f"amdgpu driver not loaded ({module} missing)",
            "install the ROCm kernel driver (amdgpu-dkms) and load it: sudo modprobe amdgpu",
            data,
        )
    if not topology.is_dir():
        return Check(
            "driver",
            FAIL,
            f"amdgpu is loaded but the KFD topology is missing ({topology})",
            "the compute (KFD) part did not start: check `sudo dmesg | grep -i kfd`",
            data,
        )
    return Check("driver", PASS, "amdgpu driver loaded, KFD topology present", data=data)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _gid(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def check_devices(dev: Path | None = None) -> Check:
    from aim_catalog.settings import dev_root

    base = (dev or dev_root()) / "dev"
    kfd = base / "kfd"
    renders = sorted((base / "dri").glob("renderD*"), key=lambda p: p.name)
    nodes = [kfd, *renders] if kfd.exists() else renders
    my_gids = set(os.getgroups()) | {os.getegid()}
    groups = {name: _gid(name) for name in ("video", "render")}
    data: dict[str, Any] = {
        "kfd": str(kfd),
        "render_nodes": [str(p) for p in renders],
        "groups": groups,
        "your_gids": sorted(my_gids),
        "unusable": [],
    }
    shown_groups = ", ".join(f"{n}={g if g is not None else 'none'}" for n, g in groups.items())
    member = [n for n, g in groups.items() if g is not None and g in my_gids]
    if not kfd.exists() or not renders:
        missing = str(kfd) if not kfd.exists() else f"{base / 'dri'}/renderD*"
        return Check(
            "devices",
            FAIL,
            f"{missing} not found",
            "load the amdgpu driver (ROCm) so /dev/kfd and /dev/dri/renderD* exist",
            data,
        )
    unusable = []
    for node in nodes:
        if not os.access(node, os.R_OK | os.W_OK):
            stat = node.stat()
            unusable.append(
                f"{node} (group {_group_name(stat.st_gid)}={stat.st_gid}, mode {stat.st_mode & 0o777:o})"
            )
    data["unusable"] = unusable
    you = f"you are in {', '.join(member)}" if member else "you are in neither"
    if os.geteuid() == 0:
        you = "running as root"
    if unusable:
        return Check(
            "devices",
            FAIL,
            f"cannot open {', '.join(unusable)}; groups {shown_groups}; {you}",
            "add yourself to the groups owning the nodes: "
            "sudo usermod -aG video,render $USER, then log in again",
            data,
        )
    return Check(
        "devices",
        PASS,
        f"{kfd} and {len(renders)} render node(s) can be opened (groups {shown_groups}; {you})",
        data=data,
    )


def vram_bytes(gpu: Gpu, root: Path | None = None) -> int | None:
    """The GPU's frame buffer from its KFD memory banks (``size_in_bytes`` of VRAM heaps)."""
    banks = (root or sysfs_root()) / TOPOLOGY / str(gpu.node) / "mem_banks"
    total = 0
    try:
        bank_dirs = list(banks.iterdir())
    except OSError:
        return None
    for bank in bank_dirs:
        props: dict[str, int] = {}
        try:
            for line in (bank / "properties").read_text(errors="replace").splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1].isdigit():
                    props[parts[0]] = int(parts[1])
        except OSError:
            continue
        if props.get("heap_type") in VRAM_HEAPS:
            total += props.get("size_in_bytes", 0)
    return total or None


def check_gpus(root: Path | None = None) -> Check:
    gpus = detect_gpus(root)
    if not gpus:
        return Check(
            "gpus",
            FAIL,
            "no AMD GPU in the KFD topology",
            "check that the GPUs are visible (`lspci | grep -i amd`) "
            "and the driver bound them (`sudo dmesg | grep amdgpu`)",
            {"count": 0, "gpus": []},
        )
    listed = [
        {
            "index": g.index,
            "model": g.model,
            "gfx": g.gfx,
            "device_id": f"0x{g.device_id:04x}",
            "vram_bytes": vram_bytes(g, root),
            "render_node": f"renderD{g.render_minor}" if g.render_minor is not None else None,
        }
        for g in gpus
    ]
    kinds: dict[tuple[str, str, int | None], int] = {}
    for gpu in gpus:
        key = (gpu.model, gpu.gfx, vram_bytes(gpu, root))
        kinds[key] = kinds.get(key, 0) + 1
    parts = []
    for (model, gfx, vram), count in kinds.items():
        memory = f", {vram / 2**30:.0f} GiB VRAM each" if vram else ", VRAM unknown"
        parts.append(f"{count} x {model} ({gfx}{memory})")
    return Check("gpus", PASS, "; ".join(parts), data={"count": len(gpus), "gpus": listed})
