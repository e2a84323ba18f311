"""A launch on a cluster (``--target kubernetes|kserve``) and the cluster side of ``ps``,
``stop`` and ``logs``.

Planning (rendering) needs neither a cluster nor the ``kubernetes`` package (``--dry-run``,
``--out``); applying does (the optional extra ``aim-catalog[kubernetes]``), imported only
when applying. No printing: notes go to ``note``; the CLI renders what is returned.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from aim_catalog.errors import EnvironmentProblem, LaunchFailed, UsageProblem
from aim_catalog.launch.deployments import Status
from aim_catalog.notes import Note, Tick, Write
from aim_catalog.settings import ANY

if TYPE_CHECKING:
    from aim_catalog.launch.plan import LaunchOptions, LaunchPlan, Manifests
    from aim_catalog.launch.runspec import RunSpec
    from aim_catalog.launch.targets.base import DeploymentRow, Select
    from aim_catalog.launch.targets.kubernetes.apply import Cluster
    from aim_catalog.launch.targets.kubernetes.render import KubeOptions, Rendered
    from aim_catalog.selection.options import SelectionOptions
    from aim_catalog.selection.request import Candidate
    from aim_catalog.storage.models import Deployment
    from aim_catalog.storage.work import Work, Writer


@dataclass(frozen=True)
class ClusterLaunch:
    """What an applied cluster launch made: its objects, where, and its in-cluster URL."""

    name: str
    target: str
    context: str
    namespace: str
    objects: tuple[str, ...]  # Kind/name
    url: str
    ready: bool
    recipe_id: str
    service_port: int


@dataclass(frozen=True)
class ClusterDeployment:
    """A cluster deployment row, as ``stop`` and ``logs`` act on it."""

    name: str
    key: str  # the row's container_id
    context: str | None
    namespace: str | None
    objects: tuple[dict[str, str], ...]
    row: int = 0  # the row's id
    status: str = ""


def client_module() -> ModuleType:
    """``apply`` (the kubernetes client), or why it cannot be used."""
    try:
        from aim_catalog.launch.targets.kubernetes import apply
    except ImportError as exc:
        raise EnvironmentProblem(
            f"the kubernetes client is not installed ({exc.name}): pip install 'aim-catalog[kubernetes]' "
            "(or use --dry-run, which needs no cluster)"
        ) from exc
    return apply


def kube_options(options: LaunchOptions) -> KubeOptions:
    from aim_catalog.launch.targets.kubernetes.render import KubeOptions

    cluster = options.cluster
    return KubeOptions(
        target=options.target,
        namespace=cluster.namespace,
        replicas=options.replicas,
        service_port=options.port,
        hf_cache_pvc=cluster.hf_cache_pvc,
        hf_cache_host_path=None if options.hf_cache is None else str(options.hf_cache),  # on the nodes
        hf_token_secret=cluster.hf_token_secret,
        cpu=cluster.cpu,
        memory=cluster.memory,
        shm_size=options.shm_size,
        startup_timeout=options.timeout,
        node_affinity=cluster.node_affinity,
    )


def plan_on_cluster(
    work: Work, select: Select, selection: SelectionOptions, options: LaunchOptions, *, note: Note
) -> LaunchPlan:
    """Select (hardware: as asked, else any: this machine's GPUs say nothing of the
    cluster's) and render the objects."""
    from aim_catalog.launch.plan import LaunchPlan, PlannedContainer

    rendered, spec, chosen = _render(work, select, selection, options, note)
    return LaunchPlan(options.target, (PlannedContainer(spec, chosen),), rendered)


def _render(
    work: Work, select: Select, selection: SelectionOptions, options: LaunchOptions, note: Note
) -> tuple[Rendered, RunSpec, Candidate]:
    from aim_catalog.launch.plan import spec_notes
    from aim_catalog.launch.runspec import build_spec, container_name
    from aim_catalog.launch.targets.kubernetes.render import render

    opts = kube_options(options)  # checked already (KubernetesTarget.check, by the launch service)
    asked = replace(selection, hardware=selection.hardware or ANY)
    request = replace(asked.to_request(note=note), hardware_detected=False)
    chosen = select(request)
    spec = build_spec(  # no devices, no host cache: the device plugin and a volume give them
        chosen,
        name=container_name(chosen),
        gpus=list(range(chosen.gpu_count)),
        port=options.port,
        image=options.image,
        env=options.env,
        overrides=options.overrides,
        catalog=work.display_url,
        shm_size=options.shm_size,
    )
    rendered = render(spec, chosen, opts, name=options.name, catalog=work.display_url)
    for text in [*spec.notes, *rendered.notes, *spec_notes(spec)[len(spec.notes) :]]:
        note(text)  # an untrusted image: the nodes pull it, and its pods may get the token Secret
    return rendered, spec, chosen


def write_out(rendered: Manifests, out_dir: Path) -> list[Path]:
    """One YAML file per object in ``out_dir`` (created), never written through a link
    planted there (``writing.write_files``); returns the paths written."""
    from aim_catalog.writing import write_files

    try:
        return write_files(out_dir, {name: text.encode("utf-8") for name, text in rendered.files().items()})
    except OSError as exc:
        raise UsageProblem(f"--out {out_dir}: {exc.strerror or exc}") from exc


def launch_on_cluster(
    work: Work,
    select: Select,
    selection: SelectionOptions,
    options: LaunchOptions,
    *,
    note: Note,
    on_tick: Tick | None,
) -> ClusterLaunch:
    """Render, apply, record and (``options.wait``) wait for the rollout."""
    from aim_catalog.launch.guard import termination_as_interrupt

    kube = client_module()  # a missing kubeconfig or client is the one thing said, before any note
    cluster = kube.connect(options.cluster.context, options.cluster.namespace)
    rendered, spec, chosen = _render(work, select, selection, options, note)
    # SIGTERM/SIGHUP (a closed terminal, a cancelled job) clean up like Ctrl-C does.
    with termination_as_interrupt():
        url = _Rollout(kube, cluster, rendered, chosen, spec, work.write, note).run(options, on_tick)
    return ClusterLaunch(
        name=rendered.name,
        target=rendered.target,
        context=cluster.context,
        namespace=cluster.namespace,
        objects=tuple(f"{o['kind']}/{o['metadata']['name']}" for o in rendered.objects),
        url=url,
        ready=options.wait,
        recipe_id=chosen.recipe_id,
        service_port=rendered.service_port,
    )


@dataclass
class _Rollout:
    """Apply, record, wait; on failure or Ctrl-C delete what was applied (unless kept)."""

    kube: Any
    cluster: Cluster
    rendered: Rendered
    chosen: Candidate
    spec: RunSpec
    write: Writer  # Work.write: one committed unit of work per call
    note: Note

    def run(self, options: LaunchOptions, on_tick: Tick | None) -> str:
        """Returns the in-cluster URL."""
        from aim_catalog.launch import deployments

        applied: list[dict[str, str]] = []
        created: list[dict[str, str]] = []  # the part of applied that did not exist before
        key = None
        url = self.rendered.endpoint(self.cluster.namespace)
        try:
            self.kube.apply(self.cluster, self.rendered, applied, created)
            key = self._record(applied)
            if options.wait:
                url = self._wait(options.timeout, on_tick)
        except (LaunchFailed, KeyboardInterrupt) as exc:
            self._undo(applied, created, keep=options.keep_on_failure)
            if key is not None:
                with self.write() as session:
                    deployments.set_status(session, key, Status.FAILED)
            if isinstance(exc, KeyboardInterrupt):
                raise LaunchFailed(f"interrupted while launching {self.rendered.name}") from exc
            raise
        with self.write() as session:
            deployments.set_status(session, key, Status.RUNNING)
        return url

    def _record(self, applied: list[dict[str, str]]) -> str:
        from aim_catalog.launch.targets.kubernetes import records

        objects = self.rendered.objects
        snapshot = {
            "image": self.spec.image,
            "command": self.spec.command,
            "setup": self.spec.setup,
            "env": self.spec.shown_env(),
            "labels": objects[0]["metadata"]["labels"],
            "hf_token_secret": any(e.get("valueFrom") for o in objects for e in _containers_env(o)),
        }
        with self.write() as session:
            return records.record(
                session,
                name=self.rendered.name,
                target=self.rendered.target,
                server=self.cluster.server,
                context=self.cluster.context,
                namespace=self.cluster.namespace,
                objects=applied,
                candidate=self.chosen,
                image=self.spec.image,
                port=self.rendered.service_port,
                spec=snapshot,
            )

    def _wait(self, timeout: float, on_tick: Tick | None) -> str:
        from aim_catalog.notes import waiting_ticks

        name = self.rendered.name
        tick = waiting_ticks(on_tick, f"rolling out {name}", name, lambda last: last[-120:])
        secrets = tuple(self.spec.secret_values.values())  # this shell's token, should a pod log it
        return str(
            self.kube.wait(self.cluster, self.rendered, timeout=timeout, on_tick=tick, secrets=secrets)
        )

    def _undo(self, applied: list[dict[str, str]], created: list[dict[str, str]], *, keep: bool) -> None:
        if created and not keep:
            self.kube.delete(self.cluster, created)
            gone = ", ".join(f"{o['kind']} {o['name']}" for o in created)
            self.note(f"deleted {gone} (--keep-on-failure keeps them)")
        if updated := [o for o in applied if o not in created]:
            # An earlier launch's objects, now with this launch's spec: deleting them
            # would take down what served before; the operator decides.
            names = ", ".join(f"{o['kind']} {o['name']}" for o in updated)
            namespace, name = self.cluster.namespace, self.rendered.name
            undo = (
                f"; `kubectl -n {namespace} rollout undo deployment/{name}` goes back to the previous spec"
                if any(o["kind"] == "Deployment" for o in updated)
                else ""
            )
            self.note(
                f"left {names} in place: they existed before this launch, which updated them{undo}; "
                f"`aim-catalog stop {name}` deletes them"
            )


def _containers_env(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or spec.get("predictor") or {}
    return [e for c in pod.get("containers") or [] for e in c.get("env") or []]


# --------------------------------------------------------------------------- ps / stop / logs


def cluster_rows(work: Work, target: str, *, include_all: bool) -> list[DeploymentRow]:
    """``ps`` rows for deployments of ``target`` on clusters, each with what its cluster says now."""
    from aim_catalog.launch.targets.base import DeploymentRow
    from aim_catalog.launch.targets.kubernetes import records

    with work.connection() as connection:
        found = [
            (DeploymentRow.of(d, f"{d.context}/{d.namespace}", cluster=True), tuple(d.objects or []))
            for d in records.listing(connection, target, include_all=include_all)
        ]
    clusters: dict[tuple[str | None, str | None], Any] = {}
    return [
        replace(
            row,
            container=_cluster_state(clusters, row.context, row.namespace, list(objects)),
            container_id=",".join(f"{o['kind']}/{o['name']}" for o in objects),
        )
        for row, objects in found
    ]


def _cluster_state(
    clusters: dict[tuple[str | None, str | None], Any],
    context: str | None,
    namespace: str | None,
    objects: list[dict[str, str]],
) -> str:
    where = (context, namespace)
    try:
        kube = client_module()
        if where not in clusters:
            clusters[where] = kube.connect(*where)
        return str(kube.state(clusters[where], objects))
    except (EnvironmentProblem, LaunchFailed, UsageProblem) as exc:
        return f"unknown ({str(exc)[:80]})"


def find_on_cluster(work: Work, target: str, name: str) -> ClusterDeployment | None:
    from aim_catalog.launch.targets.kubernetes import records

    with work.read() as session:
        found: Deployment | None = records.find(session, target, name, context=None, namespace=None)
        if found is None:
            return None
        return ClusterDeployment(
            found.name,
            found.container_id,
            found.context,
            found.namespace,
            tuple(found.objects or []),
            found.id,
            found.status,
        )


def stop_on_cluster(work: Work, found: ClusterDeployment) -> list[str]:
    """Delete what launch applied and mark the row stopped; returns the objects deleted."""
    from aim_catalog.launch import deployments

    kube = client_module()
    cluster = kube.connect(found.context, found.namespace)
    deleted: list[str] = kube.delete(cluster, list(found.objects))
    with work.write() as session:
        deployments.set_status(session, found.key, Status.STOPPED)
    return deleted


def logs_on_cluster(found: ClusterDeployment, *, follow: bool, tail: int | None, write: Write) -> None:
    kube = client_module()
    cluster = kube.connect(found.context, found.namespace)
    with contextlib.suppress(KeyboardInterrupt):
        kube.stream_logs(cluster, found.name, follow=follow, tail=tail, write=write)
