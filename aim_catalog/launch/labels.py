"""The ``aim-catalog.*`` labels: every key, the one writer and the one parser.

Docker containers carry them (``runspec.build_spec`` writes them through ``labels_for``);
Kubernetes objects carry the same keys (``targets/kubernetes/render.py``, values shortened to what label
values allow). Everything that reads a container's labels (GPU allocation, ``ps``,
``stop``, the clean-up of an interrupted create) goes through ``parse_labels``: a key is
spelled here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PREFIX = "aim-catalog"
MANAGED = f"{PREFIX}.managed"  # "true" on every container and object a launch made
RECIPE = f"{PREFIX}.recipe"
MODEL = f"{PREFIX}.model"
BACKEND = f"{PREFIX}.backend"
GPU_COUNT = f"{PREFIX}.gpu-count"
GPUS = f"{PREFIX}.gpus"  # the host's GPU indexes, "0,1": how GPUs are allocated
PORT = f"{PREFIX}.port"
CATALOG = f"{PREFIX}.catalog"  # the catalog URL, password redacted (Kubernetes: a hash of it)
LAUNCH = f"{PREFIX}.launch"  # a random id per launch: finds a container whose create was interrupted
DOCTOR = f"{PREFIX}.doctor"  # doctor's throw-away probe container

# The Docker engine's label filters (``containers.list(filters={"label": ...})``).
MANAGED_FILTER = f"{MANAGED}=true"


def launch_filter(launch_id: str) -> str:
    return f"{LAUNCH}={launch_id}"


def labels_for(
    *,
    recipe_id: str,
    model: str,
    backend: str,
    gpu_count: int,
    gpus: Sequence[int],
    port: int,
    catalog: str,
    launch_id: str,
) -> dict[str, str]:
    """The labels of a launched container (values as the engine stores them: strings)."""
    return {
        MANAGED: "true",
        RECIPE: recipe_id,
        MODEL: model,
        BACKEND: backend,
        GPU_COUNT: str(gpu_count),
        GPUS: ",".join(map(str, gpus)),
        PORT: str(port),
        CATALOG: catalog,
        LAUNCH: launch_id,
    }


@dataclass(frozen=True)
class ContainerLabels:
    """A container's ``aim-catalog.*`` labels, typed. Missing or garbled values read as
    empty (a container labelled by hand, or by an older aim-catalog)."""

    managed: bool
    recipe: str
    model: str
    backend: str
    gpus: tuple[int, ...]
    port: int
    catalog: str | None
    launch: str | None

    @property
    def gpu_list(self) -> str:
        """The GPUs as the label writes them (``0,1``)."""
        return ",".join(map(str, self.gpus))


def parse_gpus(value: str) -> tuple[int, ...]:
    """``"0,1,2"`` -> (0, 1, 2); parts that are not numbers are skipped."""
    return tuple(int(part) for part in value.split(",") if part.strip().isdigit())


def parse_labels(labels: Mapping[str, str] | None) -> ContainerLabels:
    labels = labels or {}
    port = labels.get(PORT, "") or "0"
    return ContainerLabels(
        managed=labels.get(MANAGED) == "true",
        recipe=labels.get(RECIPE, ""),
        model=labels.get(MODEL, ""),
        backend=labels.get(BACKEND, ""),
        gpus=parse_gpus(labels.get(GPUS, "")),
        port=int(port) if port.isdigit() else 0,
        catalog=labels.get(CATALOG),
        launch=labels.get(LAUNCH),
    )
