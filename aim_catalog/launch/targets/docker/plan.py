"""Planning one copy on this Docker engine: select, allocate GPUs, build the run spec.

``Planner`` does one such step for one copy: dry runs (``plan``) and real launches
(``service.py``, which repeats it under the launch lock with the GPUs held at that
moment). GPUs come from this host's detected GPUs minus those the engine's labelled
containers hold; names are made unique on the engine. No printing: notes go to ``note``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from aim_catalog.backends.registry import BACKEND_LABELS
from aim_catalog.errors import LaunchFailed, NoSuitableRecipe, UsageProblem
from aim_catalog.launch.plan import LaunchOptions, LaunchPlan, PlannedContainer, copy_names, spec_notes
from aim_catalog.selection.options import SelectionOptions

if TYPE_CHECKING:
    from docker import DockerClient

    from aim_catalog.host.gpus import Gpu
    from aim_catalog.launch.targets.base import Select
    from aim_catalog.notes import Note
    from aim_catalog.selection.request import Candidate, Request
    from aim_catalog.storage.work import Work


@dataclass(frozen=True)
class Planner:
    """Select, allocate GPUs and build the run spec of one copy: dry runs and real launches.

    ``gpus`` is the GPU count asked (a copy after the first takes the first one's count);
    ``port`` the copy's published port; ``dry_run`` allows placeholder devices."""

    work: Work
    select: Select
    selection: SelectionOptions
    options: LaunchOptions
    note: Note
    gpus: int | None
    port: int
    dry_run: bool

    @classmethod
    def of(
        cls,
        work: Work,
        select: Select,
        selection: SelectionOptions,
        options: LaunchOptions,
        note: Note,
        *,
        dry_run: bool,
    ) -> Planner:
        indexes = options.gpu_indexes
        gpus = selection.gpus or (len(indexes) if indexes else None)
        return cls(work, select, selection, options, note, gpus, options.port, dry_run)

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
        from aim_catalog.launch.runspec import build_spec, container_name
        from aim_catalog.settings import hf_home

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
            hf_cache=hf_home(opts.hf_cache),
            catalog=self.work.display_url,
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
            chosen = self.select(request)
        except NoSuitableRecipe:
            if not held or self.gpus is not None:
                raise
            # Something would fit if the busy GPUs were free: say who holds them.
            wanted = self.select(self.request(len(detected)))
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


def plan(
    work: Work, select: Select, selection: SelectionOptions, options: LaunchOptions, *, note: Note
) -> LaunchPlan:
    """What ``launch`` would run, starting nothing (``launch --dry-run``)."""
    planner = Planner.of(work, select, selection, options, note, dry_run=True)
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
    return LaunchPlan(options.target, tuple(planned))
