"""Operator commands: launch the winning config as a ROCm container, then ps, logs, stop.

The work is the launch service's (``launch.service`` and the target ``--target`` names,
through ``Catalog``); these commands parse options and render.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from aim_catalog.cli.app import app, catalog_of, directory_option
from aim_catalog.cli.selection_opts import expanded, finite, selection_options
from aim_catalog.selection.options import SelectionOptions
from aim_catalog.settings import DEFAULT_LAUNCH_TIMEOUT, DEFAULT_TARGET, MAX_LAUNCH_TIMEOUT

if TYPE_CHECKING:
    from aim_catalog.launch.plan import LaunchOptions


def launch_options(selection: SelectionOptions, given: dict[str, Any]) -> LaunchOptions:
    """The launch-only options as ``launch`` got them, parsed (usage errors in the order the
    command always gave them: the name first; the launch service checks the rest of the
    combination, the target's own rules included, before it touches anything)."""
    from aim_catalog.launch.plan import ClusterOptions, LaunchOptions, check_gpu_count, parse_gpu_list
    from aim_catalog.launch.runspec import parse_env, parse_overrides, parse_shm_size
    from aim_catalog.launch.service import check_name

    check_name(given["target"], given["name"])
    out = directory_option(given["out"])
    indexes = parse_gpu_list(given["gpu_list"])
    check_gpu_count(selection, indexes)
    cluster = ClusterOptions(
        given["hf_cache_pvc"], given["hf_token_secret"], given["context"], given["namespace"], out,
        given["cpu"], given["memory"], given["node_affinity"],
    )  # fmt: skip
    options = LaunchOptions(
        port=given["port"], name=given["name"], image=given["image"], env=parse_env(given["env"]),
        overrides=parse_overrides(given["arg"]), gpu_indexes=indexes, hf_cache=given["hf_cache"],
        shm_size=parse_shm_size(given["shm_size"]), timeout=given["timeout"], wait=not given["no_wait"],
        keep_on_failure=given["keep_on_failure"], replicas=given["replicas"], target=given["target"],
        cluster=cluster,
    )  # fmt: skip
    return options


# The launch-only options, in the help's order: name -> (annotation, its one declaration).
LAUNCH_OPTIONS: dict[str, tuple[Any, Any]] = {
    "port": (int, typer.Option(8000, "--port", min=1, max=65535, help="Host port to publish the server on.")),
    "name": (
        str | None,
        typer.Option(None, "--name", help="Container name (default: aim-<model>-<N>gpu-...)."),
    ),
    "image": (str | None, typer.Option(None, "--image", help="Override the config's image.")),
    "env": (list[str], typer.Option([], "--env", "-e", help="Extra environment, KEY=VALUE (repeatable).")),
    "arg": (list[str], typer.Option([], "--arg", help="Override a server flag: --arg --max-model-len=8192.")),
    "gpu_list": (str | None, typer.Option(None, "--gpus", help="Use these GPU indexes, e.g. 0,1,2,3.")),
    "hf_cache": (
        Path | None,
        typer.Option(
            None,
            "--hf-cache",
            help="Host Hugging Face cache to mount (default: $HF_HOME or ~/.cache/huggingface).",
        ),
    ),
    "shm_size": (
        str | None,
        typer.Option(
            None, "--shm-size", help="Use a private shm of this size (e.g. 16g) instead of host IPC."
        ),
    ),
    "timeout": (
        float,
        typer.Option(
            DEFAULT_LAUNCH_TIMEOUT,
            "--timeout",
            min=1,
            max=MAX_LAUNCH_TIMEOUT,
            callback=finite,
            help="Seconds to wait until the server answers, the recipe's setup steps included "
            "(at most 86400, a day).",
        ),
    ),
    "no_wait": (bool, typer.Option(False, "--no-wait", help="Return once the container has started.")),
    "keep_on_failure": (
        bool,
        typer.Option(False, "--keep-on-failure", help="Keep a failed container for inspection."),
    ),
    "dry_run": (
        bool,
        typer.Option(False, "--dry-run", help="Print what would run (and a docker run line); start nothing."),
    ),
    "as_json": (
        bool,
        typer.Option(False, "--json", help="Print the spec (dry run) or the deployment as JSON."),
    ),
    "target": (
        str,
        typer.Option(
            DEFAULT_TARGET,
            "--target",
            help="docker (this host), kubernetes (Deployment + Service) or kserve.",
        ),
    ),
    "replicas": (
        int,
        typer.Option(
            1,
            "--replicas",
            min=1,
            max=1000,
            help="Copies to run (Docker: disjoint GPUs, ports from --port on).",
        ),
    ),
    "hf_cache_pvc": (
        str | None,
        typer.Option(
            None, "--hf-cache-pvc", help="Cluster: a PersistentVolumeClaim for the Hugging Face cache."
        ),
    ),
    "hf_token_secret": (
        str | None,
        typer.Option(
            None,
            "--hf-token-secret",
            help="Cluster: HF_TOKEN from this Secret (NAME or NAME:KEY; key HF_TOKEN).",
        ),
    ),
    "context": (
        str | None,
        typer.Option(None, "--context", help="Cluster: kubeconfig context (default: current)."),
    ),
    "namespace": (str | None, typer.Option(None, "--namespace", "-n", help="Cluster: namespace.")),
    "out": (str | None, typer.Option(None, "--out", help="Cluster: write one YAML file per object here.")),
    "cpu": (str | None, typer.Option(None, "--cpu", help="Cluster: CPU request per pod (e.g. 16).")),
    "memory": (
        str | None,
        typer.Option(None, "--memory", help="Cluster: memory request per pod (e.g. 256Gi)."),
    ),
    "node_affinity": (
        bool,
        typer.Option(
            True, "--node-affinity/--no-node-affinity", help="Cluster: only nodes of the recipe's GPU model."
        ),
    ),
}


@app.command()
@selection_options(exclude=("request_rate", "host_gpus"))
@expanded("given", dict, LAUNCH_OPTIONS)
def launch(ctx: typer.Context, selection: SelectionOptions, given: dict[str, Any]) -> None:
    """Select the best config and run it as a ROCm container, waiting until it serves.

    HF_TOKEN is passed from your environment to the container; it is never stored or
    printed. Exit code 5 when the launch fails (the container is removed, logs shown).
    --target kubernetes|kserve renders (and, without --dry-run, applies) Kubernetes objects
    instead; the pods' HF_TOKEN comes only from --hf-token-secret.

    \b
    Example: aim-catalog launch Qwen/Qwen3-32B 4 --precision bf16 --backend vllm --dry-run
    Example: aim-catalog launch Qwen/Qwen3-32B 8 --target kubernetes --dry-run | kubectl apply -f -
    """
    from aim_catalog.cli import launch_show as show
    from aim_catalog.cli import render

    options = launch_options(selection, given)
    catalog = catalog_of(ctx)
    as_json = given["as_json"]
    if given["dry_run"] or options.cluster.out is not None:  # --out: render the files, apply nothing
        show.show_plan(catalog.plan_launch(selection, options, note=render.note), options, as_json)
        return
    with show.spinner() as tick:
        result = catalog.launch(selection, options, note=render.note, on_tick=tick)
    show.show_launched(result, options, as_json)


# --------------------------------------------------------------------------- manage


@app.command()
def ps(
    ctx: typer.Context,
    show_all: bool = typer.Option(False, "--all", "-a", help="Include stopped and failed deployments."),
    all_hosts: bool = typer.Option(
        False, "--all-hosts", help="Also list other engines' deployments (from the catalog; not checked)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List this Docker engine's deployments with what Docker says of each container now.

    A container that died or was removed by hand shows as such until `stop` clears it;
    any labelled container still alive (it may hold GPUs) is always shown. With a shared
    catalog, --all-hosts adds the deployments of other engines as the catalog last
    recorded them (read-only: this engine cannot see their containers).

    \b
    Example: aim-catalog ps --all --all-hosts
    """
    from aim_catalog.cli import render

    listing = catalog_of(ctx).deployments(include_all=show_all, all_hosts=all_hosts, note=render.note)
    records = [row.as_dict() for row in listing.rows]
    if DEFAULT_TARGET in listing.unreachable:  # this host's engine did not answer: the cluster rows
        from aim_catalog.cli.kube import show_cluster_rows

        show_cluster_rows(records, as_json)
        return
    if as_json:
        render.emit_json(records)
        return
    if not records:
        render.note("no deployments" + ("" if show_all else " running (--all shows stopped ones)"))
        return
    columns = ("name", "recipe", "backend", "GPUs", "port", "status", "container")
    render.table(
        (*columns[:1], "host", *columns[1:]) if all_hosts else columns,
        [
            (
                r["name"],
                *((r["host"],) if all_hosts else ()),
                r["recipe_id"],
                r["backend"],
                ",".join(map(str, r["gpus"])),
                r["port"],
                r["status"],
                "(other host)" if r["container"] is None else r["container"],
            )
            for r in records
        ],
    )


@app.command()
def stop(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Deployment (container) name, as `ps` shows it."),
) -> None:
    """Stop and remove a deployment's container, freeing its GPUs.

    \b
    Example: aim-catalog stop aim-qwen3-32b-4gpu-bf16-vllm
    """
    from aim_catalog.cli import render

    done = catalog_of(ctx).stop(name)
    if done.where is not None:  # objects on a cluster
        if done.deleted:
            render.line(f"stopped {done.name}: deleted {', '.join(done.deleted)} in {done.where}")
        else:
            render.line(f"{done.name}: its objects were already gone; marked stopped")
        return
    render.line(
        f"stopped {name}" if done.existed else f"{name}: its container was already gone; marked stopped"
    )


@app.command()
def logs(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Deployment (container) name."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new output."),
    tail: int | None = typer.Option(None, "--tail", "-n", min=0, help="Only the last N lines."),
) -> None:
    """Print a deployment's container logs.

    \b
    Example: aim-catalog logs aim-qwen3-32b-4gpu-bf16-vllm --follow --tail 50
    """

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    catalog_of(ctx).logs(name, follow=follow, tail=tail, write=write)
