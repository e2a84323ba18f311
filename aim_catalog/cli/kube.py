"""``launch --target kubernetes|kserve`` and the cluster side of ``ps``, ``stop``, ``logs``.

Rendering needs neither a cluster nor the ``kubernetes`` package (``--dry-run``, ``--out``);
applying does (the optional extra ``aim-catalog[kubernetes]``), and is imported only here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from aim_catalog.cli.app import build_request, catalog_engine, catalog_session, state_of
from aim_catalog.errors import EnvironmentProblem, LaunchFailed, UsageProblem
from aim_catalog.settings import redact, resolve_db_url

if TYPE_CHECKING:
    from aim_catalog.kube.apply import Cluster
    from aim_catalog.kube.render import KubeOptions, Rendered


def _client() -> Any:
    try:
        from aim_catalog.kube import apply
    except ImportError as exc:
        raise EnvironmentProblem(
            f"the kubernetes client is not installed ({exc.name}): pip install 'aim-catalog[kubernetes]' "
            "(or use --dry-run, which needs no cluster)"
        ) from exc
    return apply


def render_for(
    ctx: typer.Context, plan: Any, opts: KubeOptions, name: str | None
) -> tuple[Rendered, Any, Any]:
    """Select (hardware: as asked, else any: this machine's GPUs say nothing of the
    cluster's) and render; returns (rendered, the chosen candidate, its run spec)."""
    from aim_catalog import render as out
    from aim_catalog.kube.render import check_options, render
    from aim_catalog.runspec import CONTAINER_HF_HOME, build_spec, container_name
    from aim_catalog.selection import select_best

    check_options(opts)
    model, precision, backend, hardware, metric = plan.select_args
    request = build_request(model, plan.gpus, precision, backend, hardware or "any", metric, **plan.filters)
    with catalog_session(ctx) as session:
        chosen = select_best(session, request)
    args = dict(plan.spec_args)
    args.pop("hf_cache", None)
    catalog = redact(resolve_db_url(state_of(ctx).db)[0])
    spec = build_spec(
        chosen,
        name=container_name(chosen),
        gpus=list(range(chosen.gpu_count)),
        render_minors=[],
        hf_cache=Path(CONTAINER_HF_HOME),  # unused: the cluster's cache is a volume
        catalog=catalog,
        check_devices=False,
        **args,
    )
    rendered = render(spec, chosen, opts, name=name, catalog=catalog)
    for text in [*spec.notes, *rendered.notes]:
        out.note(text)
    if not spec.trusted_registry:  # the nodes pull it, and its pods may get the token Secret
        from aim_catalog.cli.launch import _untrusted

        out.note(_untrusted(spec))
    return rendered, chosen, spec


def write_out(rendered: Rendered, out_dir: Path) -> list[Path]:
    """One YAML file per object in ``out_dir`` (created); returns the paths written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for filename, text in rendered.files().items():
            path = out_dir / filename
            tmp = path.with_name(f".{filename}.tmp")
            tmp.write_text(text)
            os.replace(tmp, path)
            written.append(path)
    except OSError as exc:
        raise UsageProblem(f"--out {out_dir}: {exc.strerror or exc}") from exc
    return written


def launch_on_cluster(
    ctx: typer.Context,
    plan: Any,
    opts: KubeOptions,
    *,
    name: str | None,
    context: str | None,
    out_dir: Path | None,
    dry_run: bool,
    as_json: bool,
    timeout: float,
    wait: bool,
    keep: bool,
) -> None:
    from aim_catalog import render as out
    from aim_catalog.kube.render import check_options

    check_options(opts)
    applying = not dry_run and out_dir is None
    if applying:  # a missing kubeconfig or client is the one thing said, before any note
        kube = _client()
        cluster = kube.connect(context, opts.namespace)
    rendered, chosen, spec = render_for(ctx, plan, opts, name)
    if out_dir is not None:
        for path in write_out(rendered, out_dir):
            out.line(str(path))
    if not applying:
        if as_json:
            out.emit_json(rendered.as_list())
        elif out_dir is None:
            sys.stdout.write(rendered.yaml())
        return
    from aim_catalog.launcher import termination_as_interrupt

    # SIGTERM/SIGHUP (a closed terminal, a cancelled job) clean up like Ctrl-C does.
    with termination_as_interrupt():
        url = _apply_and_wait(
            ctx, kube, cluster, rendered, chosen, spec, timeout=timeout, wait=wait, keep=keep
        )
    if as_json:
        out.emit_json(
            {
                "name": rendered.name,
                "target": rendered.target,
                "context": cluster.context,
                "namespace": cluster.namespace,
                "objects": [f"{o['kind']}/{o['metadata']['name']}" for o in rendered.objects],
                "url": url,
                "ready": wait,
            }
        )
        return
    kinds = ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in rendered.objects)
    if wait:
        out.line(
            f"{rendered.name} is ready ({chosen.recipe_id}; {kinds} in {cluster.context}/{cluster.namespace})"
        )
    else:
        out.line(f"applied {kinds} to {cluster.context}/{cluster.namespace}; not waiting for the rollout")
    out.line(f"endpoint (in the cluster): {url}")
    if rendered.target == "kubernetes":
        out.line(
            f"from here:  kubectl -n {cluster.namespace} port-forward service/{rendered.name} "
            f"{rendered.service_port}:{rendered.service_port}"
        )


def _apply_and_wait(
    ctx: typer.Context,
    kube: Any,
    cluster: Cluster,
    rendered: Rendered,
    chosen: Any,
    spec: Any,
    *,
    timeout: float,
    wait: bool,
    keep: bool,
) -> str:
    """Apply, record, wait; on failure or Ctrl-C delete what was applied (unless ``keep``).
    Returns the in-cluster URL."""
    from rich.text import Text

    from aim_catalog import db, deployments
    from aim_catalog import render as out
    from aim_catalog.kube import records

    snapshot = {
        "image": spec.image,
        "command": spec.command,
        "env": spec.shown_env(),
        "labels": rendered.objects[0]["metadata"]["labels"],
        "hf_token_secret": any(e.get("valueFrom") for o in rendered.objects for e in _containers_env(o)),
    }
    with catalog_engine(ctx) as engine:
        sessions = db.session_factory(engine)
        applied: list[dict[str, str]] = []
        created: list[dict[str, str]] = []  # the part of applied that did not exist before
        key = None
        url = rendered.endpoint(cluster.namespace)
        try:
            kube.apply(cluster, rendered, applied, created)
            with sessions.begin() as session:
                key = records.record(
                    session,
                    name=rendered.name,
                    target=rendered.target,
                    server=cluster.server,
                    context=cluster.context,
                    namespace=cluster.namespace,
                    objects=applied,
                    candidate=chosen,
                    image=spec.image,
                    port=rendered.service_port,
                    spec=snapshot,
                )
            if wait:
                status = (
                    out.err().status(f"rolling out {rendered.name}") if out.stderr_is_terminal() else None
                )

                def tick(elapsed: float, last: str) -> None:
                    if status is not None:
                        status.update(Text(f"waiting for {rendered.name}: {elapsed:.0f}s  {last[-120:]}"))

                if status is not None:
                    status.start()
                try:
                    url = kube.wait(cluster, rendered, timeout=timeout, on_tick=tick)
                finally:
                    if status is not None:
                        status.stop()
        except (LaunchFailed, KeyboardInterrupt) as exc:
            if created and not keep:
                kube.delete(cluster, created)
                gone = ", ".join(f"{o['kind']} {o['name']}" for o in created)
                out.note(f"deleted {gone} (--keep-on-failure keeps them)")
            if updated := [o for o in applied if o not in created]:
                # An earlier launch's objects, now with this launch's spec: deleting them
                # would take down what served before; the operator decides.
                names = ", ".join(f"{o['kind']} {o['name']}" for o in updated)
                undo = (
                    f"; `kubectl -n {cluster.namespace} rollout undo deployment/{rendered.name}` "
                    "goes back to the previous spec"
                    if any(o["kind"] == "Deployment" for o in updated)
                    else ""
                )
                out.note(
                    f"left {names} in place: they existed before this launch, which updated them{undo}; "
                    f"`aim-catalog stop {rendered.name}` deletes them"
                )
            if key is not None:
                with sessions.begin() as session:
                    deployments.set_status(session, key, "failed")
            if isinstance(exc, KeyboardInterrupt):
                raise LaunchFailed(f"interrupted while launching {rendered.name}") from exc
            raise
        with sessions.begin() as session:
            deployments.set_status(session, key, "running")
    return url


def _containers_env(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or spec.get("predictor") or {}
    return [e for c in pod.get("containers") or [] for e in c.get("env") or []]


# --------------------------------------------------------------------------- ps / stop / logs


def cluster_rows(ctx: typer.Context, *, include_all: bool) -> list[dict[str, Any]]:
    """``ps`` rows (the Docker rows' keys, plus target, context, namespace) for deployments
    on clusters, each with what its cluster says now (``container``)."""
    from aim_catalog.cli.launch import ps_row
    from aim_catalog.kube import records

    with catalog_session(ctx) as session:
        found: list[dict[str, Any]] = [
            {
                **ps_row(d, f"{d.context}/{d.namespace}"),
                "container": None,
                "container_id": ",".join(f"{o['kind']}/{o['name']}" for o in d.objects or []),
                "target": d.target,
                "context": d.context,
                "namespace": d.namespace,
                "objects": d.objects or [],
            }
            for d in records.listing(session, include_all=include_all)
        ]
    clusters: dict[tuple[str | None, str | None], Any] = {}
    for row in found:
        row["container"] = _cluster_state(clusters, row)
        del row["objects"]
    return found


def show_cluster_rows(rows: list[dict[str, Any]], as_json: bool) -> None:
    from aim_catalog import render as out

    if as_json:
        out.emit_json(rows)
        return
    out.table(
        ("name", "context/namespace", "recipe", "backend", "GPUs", "status", "cluster says"),
        [
            (r["name"], r["host"], r["recipe_id"], r["backend"], len(r["gpus"]), r["status"], r["container"])
            for r in rows
        ],
    )


def _cluster_state(clusters: dict[tuple[str | None, str | None], Any], row: dict[str, Any]) -> str:
    where = (row["context"], row["namespace"])
    try:
        kube = _client()
        if where not in clusters:
            clusters[where] = kube.connect(*where)
        return str(kube.state(clusters[where], row["objects"]))
    except (EnvironmentProblem, LaunchFailed, UsageProblem) as exc:
        return f"unknown ({str(exc)[:80]})"


def find_on_cluster(ctx: typer.Context, name: str) -> Any:
    from aim_catalog.kube import records

    with catalog_session(ctx) as session:
        return records.find(session, name, context=None, namespace=None)


def stop_on_cluster(ctx: typer.Context, found: Any) -> None:
    from aim_catalog import deployments
    from aim_catalog import render as out

    kube = _client()
    cluster = kube.connect(found.context, found.namespace)
    deleted = kube.delete(cluster, found.objects or [])
    with catalog_session(ctx) as session:
        deployments.set_status(session, found.container_id, "stopped")
    if deleted:
        out.line(f"stopped {found.name}: deleted {', '.join(deleted)} in {found.context}/{found.namespace}")
    else:
        out.line(f"{found.name}: its objects were already gone; marked stopped")


def logs_on_cluster(found: Any, *, follow: bool, tail: int | None) -> None:
    import contextlib

    kube = _client()
    cluster = kube.connect(found.context, found.namespace)

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    with contextlib.suppress(KeyboardInterrupt):
        kube.stream_logs(cluster, found.name, follow=follow, tail=tail, write=write)
