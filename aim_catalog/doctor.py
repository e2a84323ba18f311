"""Is this host ready to serve? One check per thing a launch needs, each with a fix.

Reads sysfs (``AIM_CATALOG_SYSFS_ROOT``) and ``/dev`` (``AIM_CATALOG_DEV_ROOT``), asks the
Docker engine (``DOCKER_HOST``) for its version and to map the GPU devices into a probe
container, opens the catalog without migrating it, and measures the disk under the
Hugging Face cache. A check never raises: whatever goes wrong becomes its ❌ line.
"""

from __future__ import annotations

import grp
import io
import os
import tarfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aim_catalog.errors import EnvironmentProblem
from aim_catalog.hardware import TOPOLOGY, Gpu, detect_gpus
from aim_catalog.launcher import connect, docker_where, first_line
from aim_catalog.settings import redact, sysfs_root

PASS, FAIL, WARN, SKIP = "pass", "fail", "warn", "skip"
MIN_FREE_GB = 100.0  # a 70B bf16 model is ~140 GB; an 8B one ~16 GB
# Heap types of a KFD memory bank (kfd_topology.h): 1 = public frame buffer, 2 = private.
VRAM_HEAPS = (1, 2)
PROBE_IMAGE = "aim-catalog-doctor-probe"
PROBE_COMMAND = "/aim-catalog-doctor-probe"  # not in the (empty) image: the start stops at exec


@dataclass
class Check:
    name: str
    status: str  # pass | fail | warn | skip
    summary: str
    fix: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- driver, devices, GPUs


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
    from aim_catalog.runspec import dev_root

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


# --------------------------------------------------------------------------- Docker


def check_docker() -> tuple[Check, Any]:
    """The engine's version, and the client for the next check (None when unreachable)."""
    from docker.errors import DockerException

    where = docker_where()
    try:  # launch's own way in (launcher.connect), so both say the same, redacted
        client = connect(timeout=20)
        version = client.version()
    except (EnvironmentProblem, DockerException, OSError) as exc:
        said = str(exc)  # connect's words
        if not isinstance(exc, EnvironmentProblem):  # the version call after a good ping
            said = f"Docker engine at {where} did not answer: {first_line(exc)}"
        return (
            Check(
                "docker",
                FAIL,
                said,
                "start it (sudo systemctl start docker), or set DOCKER_HOST; "
                "to use it without sudo: sudo usermod -aG docker $USER",
                {"docker_host": where},
            ),
            None,
        )
    data = {"docker_host": where, "version": version.get("Version"), "api_version": version.get("ApiVersion")}
    return Check(
        "docker", PASS, f"Docker engine {data['version']} (API {data['api_version']}) at {where}", data=data
    ), client


def _probe_image(client: Any) -> str:
    """An empty image (no layers, imported from an empty tar): nothing to pull, nothing to run."""
    buffer = io.BytesIO()
    tarfile.open(fileobj=buffer, mode="w").close()
    tag = f"{os.getpid()}"
    client.api.import_image_from_data(buffer.getvalue(), repository=PROBE_IMAGE, tag=tag)
    return f"{PROBE_IMAGE}:{tag}"


def check_device_container(client: Any, dev: Path | None = None) -> Check:
    """Create a container with /dev/kfd and the render nodes and start it with a command the
    image does not have: the engine maps the devices before it execs, so an exec error means
    the devices were accepted, and nothing ever runs. The container and image are removed."""
    from docker.errors import APIError, DockerException

    from aim_catalog.runspec import dev_root, video_groups

    if client is None:
        return Check("containers", SKIP, "not checked: no Docker engine", "see the docker check")
    base = (dev or dev_root()) / "dev"
    nodes = [base / "kfd", *sorted((base / "dri").glob("renderD*"), key=lambda p: p.name)]
    nodes = [n for n in nodes if n.exists()]
    if not nodes:
        return Check("containers", SKIP, "not checked: no GPU device nodes to map", "see the devices check")
    devices = [f"{n}:/dev/{n.relative_to(base)}:rwm" for n in nodes]
    data: dict[str, Any] = {"devices": devices}
    image = container = None
    try:
        image = _probe_image(client)
        container = client.containers.create(
            image,
            command=[PROBE_COMMAND],
            devices=devices,
            # The host's numeric gids only: the empty image has no /etc/group to resolve names.
            group_add=[g for g in video_groups() if g.isdigit()],
            network_mode="none",
            labels={"aim-catalog.doctor": "true"},
        )
        try:
            container.start()
        except APIError as exc:
            message = first_line(exc)
            if PROBE_COMMAND not in message:  # it failed before the exec: the devices or the runtime
                return Check(
                    "containers",
                    FAIL,
                    f"the engine cannot start a container with the GPU devices: {message}",
                    "check the device nodes, and that the engine is not rootless or restricted by a policy",
                    data,
                )
    except (DockerException, OSError) as exc:
        return Check(
            "containers",
            FAIL,
            f"cannot create a container with the GPU devices: {first_line(exc)}",
            "check your rights on the Docker engine (docker group) and its authorization plugins",
            data,
        )
    finally:
        _cleanup(client, container, image)
    return Check(
        "containers", PASS, f"a container gets /dev/kfd and {len(nodes) - 1} render node(s)", data=data
    )


def _cleanup(client: Any, container: Any, image: str | None) -> None:
    from docker.errors import DockerException

    try:
        if container is not None:
            container.remove(force=True)
        if image is not None:
            client.images.remove(image, force=True)
    except DockerException:
        pass  # best effort: a leftover empty image costs nothing


# --------------------------------------------------------------------------- catalog, token, disk


def check_catalog(db_option: str | None) -> Check:
    from sqlalchemy.exc import SQLAlchemyError

    from aim_catalog import db
    from aim_catalog.errors import CatalogError
    from aim_catalog.settings import resolve_db_url

    url, is_default = resolve_db_url(db_option)
    shown = redact(url)
    data: dict[str, Any] = {"url": shown, "head_revision": db.HEAD_REVISION, "revision": None}
    if is_default and url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        return Check(
            "catalog",
            PASS,
            f"{shown} not created yet: the first command creates and fills it",
            data=data,
        )
    engine = None
    try:
        engine = db.make_engine(url, create=False)  # a check never creates a catalog
        with engine.connect() as connection:
            revision = db.current_revision(connection)
    except (CatalogError, SQLAlchemyError) as exc:
        problem = db.database_problem(exc, engine) if isinstance(exc, SQLAlchemyError) else exc
        return Check(
            "catalog", FAIL, f"{problem}", "check --db / AIM_CATALOG_DB_URL and that the server runs", data
        )
    finally:
        if engine is not None:
            engine.dispose()
    data["revision"] = revision
    if revision == db.HEAD_REVISION:
        return Check("catalog", PASS, f"{shown} opens, schema revision {revision}", data=data)
    if revision is None or revision < db.HEAD_REVISION:
        return Check(
            "catalog",
            WARN if is_default else FAIL,
            f"{shown} is at schema revision {revision or 'none'}, this version needs {db.HEAD_REVISION}",
            "run `aim-catalog db upgrade`"
            + (" (the default catalog also upgrades on its next use)" if is_default else ""),
            data,
        )
    return Check(
        "catalog",
        FAIL,
        f"{shown} is at schema revision {revision}, newer than this aim-catalog ({db.HEAD_REVISION})",
        "upgrade aim-catalog on this host",
        data,
    )


def check_token() -> Check:
    if os.environ.get("HF_TOKEN"):
        return Check(
            "hf_token", PASS, "HF_TOKEN is set (passed to launched servers; not shown)", data={"set": True}
        )
    return Check(
        "hf_token",
        WARN,
        "HF_TOKEN is not set: gated models (Llama, ...) cannot be downloaded",
        "export HF_TOKEN=hf_... (a token from https://huggingface.co/settings/tokens)",
        {"set": False},
    )


def check_disk(hf_home: Path, min_free_gb: float = MIN_FREE_GB) -> Check:
    from aim_catalog.hfcache import free_bytes, human

    free = free_bytes(hf_home)
    data = {"hf_home": str(hf_home), "free_bytes": free, "min_free_bytes": int(min_free_gb * 1e9)}
    summary = f"{human(free)} free under {hf_home}"
    if free < min_free_gb * 1e9:
        return Check(
            "disk",
            FAIL,
            f"only {summary} (want {min_free_gb:g} GB for model downloads)",
            "free space, or point --hf-cache / HF_HOME at a larger disk",
            data,
        )
    return Check("disk", PASS, summary, data=data)


def run_checks(*, db_option: str | None, hf_home: Path, min_free_gb: float = MIN_FREE_GB) -> list[Check]:
    checks: list[Check] = []

    def guarded(make: Callable[[], Check], name: str) -> None:
        try:
            checks.append(make())
        except Exception as exc:  # a doctor reports a broken check, it does not crash on it
            checks.append(Check(name, FAIL, f"check failed: {first_line(exc)}"))

    guarded(check_driver, "driver")
    guarded(check_devices, "devices")
    guarded(check_gpus, "gpus")
    client = None
    try:
        docker_check, client = check_docker()
    except Exception as exc:
        docker_check = Check("docker", FAIL, f"check failed: {first_line(exc)}")
    checks.append(docker_check)
    guarded(lambda: check_device_container(client), "containers")
    guarded(lambda: check_catalog(db_option), "catalog")
    guarded(check_token, "hf_token")
    guarded(lambda: check_disk(hf_home, min_free_gb), "disk")
    return checks
