"""Is this host ready to serve? One check per thing a launch needs, each with a fix.

Reads sysfs (``AIM_CATALOG_SYSFS_ROOT``) and ``/dev`` (``AIM_CATALOG_DEV_ROOT``), asks the
Docker engine (``DOCKER_HOST``) for its version and to map the GPU devices into a probe
container, opens the catalog without migrating it, and measures the disk under the
Hugging Face cache. A check never raises: whatever goes wrong becomes its ❌ line.

The checks live by subject: ``host`` (driver, devices, GPUs), ``engine`` (Docker),
``catalog``, ``downloads`` (token, disk); ``check`` holds the result record.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aim_catalog.errors import first_line
from aim_catalog.operating.doctor.catalog import check_catalog
from aim_catalog.operating.doctor.check import FAIL, Check, Status
from aim_catalog.operating.doctor.downloads import MIN_FREE_GB, check_disk, check_token
from aim_catalog.operating.doctor.engine import check_device_container, check_docker
from aim_catalog.operating.doctor.host import check_devices, check_driver, check_gpus

__all__ = ["MIN_FREE_GB", "Check", "Status", "run_checks"]


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
