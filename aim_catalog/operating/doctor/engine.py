"""The Docker engine: does it answer, and does it give a container the GPU devices?"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import Any

from aim_catalog.errors import EnvironmentProblem, first_line
from aim_catalog.launch.targets.docker.engine import connect, docker_where
from aim_catalog.operating.doctor.check import FAIL, PASS, SKIP, Check

PROBE_IMAGE = "aim-catalog-doctor-probe"
PROBE_COMMAND = "/aim-catalog-doctor-probe"  # not in the (empty) image: the start stops at exec


def check_docker() -> tuple[Check, Any]:
    """The engine's version, and the client for the next check (None when unreachable)."""
    from docker.errors import DockerException

    where = docker_where()
    try:  # launch's own way in (the Docker target's ``engine.connect``), so both say the same, redacted
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

    from aim_catalog.launch.labels import DOCTOR
    from aim_catalog.launch.runspec import video_groups
    from aim_catalog.settings import dev_root

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
            labels={DOCTOR: "true"},
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
