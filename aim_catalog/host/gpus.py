"""Detect AMD Instinct GPUs from the KFD topology in sysfs.

Each ``/sys/class/kfd/kfd/topology/nodes/<n>/properties`` file is ``key value`` lines;
CPU nodes have ``gfx_target_version 0``. The root is ``AIM_CATALOG_SYSFS_ROOT`` (default
``/``) so tests can point it at a fake tree.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from aim_catalog.settings import sysfs_root

log = logging.getLogger(__name__)

TOPOLOGY = Path("sys/class/kfd/kfd/topology/nodes")

# PCI device id -> product; more precise than the gfx target, which several parts share.
# Every Instinct id of amdgpu.ids as AMD's node labeller ships it (ROCm/k8s-device-plugin
# d1e5049d, cmd/k8s-node-labeller/amdgpu.ids, libdrm's list), virtual (VF: SR-IOV guests)
# and HF functions included: a node's amd.com/gpu.device-id label is whichever id its
# sysfs shows, so a product's node affinity (kube/render.py) needs all of them.
# MI308X is its own product (fewer compute units than an MI300X): not MI300X's recipes.
DEVICE_IDS = {
    0x738C: "MI100",
    0x738E: "MI100",
    0x7408: "MI250X",
    0x740C: "MI250X",  # amdgpu.ids: "AMD Instinct MI250X / MI250"
    0x740F: "MI210",
    0x74A0: "MI300A",
    0x74A1: "MI300X",
    0x74A9: "MI300X",  # MI300X HF
    0x74B5: "MI300X",  # MI300X VF
    0x74BD: "MI300X",  # MI300X HF
    0x74A2: "MI308X",
    0x74A8: "MI308X",  # MI308X HF
    0x74B6: "MI308X",
    0x74BC: "MI308X",  # MI308X HF VF
    0x74A5: "MI325X",
    0x74B9: "MI325X",  # MI325X VF
    0x75A0: "MI350X",
    0x75B0: "MI350X",  # MI350X VF
    0x75A3: "MI355X",
    0x75B3: "MI355X",  # MI355X VF
}
# Product -> the GPU architecture (gfx target) it is built on: what decides which images run
# on it (images.py). Several products share one (MI350X and MI355X are both gfx950).
ARCHITECTURES = {
    "MI100": "gfx908",
    "MI210": "gfx90a",
    "MI250X": "gfx90a",
    "MI300A": "gfx942",
    "MI300X": "gfx942",
    "MI308X": "gfx942",
    "MI325X": "gfx942",
    "MI350X": "gfx950",
    "MI355X": "gfx950",
}
# gfx target -> the product to assume when the device id is unknown.
GFX_FAMILIES = {"gfx908": "MI100", "gfx90a": "MI250X", "gfx942": "MI300X", "gfx950": "MI355X"}
_INTEGER = re.compile(r"-?[0-9]{1,12}")


def gfx_name(target_version: int) -> str:
    """KFD's gfx_target_version (major*10000 + minor*100 + stepping) as LLVM names it."""
    major, minor, stepping = target_version // 10000, target_version // 100 % 100, target_version % 100
    return f"gfx{major}{minor:x}{stepping:x}"


@dataclass(frozen=True)
class Gpu:
    index: int  # position among GPU nodes, as ROCm numbers devices
    node: int
    gfx_target_version: int
    gfx: str
    device_id: int
    model: str
    render_minor: int | None  # /dev/dri/renderD<minor>


def _properties(path: Path) -> dict[str, int]:
    props: dict[str, int] = {}
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 2 and _INTEGER.fullmatch(parts[1]):
            props[parts[0]] = int(parts[1])
    return props


def detect_gpus(root: Path | None = None) -> list[Gpu]:
    """AMD GPUs in the KFD topology, in node order; empty when there is none (or no KFD)."""
    base = (root or sysfs_root()) / TOPOLOGY
    try:
        nodes = sorted((p for p in base.iterdir() if _INTEGER.fullmatch(p.name)), key=lambda p: int(p.name))
    except OSError:
        return []
    gpus: list[Gpu] = []
    for node in nodes:
        try:
            props = _properties(node / "properties")
        except OSError as exc:
            log.debug("skipping KFD node %s: %s", node, exc)
            continue
        target = props.get("gfx_target_version", 0)
        if target == 0:
            continue  # a CPU node
        gfx = gfx_name(target)
        family = GFX_FAMILIES.get(gfx, gfx)
        device = props.get("device_id", 0)
        gpus.append(
            Gpu(
                index=len(gpus),
                node=int(node.name),
                gfx_target_version=target,
                gfx=gfx,
                device_id=device,
                model=DEVICE_IDS.get(device, family),
                render_minor=props.get("drm_render_minor"),
            )
        )
    return gpus


def host_model(gpus: list[Gpu]) -> str | None:
    """The hardware name recipes are matched against: the most common GPU model."""
    if not gpus:
        return None
    counts = Counter(g.model for g in gpus)
    if len(counts) > 1:
        log.warning("mixed GPU models on this host: %s", dict(counts))
    return counts.most_common(1)[0][0]
