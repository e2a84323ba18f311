"""GPU detection from a fake KFD topology tree (the layout of /sys/class/kfd on a ROCm host)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from aim_catalog.host.gpus import Gpu, detect_gpus, host_model
from aim_catalog.settings import SYSFS_ROOT_ENV

NODES = Path("sys/class/kfd/kfd/topology/nodes")

GFX942 = 90402  # MI300X / MI325X

GFX950 = 90500  # MI350X / MI355X

MI300X = 0x74A1  # 29857

MI325X = 0x74A5  # 29861

MI350X = 0x75A0

MI355X = 0x75A3

RENDER_BASE = 128  # /dev/dri/renderD128 is the first GPU

# The first lines of a real CPU node's properties on an MI300X host.

CPU_PROPERTIES = """\
cpu_cores_count 96
simd_count 0
mem_banks_count 1
caches_count 0
io_links_count 4
p2p_links_count 0
cpu_core_id_base 0
simd_id_base 0
max_waves_per_simd 0
gfx_target_version 0
vendor_id 0
device_id 0
location_id 0
drm_render_minor 0
"""


def gpu_properties(target: int, device_id: int, render_minor: int | None) -> str:
    lines = [
        "cpu_cores_count 0",
        "simd_count 1216",
        "mem_banks_count 1",
        f"gfx_target_version {target}",
        "vendor_id 4098",
        f"device_id {device_id}",
        "location_id 3072",
        "domain 0",
        "num_xcc 8",
        "max_engine_clk_fcompute 2100",
    ]
    if render_minor is not None:
        lines.append(f"drm_render_minor {render_minor}")
    return "\n".join(lines) + "\n"


def write_node(root: Path, node: int | str, properties: str | bytes) -> Path:
    directory = root / NODES / str(node)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "properties"
    if isinstance(properties, bytes):
        path.write_bytes(properties)
    else:
        path.write_text(properties)
    return path


def write_gpu(
    root: Path,
    node: int,
    device_id: int = MI300X,
    target: int = GFX942,
    render_minor: int | None = None,
) -> None:
    minor = RENDER_BASE + 8 * node if render_minor is None else render_minor
    write_node(root, node, gpu_properties(target, device_id, minor))


def mi300x_host(root: Path, gpus: int = 8) -> Path:
    """A CPU node 0 and GPU nodes 1..gpus, like an 8x MI300X server."""
    write_node(root, 0, CPU_PROPERTIES)
    for node in range(1, gpus + 1):
        write_gpu(root, node)
    return root


def test_no_kfd_directory_means_no_gpu(tmp_path: Path) -> None:
    assert detect_gpus(tmp_path) == []


def test_nodes_path_that_is_a_file_means_no_gpu(tmp_path: Path) -> None:
    (tmp_path / NODES).parent.mkdir(parents=True)
    (tmp_path / NODES).write_text("not a directory\n")
    assert detect_gpus(tmp_path) == []


def test_cpu_only_host_has_no_gpu(tmp_path: Path) -> None:
    write_node(tmp_path, 0, CPU_PROPERTIES)
    write_node(tmp_path, 1, CPU_PROPERTIES)  # a second socket
    assert detect_gpus(tmp_path) == []


def test_eight_mi300x(tmp_path: Path) -> None:
    gpus = detect_gpus(mi300x_host(tmp_path))
    assert len(gpus) == 8
    assert [g.index for g in gpus] == list(range(8))
    assert [g.node for g in gpus] == list(range(1, 9))
    assert [g.render_minor for g in gpus] == [128 + 8 * n for n in range(1, 9)]
    assert {g.model for g in gpus} == {"MI300X"}
    assert gpus[0] == Gpu(
        index=0,
        node=1,
        gfx_target_version=GFX942,
        gfx="gfx942",
        device_id=29857,
        model="MI300X",
        render_minor=136,
    )
    assert host_model(gpus) == "MI300X"


def test_nodes_are_ordered_numerically_not_as_text(tmp_path: Path) -> None:
    write_node(tmp_path, 0, CPU_PROPERTIES)
    for node in (11, 2, 10, 9, 1):
        write_gpu(tmp_path, node, render_minor=100 + node)
    gpus = detect_gpus(tmp_path)
    assert [g.node for g in gpus] == [1, 2, 9, 10, 11]
    assert [g.index for g in gpus] == [0, 1, 2, 3, 4]
    assert [g.render_minor for g in gpus] == [101, 102, 109, 110, 111]


def test_cpu_node_between_gpu_nodes_does_not_take_an_index(tmp_path: Path) -> None:
    write_gpu(tmp_path, 0)
    write_node(tmp_path, 1, CPU_PROPERTIES)
    write_gpu(tmp_path, 2)
    gpus = detect_gpus(tmp_path)
    assert [(g.index, g.node) for g in gpus] == [(0, 0), (1, 2)]


def test_non_numeric_entries_in_nodes_are_ignored(tmp_path: Path) -> None:
    mi300x_host(tmp_path, gpus=1)
    (tmp_path / NODES / "README").write_text("gfx_target_version 90402\n")
    write_node(tmp_path, "node3", gpu_properties(GFX942, MI300X, 200))
    assert [g.node for g in detect_gpus(tmp_path)] == [1]


@pytest.mark.parametrize(
    ("target", "device_id", "gfx", "model"),
    [
        (GFX942, MI300X, "gfx942", "MI300X"),
        (GFX942, MI325X, "gfx942", "MI325X"),
        (GFX942, 0x74A9, "gfx942", "MI300X"),
        (GFX942, 0x1234, "gfx942", "MI300X"),  # unknown id: the gfx942 family default
        (GFX942, 0, "gfx942", "MI300X"),
        (GFX950, MI350X, "gfx950", "MI350X"),
        (GFX950, MI355X, "gfx950", "MI355X"),
        (GFX950, 0x9999, "gfx950", "MI355X"),  # unknown id: the gfx950 family default
        (90010, 0x740F, "gfx90a", "MI210"),
        (90010, 0x9999, "gfx90a", "MI250X"),
        (110000, 0x744C, "gfx1100", "gfx1100"),  # unknown target: named as LLVM does
    ],
    ids=[
        "mi300x",
        "mi325x",
        "mi300x-vf",
        "gfx942-unknown-id",
        "gfx942-no-id",
        "mi350x",
        "mi355x",
        "gfx950-unknown-id",
        "mi210",
        "gfx90a-unknown-id",
        "unknown-target",
    ],
)
def test_model_from_device_id_and_gfx_target(
    tmp_path: Path, target: int, device_id: int, gfx: str, model: str
) -> None:
    write_node(tmp_path, 1, gpu_properties(target, device_id, 128))
    (gpu,) = detect_gpus(tmp_path)
    assert (gpu.gfx_target_version, gpu.gfx, gpu.device_id, gpu.model) == (
        target,
        gfx,
        device_id,
        model,
    )


def test_mi325x_host(tmp_path: Path) -> None:
    write_node(tmp_path, 0, CPU_PROPERTIES)
    for node in range(1, 9):
        write_gpu(tmp_path, node, device_id=29861)
    gpus = detect_gpus(tmp_path)
    assert len(gpus) == 8
    assert {(g.gfx, g.model) for g in gpus} == {("gfx942", "MI325X")}
    assert host_model(gpus) == "MI325X"


def test_missing_render_minor_is_none(tmp_path: Path) -> None:
    write_node(tmp_path, 1, gpu_properties(GFX942, MI300X, None))
    (gpu,) = detect_gpus(tmp_path)
    assert gpu.render_minor is None


def test_host_model_picks_the_most_common_model(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_gpu(tmp_path, 1, device_id=MI325X)
    for node in (2, 3, 4):
        write_gpu(tmp_path, node, device_id=MI300X)
    gpus = detect_gpus(tmp_path)
    assert [g.model for g in gpus] == ["MI325X", "MI300X", "MI300X", "MI300X"]
    with caplog.at_level(logging.WARNING, logger="aim_catalog.host.gpus"):
        assert host_model(gpus) == "MI300X"
    assert "mixed GPU models" in caplog.text


def test_host_model_of_no_gpu_is_none() -> None:
    assert host_model([]) is None


def test_host_model_of_one_model_does_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    gpu = Gpu(0, 1, GFX942, "gfx942", MI300X, "MI300X", 128)
    with caplog.at_level(logging.WARNING, logger="aim_catalog.host.gpus"):
        assert host_model([gpu, gpu]) == "MI300X"
    assert caplog.records == []


def test_garbage_properties_lines_do_not_crash(tmp_path: Path) -> None:
    write_node(
        tmp_path,
        1,
        b"\xff\xfe\x00binary junk\n"
        b"gfx_target_version\n"  # key without value
        b"device_id 0x74a1\n"  # hex is not what KFD writes: ignored
        b"drm_render_minor 128 extra\n"  # three fields: ignored
        b"\n"
        b"   \n"
        b"gfx_target_version 90402\n"
        b"vendor_id not-a-number\n"
        b"location_id -1\n",
    )
    (gpu,) = detect_gpus(tmp_path)
    assert (gpu.gfx, gpu.device_id, gpu.model, gpu.render_minor) == ("gfx942", 0, "MI300X", None)


def test_node_without_readable_properties_is_skipped(tmp_path: Path) -> None:
    mi300x_host(tmp_path, gpus=2)
    (tmp_path / NODES / "3").mkdir()  # no properties file at all
    (tmp_path / NODES / "4" / "properties").mkdir(parents=True)  # a directory, not a file
    (tmp_path / NODES / "5").write_text("a file where a node directory should be\n")
    write_node(tmp_path, 6, b"")  # empty: no gfx_target_version, so not a GPU
    assert [g.node for g in detect_gpus(tmp_path)] == [1, 2]


@pytest.mark.parametrize("value", ["--5", "²"], ids=["double-minus", "superscript"])
def test_garbage_number_in_properties_does_not_crash(tmp_path: Path, value: str) -> None:
    write_node(tmp_path, 1, f"gfx_target_version 90402\ndevice_id {value}\n")
    (gpu,) = detect_gpus(tmp_path)
    assert gpu.model == "MI300X"


def test_sysfs_root_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mi300x_host(tmp_path, gpus=2)
    monkeypatch.setenv(SYSFS_ROOT_ENV, str(tmp_path))
    assert SYSFS_ROOT_ENV == "AIM_CATALOG_SYSFS_ROOT"
    assert [g.node for g in detect_gpus()] == [1, 2]
    assert [g.node for g in detect_gpus(None)] == [1, 2]


def test_explicit_root_wins_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mi300x_host(tmp_path / "env", gpus=2)
    mi300x_host(tmp_path / "arg", gpus=3)
    monkeypatch.setenv(SYSFS_ROOT_ENV, str(tmp_path / "env"))
    assert len(detect_gpus(tmp_path / "arg")) == 3


@pytest.mark.parametrize(
    ("device_id", "model"),
    # amdgpu.ids as AMD's node labeller ships it (ROCm/k8s-device-plugin d1e5049d):
    # 74B5 "AMD Instinct MI300X VF", 74A2 "AMD Instinct MI308X", 74B9 "AMD Instinct MI325X VF",
    # 75B3 "AMD Instinct MI355X VF"
    [(0x74B5, "MI300X"), (0x74A2, "MI308X"), (0x74B9, "MI325X"), (0x75B3, "MI355X")],
)
def test_virtual_functions_and_variants_are_named_by_their_device_id(
    tmp_path: Path, device_id: int, model: str
) -> None:
    write_node(tmp_path, 0, CPU_PROPERTIES)
    write_gpu(tmp_path, 1, device_id=device_id, target=GFX950 if model == "MI355X" else GFX942)
    (gpu,) = detect_gpus(tmp_path)
    assert gpu.model == model
