"""Fake GPU hosts: a KFD sysfs topology (what AIM_CATALOG_SYSFS_ROOT points at) and, for
launches, matching device nodes (what AIM_CATALOG_DEV_ROOT points at)."""

from __future__ import annotations

import os
from pathlib import Path

from support.services import missing_service

N_GPUS = 8


def fake_kfd_sysfs(root: Path, gpus: int, *, target: int, device_id: int) -> Path:
    """A KFD topology under ``root`` (what AIM_CATALOG_SYSFS_ROOT points at): node 0 the CPU,
    then ``gpus`` GPUs of one gfx ``target`` and PCI ``device_id``, render minors from 128."""
    nodes = root / "sys/class/kfd/kfd/topology/nodes"
    for n in range(gpus + 1):
        (nodes / str(n)).mkdir(parents=True)
        props = (
            "gfx_target_version 0\n"
            if n == 0
            else f"gfx_target_version {target}\ndevice_id {device_id}\ndrm_render_minor {127 + n}\n"
        )
        (nodes / str(n) / "properties").write_text(props)
    return root


def make_fake_host(root: Path, gpus: int = N_GPUS, device_id: int = 0x74A1) -> None:
    """KFD sysfs with ``gpus`` GPUs (node 0 is the CPU) and matching device nodes."""
    nodes = root / "sys/class/kfd/kfd/topology/nodes"
    (nodes / "0").mkdir(parents=True)
    (nodes / "0" / "properties").write_text("cpu_cores_count 64\ngfx_target_version 0\n")
    (root / "dev" / "dri").mkdir(parents=True)
    try:
        os.mknod(root / "dev" / "kfd", 0o666 | 0o020000, os.makedev(235, 0))
        for i in range(gpus):
            os.mknod(root / "dev" / "dri" / f"renderD{128 + i}", 0o666 | 0o020000, os.makedev(226, 128 + i))
    except PermissionError:
        missing_service("root is needed to create fake device nodes (mknod)")
    for i in range(gpus):
        (nodes / str(i + 1)).mkdir()
        (nodes / str(i + 1) / "properties").write_text(
            f"gfx_target_version 90402\ndevice_id {device_id}\ndrm_render_minor {128 + i}\n"
        )
