"""What a launch would run: its options, and the plan (config, GPUs, name, run spec).

``LaunchOptions`` holds the launch-only options (the selection ones are ``SelectionOptions``);
``ClusterOptions`` those of targets that run on a cluster. A ``LaunchPlan`` is what a
target's ``plan`` returns and ``launch --dry-run`` shows: the config chosen and the run
spec of each copy, or the objects a cluster target rendered (``Manifests``). Target-neutral:
each target (``launch/targets/``) plans its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from aim_catalog import arguments
from aim_catalog.errors import UsageProblem, shown
from aim_catalog.selection.options import SelectionOptions
from aim_catalog.settings import DEFAULT_LAUNCH_TIMEOUT, DEFAULT_TARGET

if TYPE_CHECKING:
    from aim_catalog.launch.runspec import RunSpec
    from aim_catalog.selection.request import Candidate


@dataclass(frozen=True)
class ClusterOptions:
    """The options of ``--target kubernetes|kserve`` (refused with ``--target docker``)."""

    hf_cache_pvc: str | None = None
    hf_token_secret: str | None = None  # NAME or NAME:KEY
    context: str | None = None
    namespace: str | None = None
    out: Path | None = None  # write one YAML file per object here instead of applying
    cpu: str | None = None
    memory: str | None = None
    node_affinity: bool = True

    def __post_init__(self) -> None:
        if self.out is not None:  # a str or any os.PathLike from Python callers
            object.__setattr__(self, "out", arguments.path(self.out, "out"))

    def given(self) -> list[str]:
        """The flags given, as the command line spells them."""
        flags = {
            "--hf-cache-pvc": self.hf_cache_pvc,
            "--hf-token-secret": self.hf_token_secret,
            "--context": self.context,
            "--namespace": self.namespace,
            "--out": self.out,
            "--cpu": self.cpu,
            "--memory": self.memory,
            "--no-node-affinity": None if self.node_affinity else True,
        }
        return [flag for flag, value in flags.items() if value is not None]


@dataclass(frozen=True)
class LaunchOptions:
    """The launch-only options. ``gpu_indexes``: these GPUs (``--gpus 0,1``); ``env``
    and ``overrides`` are parsed already (``runspec.parse_env``/``parse_overrides``)."""

    port: int = 8000
    name: str | None = None
    image: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, str | bool] = field(default_factory=dict)
    gpu_indexes: tuple[int, ...] | None = None
    hf_cache: Path | None = None
    shm_size: str | None = None
    timeout: float = DEFAULT_LAUNCH_TIMEOUT
    wait: bool = True
    keep_on_failure: bool = False
    replicas: int = 1
    target: str = DEFAULT_TARGET
    cluster: ClusterOptions = field(default_factory=ClusterOptions)

    def __post_init__(self) -> None:
        if self.hf_cache is not None:  # a str or any os.PathLike from Python callers
            object.__setattr__(self, "hf_cache", arguments.path(self.hf_cache, "hf_cache"))

    def check(self, selection: SelectionOptions) -> None:
        """Usage errors of the combination every target shares (the launch service adds
        the target's own, ``Target.check``), before anything is selected."""
        check_gpu_count(selection, self.gpu_indexes)


def check_gpu_count(selection: SelectionOptions, indexes: tuple[int, ...] | None) -> None:
    """GPUS and ``--gpus`` both given must agree."""
    if indexes is not None and selection.gpus is not None and len(indexes) != selection.gpus:
        raise UsageProblem(f"GPUS is {selection.gpus} but --gpus names {len(indexes)} GPU(s)")


def parse_gpu_list(value: str | None) -> tuple[int, ...] | None:
    """``--gpus 0,1,2,3``: distinct GPU indexes."""
    if value is None:
        return None
    try:
        indexes = [int(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:  # also a number past Python's int-string limit
        raise UsageProblem(f"--gpus takes GPU indexes like 0,1,2,3, got {shown(value)}") from exc
    if not indexes or len(set(indexes)) != len(indexes) or not 0 <= min(indexes) <= max(indexes) <= 1023:
        raise UsageProblem(
            f"--gpus takes distinct GPU indexes from 0 to 1023 like 0,1,2,3, got {shown(value)}"
        )
    return tuple(indexes)


@dataclass(frozen=True)
class PlannedContainer:
    """One container of a plan: the config chosen and the spec it runs with."""

    spec: RunSpec
    chosen: Candidate

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def gpus(self) -> list[int]:
        return self.spec.gpus


class Manifests(Protocol):
    """Objects a target renders for another system to run (a cluster's Deployment...)."""

    @property
    def name(self) -> str: ...

    def yaml(self) -> str:
        """Multi-document YAML."""
        ...

    def as_list(self) -> dict[str, Any]:
        """The objects as one list object (JSON-ready)."""
        ...

    def files(self) -> dict[str, str]:
        """One file per object: its name and text."""
        ...


@dataclass(frozen=True)
class LaunchPlan:
    """What a launch would run: one container per replica, or the rendered objects
    (``rendered``, cluster targets; ``containers`` then holds the one spec they run)."""

    target: str
    containers: tuple[PlannedContainer, ...]
    rendered: Manifests | None = None

    @property
    def spec(self) -> RunSpec:
        return self.containers[0].spec

    @property
    def chosen(self) -> Candidate:
        return self.containers[0].chosen

    @property
    def name(self) -> str:
        return self.rendered.name if self.rendered is not None else self.spec.name

    @property
    def gpus(self) -> list[int]:
        return self.spec.gpus


def spec_notes(spec: RunSpec) -> list[str]:
    """What to tell about a spec: its adjustments, and an image from an untrusted registry."""
    return [*spec.notes, *([] if spec.trusted_registry else [untrusted(spec)])]


def untrusted(spec: RunSpec) -> str:
    from aim_catalog.backends.envpolicy import trusted_registries
    from aim_catalog.settings import TRUSTED_REGISTRIES_ENV

    given = f" and {', '.join(spec.secret_env)}" if spec.secret_env else ""
    return (
        f"warning: image {spec.image} comes from {spec.registry}, which is not a trusted registry "
        f"({', '.join(trusted_registries()) or 'none'}; set {TRUSTED_REGISTRIES_ENV}); "
        f"the container gets your GPUs, SYS_PTRACE{given}"
    )


def copy_names(name: str | None, replicas: int) -> list[str | None]:
    """``--name web`` gives web, web-2, web-3...; without it each copy gets a unique default."""
    if name is None:
        return [None] * replicas
    return [name, *(f"{name}-{k}" for k in range(2, replicas + 1))]
