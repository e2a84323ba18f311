"""A launch on this Docker engine: select, allocate, create, record, start and wait.

``launch`` runs the winning config on this host's Docker engine (one container, or
``replicas`` copies on disjoint GPUs and consecutive ports, all or nothing). Each container
goes through a ``lifecycle.ContainerLaunch``, which cleans up on every failure path. Images are pulled
before the launch lock is taken (a pull can take many minutes); inside it the plan is made
again with the GPUs held at that moment, then the container is created and recorded.
No printing: notes go to ``note``, the wait's progress to ``on_tick``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aim_catalog.errors import LaunchFailed, UsageProblem
from aim_catalog.launch.plan import LaunchOptions, copy_names
from aim_catalog.launch.targets.docker.plan import Planner
from aim_catalog.notes import Note, Tick, waiting_ticks

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

    from aim_catalog.launch.runspec import RunSpec
    from aim_catalog.launch.targets.base import Select
    from aim_catalog.launch.targets.docker.engine import EngineId, Launched
    from aim_catalog.launch.targets.docker.lifecycle import ContainerLaunch
    from aim_catalog.selection.options import SelectionOptions
    from aim_catalog.selection.request import Candidate
    from aim_catalog.storage.work import Work


class _ImageMissing(Exception):
    """The image a plan chose is not on the engine once the launch lock is held: another
    launch removed it, or the plan chose another image after the pull."""

    def __init__(self, image: str) -> None:
        super().__init__(image)
        self.image = image


@dataclass(frozen=True)
class Started:
    """A container that was started (and, when waited for, serves at ``url``)."""

    spec: RunSpec
    chosen: Candidate
    container_id: str
    url: str
    ready: bool
    elapsed: float

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class LaunchResult:
    """What a Docker launch started: one container per replica."""

    containers: tuple[Started, ...]


def launch(
    work: Work,
    select: Select,
    selection: SelectionOptions,
    options: LaunchOptions,
    *,
    note: Note,
    on_tick: Tick | None = None,
) -> LaunchResult:
    """Launch the best config for ``selection``; ``LaunchFailed`` (exit 5) when it fails,
    nothing left behind (unless ``keep_on_failure``)."""
    from aim_catalog.host import hfcache
    from aim_catalog.launch.guard import termination_as_interrupt
    from aim_catalog.settings import dev_root, hf_home

    kfd = dev_root() / "dev" / "kfd"
    if not kfd.exists():
        raise LaunchFailed(
            f"{kfd} not found: this host has no ROCm driver loaded (or no AMD GPU), "
            "so it cannot run ROCm containers; use --dry-run to see what would be launched"
        )
    # Not cached, or a disk too small: a note, never a failure.
    for text in hfcache.launch_warnings(selection.model, hf_home(options.hf_cache)):
        note(text)
    planner = Planner.of(work, select, selection, options, note, dry_run=False)
    # SIGTERM/SIGHUP (a closed terminal, a cancelled job) clean up like Ctrl-C does.
    with termination_as_interrupt():
        if options.replicas != 1:  # N copies on disjoint GPUs and ports, all or nothing
            return _Copies(planner).launch()
        return LaunchResult((_launch_one(planner, on_tick),))


def _engine() -> tuple[DockerClient, EngineId]:
    from aim_catalog.launch.targets.docker.engine import connect, identify

    client = connect()
    return client, identify(client)


def _prepare(
    planner: Planner, client: DockerClient, engine: EngineId, name: str | None, *, first: bool
) -> ContainerLaunch:
    """Pull the image, then under the launch lock plan again, create and record
    (``_ImageMissing`` when the image the plan chose is not there by then)."""
    from aim_catalog.launch.targets.docker.engine import has_image, held_gpus
    from aim_catalog.launch.targets.docker.lifecycle import ContainerLaunch
    from aim_catalog.launch.targets.docker.lock import launch_lock

    preliminary = planner.make(client, held_gpus(client), name=name, notes=False)
    _pull(client, preliminary.spec.image, planner.note)
    with launch_lock(engine.key, on_wait=planner.note):
        planned = planner.make(client, held_gpus(client), name=name, notes=first)
        if not has_image(client, planned.spec.image):
            raise _ImageMissing(planned.spec.image)
        _make_cache_dir(planned.spec)
        keep = planner.options.keep_on_failure
        launch = ContainerLaunch(client, planner.work.write, engine, planned.spec, planned.chosen, keep)
        launch.create_and_record()  # cleans up its own container on failure
        return launch


def _launch_one(planner: Planner, on_tick: Tick | None) -> Started:
    client, engine = _engine()
    for _attempt in range(3):
        try:
            launch = _prepare(planner, client, engine, planner.options.name, first=True)
            break
        except _ImageMissing:
            continue
    else:
        raise LaunchFailed("the selected image kept changing while images were pulled; try again")
    tick = waiting_ticks(
        on_tick, f"starting {launch.spec.name}", launch.spec.name, lambda last: last.strip()[-100:]
    )
    options = planner.options
    return _started(launch, launch.run(timeout=options.timeout, wait=options.wait, on_tick=tick))


def _started(launch: ContainerLaunch, result: Launched) -> Started:
    return Started(launch.spec, launch.chosen, result.container_id, result.url, result.ready, result.elapsed)


@dataclass
class _Copies:
    """``--replicas N`` on a Docker engine: N copies of the winning config, each its own
    deployment. If one copy fails to be created, start or get ready, every other copy is
    removed (its row marked failed) and the launch fails. The first copy selects the
    config; the others take the same GPU count, so they run the same config."""

    planner: Planner

    def launch(self) -> LaunchResult:
        from aim_catalog.launch.guard import interrupts_deferred

        client, engine = _engine()
        replicas = self.planner.options.replicas
        launched: list[ContainerLaunch] = []
        started: list[Started] = []
        try:
            self._create(client, engine, launched)
            for index, one in enumerate(launched, start=1):
                self.planner.note(f"replica {index} of {replicas}: starting {one.spec.name}")
                options = self.planner.options
                started.append(_started(one, one.run(timeout=options.timeout, wait=options.wait)))
        except BaseException as exc:
            failed = (len(started) if len(launched) == replicas else len(launched)) + 1
            reason = LaunchFailed(f"replica {failed} of {replicas} failed")
            with interrupts_deferred():
                for one in launched:
                    if _still_there(one.container):
                        one.abort(reason)
            if isinstance(exc, LaunchFailed):
                message = f"{exc}\nreplica {failed} of {replicas} failed: every replica was removed"
                raise LaunchFailed(message) from exc
            raise
        return LaunchResult(tuple(started))

    def _create(self, client: DockerClient, engine: EngineId, launched: list[ContainerLaunch]) -> None:
        """Create and record every copy (each under the launch lock, with the GPUs held
        then, the copies made before it included: their GPUs are disjoint)."""
        gpus = self.planner.gpus
        for index, name in enumerate(copy_names(self.planner.options.name, self.planner.options.replicas)):
            copy = self.planner.copy(index, gpus)
            try:
                one = _prepare(copy, client, engine, name, first=index == 0)
            except _ImageMissing as exc:
                raise LaunchFailed(f"image {exc.image} went missing while replicas were created") from None
            launched.append(one)
            gpus = one.chosen.gpu_count  # every copy runs the config the first one chose


def _still_there(container: Container | None) -> bool:
    """Whether a copy's container still exists (the failing copy removed its own)."""
    from docker.errors import NotFound

    if container is None:
        return False
    try:
        container.reload()
    except NotFound:
        return False
    return True


def _pull(client: DockerClient, image: str, note: Note) -> None:
    from aim_catalog.launch.targets.docker.engine import ensure_image, has_image

    if not has_image(client, image):
        note(f"pulling {image} (before taking the launch lock)")
        ensure_image(client, image)


def _make_cache_dir(spec: RunSpec) -> None:
    cache = Path(next(iter(spec.volumes)))
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageProblem(f"cannot use {cache} as the Hugging Face cache: {exc.strerror or exc}") from exc
