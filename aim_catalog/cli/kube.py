"""How ``launch --target kubernetes|kserve`` and the cluster rows of ``ps`` are shown.

The work (render, apply, wait, record, list, stop, logs) is the Kubernetes target's
(``launch/targets/kubernetes/``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aim_catalog.launch.plan import Manifests
    from aim_catalog.launch.targets.kubernetes.service import ClusterLaunch


def show_cluster_plan(rendered: Manifests, out_dir: Path | None, as_json: bool) -> None:
    """A dry run (or ``--out``): the files written, then the objects as JSON or YAML."""
    from aim_catalog.cli import render as out
    from aim_catalog.launch.targets.kubernetes.service import write_out

    if out_dir is not None:
        for path in write_out(rendered, out_dir):
            out.line(str(path))
    if as_json:
        out.emit_json(rendered.as_list())
    elif out_dir is None:
        sys.stdout.write(rendered.yaml())


def show_cluster_launch(done: ClusterLaunch, as_json: bool) -> None:
    from aim_catalog.cli import render as out

    if as_json:
        out.emit_json(
            {
                "name": done.name,
                "target": done.target,
                "context": done.context,
                "namespace": done.namespace,
                "objects": list(done.objects),
                "url": done.url,
                "ready": done.ready,
            }
        )
        return
    kinds = ", ".join(done.objects)
    if done.ready:
        out.line(f"{done.name} is ready ({done.recipe_id}; {kinds} in {done.context}/{done.namespace})")
    else:
        out.line(f"applied {kinds} to {done.context}/{done.namespace}; not waiting for the rollout")
    out.line(f"endpoint (in the cluster): {done.url}")
    if done.target == "kubernetes":
        out.line(
            f"from here:  kubectl -n {done.namespace} port-forward service/{done.name} "
            f"{done.service_port}:{done.service_port}"
        )


def show_cluster_rows(rows: list[dict[str, Any]], as_json: bool) -> None:
    from aim_catalog.cli import render as out

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
