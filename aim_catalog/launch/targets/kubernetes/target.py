"""The cluster targets as the launch service sees them: ``kubernetes`` (a Deployment and a
Service) and ``kserve`` (a KServe InferenceService), one class with two registrations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from aim_catalog.errors import UsageProblem
from aim_catalog.launch.targets.base import Stopped

if TYPE_CHECKING:
    from aim_catalog.launch.plan import LaunchOptions, LaunchPlan
    from aim_catalog.launch.targets.base import DeploymentRow, Found, Select, Served
    from aim_catalog.launch.targets.kubernetes.service import ClusterDeployment, ClusterLaunch
    from aim_catalog.notes import Note, Tick, Write
    from aim_catalog.selection.options import SelectionOptions
    from aim_catalog.storage.work import Work


class KubernetesTarget:
    """Objects on the cluster of a kubeconfig context (the ``kubernetes`` client applies
    them; ``--dry-run`` and ``--out`` render them without one)."""

    name: ClassVar[str] = "kubernetes"

    def check_name(self, name: str) -> None:
        """Object names are checked with the rest of the cluster options (``check``)."""

    def check(self, selection: SelectionOptions, options: LaunchOptions) -> None:
        from aim_catalog.launch.targets.kubernetes.render import check_options
        from aim_catalog.launch.targets.kubernetes.service import kube_options

        if options.gpu_indexes is not None:
            raise UsageProblem("--gpus is for --target docker: the cluster schedules the GPUs")
        check_options(kube_options(options))

    def plan(
        self, work: Work, select: Select, selection: SelectionOptions, options: LaunchOptions, *, note: Note
    ) -> LaunchPlan:
        from aim_catalog.launch.targets.kubernetes.service import plan_on_cluster

        return plan_on_cluster(work, select, selection, options, note=note)

    def launch(
        self,
        work: Work,
        select: Select,
        selection: SelectionOptions,
        options: LaunchOptions,
        *,
        note: Note,
        on_tick: Tick | None,
    ) -> ClusterLaunch:
        from aim_catalog.launch.targets.kubernetes.service import launch_on_cluster

        return launch_on_cluster(work, select, selection, options, note=note, on_tick=on_tick)

    def deployments(
        self, work: Work, *, include_all: bool, all_hosts: bool, note: Note
    ) -> list[DeploymentRow]:
        from aim_catalog.launch.targets.kubernetes.service import cluster_rows

        return cluster_rows(work, self.name, include_all=include_all)

    def find(self, work: Work, name: str) -> Found | None:
        from aim_catalog.launch.deployments import ACTIVE
        from aim_catalog.launch.targets.base import Found
        from aim_catalog.launch.targets.kubernetes.service import find_on_cluster

        row = find_on_cluster(work, self.name, name)
        return None if row is None else Found(row.name, row.row, row.status in ACTIVE, row)

    def stop(self, work: Work, found: Found) -> Stopped:
        """Delete what launch applied and mark the row stopped."""
        from aim_catalog.launch.targets.kubernetes.service import stop_on_cluster

        row: ClusterDeployment = found.handle
        deleted = stop_on_cluster(work, row)
        return Stopped(row.name, bool(deleted), f"{row.context}/{row.namespace}", tuple(deleted))

    def logs(self, work: Work, found: Found, *, follow: bool, tail: int | None, write: Write) -> None:
        from aim_catalog.launch.targets.kubernetes.service import logs_on_cluster

        logs_on_cluster(found.handle, follow=follow, tail=tail, write=write)

    def served(self, work: Work, name: str) -> Served | None:
        """None: ``aim-catalog test`` asks deployments it can reach from here (a cluster's
        Service answers inside the cluster; give ``test`` a forwarded URL instead)."""
        return None

    def run_client(
        self, work: Work, found: Found, argv: list[str], result_path: str, *, timeout: float, stop: Any
    ) -> tuple[int, bytes, str]:
        raise UsageProblem(
            f"{found.name} runs on a cluster: --client image runs a client inside a local Docker "
            "deployment; measure it with --client builtin --url (after `kubectl port-forward`)"
        )


class KServeTarget(KubernetesTarget):
    """A KServe ``InferenceService`` (raw deployment mode) on the cluster."""

    name: ClassVar[str] = "kserve"
