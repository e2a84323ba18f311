"""What a launch would run: its options, and the plan (config, GPUs, name, run spec).

``LaunchOptions`` holds the launch-only options (the selection ones are ``SelectionOptions``);
``plan_launch`` is what ``launch --dry-run`` shows: it selects, allocates GPUs (those live
containers hold are skipped) and builds the run spec, starting nothing. ``Planner`` does one
such step for one copy; ``launching.py`` repeats it under the launch lock for real launches.
The Kubernetes targets plan through ``kube/launching.py``. No printing: notes go to ``note``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from aim_catalog.backends.registry import BACKEND_LABELS
from aim_catalog.errors import LaunchFailed, NoSuitableRecipe, UsageProblem, shown
from aim_catalog.selection.options import SelectionOptions
from aim_catalog.settings import DEFAULT_LAUNCH_TIMEOUT

if TYPE_CHECKING:
    from docker import DockerClient

    from aim_catalog.api import Catalog
    from aim_catalog.host.gpus import Gpu
    from aim_catalog.launch.runspec import RunSpec
    from aim_catalog.launch.targets.kubernetes.render import Rendered
    from aim_catalog.selection.request import Candidate, Request

Note = Callable[[str], None]
DOCKER = "docker"


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
    target: str = DOCKER
    cluster: ClusterOptions = field(default_factory=ClusterOptions)

    def check(self, selection: SelectionOptions) -> None:
        """Usage errors of the combination, before anything is selected."""
        indexes = self.gpu_indexes
        check_gpu_count(selection, indexes)
        if self.target != DOCKER:
            if indexes is not None:
                raise UsageProblem("--gpus is for --target docker: the cluster schedules the GPUs")
            return
        given = self.cluster.given()
        if given:
            raise UsageProblem(f"{', '.join(given)}: for --target kubernetes or kserve only")
        if self.replicas != 1 and indexes is not None:
            raise UsageProblem("--gpus names one copy's GPUs; --replicas chooses disjoint ones itself")


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


@dataclass(frozen=True)
class LaunchPlan:
    """What a launch would run: one container per replica (Docker), or the rendered
    objects (``rendered``, Kubernetes targets; ``containers`` then holds the one spec)."""

    target: str
    containers: tuple[PlannedContainer, ...]
    rendered: Rendered | None = None

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


@dataclass(frozen=True)
class Planner:
    """Select, allocate GPUs and build the run spec of one copy: dry runs and real launches.

    ``gpus`` is the GPU count asked (a copy after the first takes the first one's count);
    ``port`` the copy's published port; ``dry_run`` allows placeholder devices."""

    catalog: Catalog
    selection: SelectionOptions
    options: LaunchOptions
    note: Note
    gpus: int | None
    port: int
    dry_run: bool

    @classmethod
    def of(
        cls,
        catalog: Catalog,
        selection: SelectionOptions,
        options: LaunchOptions,
        note: Note,
        *,
        dry_run: bool,
    ) -> Planner:
        indexes = options.gpu_indexes
        gpus = selection.gpus or (len(indexes) if indexes else None)
        return cls(catalog, selection, options, note, gpus, options.port, dry_run)

    def copy(self, index: int, gpus: int | None) -> Planner:
        """The plan of replica ``index`` (0-based): the next port, ``gpus`` GPUs."""
        port = self.options.port + index
        if port > 65535:
            raise UsageProblem(f"--port {self.options.port} with {index + 1} replicas passes port 65535")
        return replace(self, gpus=gpus, port=port)

    def make(
        self, client: DockerClient | None, held: dict[int, str], *, name: str | None, notes: bool = True
    ) -> PlannedContainer:
        from aim_catalog.host.gpus import detect_gpus, host_model
        from aim_catalog.launch.runspec import build_spec, container_name, hf_cache_dir

        detected = detect_gpus()
        chosen = self._select(detected, held)
        allocated, minors = self._allocate(detected, held, chosen.gpu_count)
        if name is None:
            name = container_name(chosen)
            if client is not None:
                from aim_catalog.launch.targets.docker.engine import unique_name

                name = unique_name(client, name)
        opts = self.options
        spec = build_spec(
            chosen,
            name=name,
            gpus=allocated,
            render_minors=minors,
            port=self.port,
            image=opts.image,
            env=opts.env,
            overrides=opts.overrides,
            hf_cache=hf_cache_dir(opts.hf_cache),
            catalog=self.catalog.display_url,
            shm_size=opts.shm_size,
            check_devices=not self.dry_run,
            host_hardware=host_model(detected),
        )
        if notes:
            for text in spec_notes(spec):
                self.note(text)
        return PlannedContainer(spec, chosen)

    def request(self, free_gpus: int | None) -> Request:
        request = self.selection.with_gpus(self.gpus).to_request(free_gpus=free_gpus, note=self.note)
        return replace(request, hardware_detected=False)  # launch's messages name --hardware

    def _select(self, detected: list[Gpu], held: dict[int, str]) -> Candidate:
        from aim_catalog.launch.allocation import allocate
        from aim_catalog.selection.best import goal_note

        free = len([g for g in detected if g.index not in held]) if detected else None
        request = self.request(free)
        try:
            chosen = self.catalog.select(request)
        except NoSuitableRecipe:
            if not held or self.gpus is not None:
                raise
            # Something would fit if the busy GPUs were free: say who holds them.
            wanted = self.catalog.select(self.request(len(detected)))
            allocate(detected, held, wanted.gpu_count, None)
            raise
        said = goal_note(request, chosen)
        if said:
            self.note(said)
        if chosen.any_backend:
            from aim_catalog.selection.fallback import no_default_backend

            self.note(f"{BACKEND_LABELS.get(chosen.backend, chosen.backend)}: {no_default_backend(chosen)}")
        return chosen

    def _allocate(self, detected: list[Gpu], held: dict[int, str], count: int) -> tuple[list[int], list[int]]:
        from aim_catalog.launch.allocation import allocate

        explicit = None if self.options.gpu_indexes is None else list(self.options.gpu_indexes)
        if not detected:
            if not self.dry_run:
                raise LaunchFailed(
                    "no AMD GPU found in sysfs (/sys/class/kfd); use --dry-run to see what would be launched"
                )
            # Placeholders; GPUs shown for earlier dry-run replicas (``held``) are skipped.
            chosen = explicit or [i for i in range(count + len(held)) if i not in held][:count]
            self.note(f"no AMD GPU detected: showing devices for GPU(s) {','.join(map(str, chosen))}")
            return chosen, [128 + i for i in chosen]
        gpus = allocate(detected, held, count, explicit)
        return [g.index for g in gpus], [
            g.render_minor if g.render_minor is not None else 128 + g.index for g in gpus
        ]


def spec_notes(spec: RunSpec) -> list[str]:
    """What to tell about a spec: its adjustments, and an image from an untrusted registry."""
    return [*spec.notes, *([] if spec.trusted_registry else [untrusted(spec)])]


def untrusted(spec: RunSpec) -> str:
    from aim_catalog.backends.envpolicy import TRUSTED_REGISTRIES_ENV, trusted_registries

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


def docker_for_dry_run(note: Note) -> tuple[DockerClient | None, dict[int, str]]:
    """The Docker client and the GPUs its labelled containers hold; a dry run can do without."""
    from aim_catalog.errors import EnvironmentProblem
    from aim_catalog.launch.targets.docker.engine import connect, held_gpus

    try:
        client = connect()
    except EnvironmentProblem as exc:
        note(f"{exc}; assuming no GPU is in use")
        return None, {}
    return client, held_gpus(client)


def plan_launch(
    catalog: Catalog, selection: SelectionOptions, options: LaunchOptions, *, note: Note
) -> LaunchPlan:
    """What ``launch`` would run, starting nothing (``launch --dry-run``)."""
    options.check(selection)
    if options.target != DOCKER:
        from aim_catalog.launch.targets.kubernetes.service import plan_on_cluster

        return plan_on_cluster(catalog, selection, options, note=note)
    planner = Planner.of(catalog, selection, options, note, dry_run=True)
    client, held = docker_for_dry_run(note)
    held = dict(held)
    planned: list[PlannedContainer] = []
    gpus = planner.gpus
    for index, name in enumerate(copy_names(options.name, options.replicas)):
        copy = planner.copy(index, gpus)
        one = copy.make(client, held, name=name)
        if name is None and any(p.name == one.name for p in planned):  # no container yet claims it
            one = copy.make(client, held, name=f"{one.name}-{index + 1}")
        gpus = one.chosen.gpu_count  # every copy runs the config the first one chose
        held.update({gpu: one.name for gpu in one.gpus})
        planned.append(one)
    return LaunchPlan(DOCKER, tuple(planned))
