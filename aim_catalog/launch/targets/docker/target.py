"""The Docker target as the launch service sees it (``--target docker``, the default)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from aim_catalog.errors import UsageProblem

if TYPE_CHECKING:
    from aim_catalog.launch.plan import LaunchOptions, LaunchPlan
    from aim_catalog.launch.targets.base import DeploymentRow, Found, Select, Served, Stopped
    from aim_catalog.launch.targets.docker.service import LaunchResult
    from aim_catalog.notes import Note, Tick, Write
    from aim_catalog.selection.options import SelectionOptions
    from aim_catalog.storage.work import Work


class DockerTarget:
    """ROCm containers on this host's Docker engine (``DOCKER_HOST`` honoured)."""

    name: ClassVar[str] = "docker"

    def check_name(self, name: str) -> None:
        """A container name Docker accepts."""
        from aim_catalog.launch.runspec import check_name

        check_name(name)

    def check(self, selection: SelectionOptions, options: LaunchOptions) -> None:
        given = options.cluster.given()
        if given:
            raise UsageProblem(f"{', '.join(given)}: for --target kubernetes or kserve only")
        if options.replicas != 1 and options.gpu_indexes is not None:
            raise UsageProblem("--gpus names one copy's GPUs; --replicas chooses disjoint ones itself")

    def plan(
        self, work: Work, select: Select, selection: SelectionOptions, options: LaunchOptions, *, note: Note
    ) -> LaunchPlan:
        from aim_catalog.launch.targets.docker.plan import plan

        return plan(work, select, selection, options, note=note)

    def launch(
        self,
        work: Work,
        select: Select,
        selection: SelectionOptions,
        options: LaunchOptions,
        *,
        note: Note,
        on_tick: Tick | None,
    ) -> LaunchResult:
        from aim_catalog.launch.targets.docker.service import launch

        return launch(work, select, selection, options, note=note, on_tick=on_tick)

    def deployments(
        self, work: Work, *, include_all: bool, all_hosts: bool, note: Note
    ) -> list[DeploymentRow]:
        from aim_catalog.launch.targets.docker.operations import rows

        return rows(work, include_all=include_all, all_hosts=all_hosts)

    def find(self, work: Work, name: str) -> Found:
        """Asked last (the default target): a name it does not know is not known at all."""
        from aim_catalog.launch.deployments import ACTIVE
        from aim_catalog.launch.targets.base import Found
        from aim_catalog.launch.targets.docker.operations import find

        container = find(work, name)
        return Found(name, 0, container.status in ACTIVE, container)

    def stop(self, work: Work, found: Found) -> Stopped:
        from aim_catalog.launch.targets.docker.operations import stop

        return stop(work, found.handle)

    def logs(self, work: Work, found: Found, *, follow: bool, tail: int | None, write: Write) -> None:
        from aim_catalog.launch.targets.docker.operations import logs

        logs(found.handle, follow=follow, tail=tail, write=write)

    def served(self, work: Work, name: str) -> Served:
        from aim_catalog.launch.targets.docker.operations import served

        return served(work, name)

    def run_client(
        self, work: Work, found: Found, argv: list[str], result_path: str, *, timeout: float, stop: Any
    ) -> tuple[int, bytes, str]:
        from aim_catalog.launch.targets.docker.bench_exec import exec_and_fetch

        container = found.handle
        return exec_and_fetch(container.client, container.key, argv, result_path, timeout=timeout, stop=stop)
