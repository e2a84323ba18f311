"""Operator commands: launch the winning config as a ROCm container, then ps, logs, stop."""

from __future__ import annotations

import contextlib
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from aim_catalog.cli.app import (
    BACKEND_OPT,
    CONCURRENCY_OPT,
    GOAL_OPT,
    GPUS_ARG,
    HARDWARE_OPT,
    INPUT_LEN_OPT,
    MAX_E2EL_OPT,
    MAX_TPOT_OPT,
    MAX_TTFT_OPT,
    METRIC_OPT,
    OUTPUT_LEN_OPT,
    PRECISION_OPT,
    RECIPE_OPT,
    app,
    build_request,
    catalog_engine,
    catalog_session,
    directory_option,
    finite,
    state_of,
)
from aim_catalog.errors import LaunchFailed, UsageProblem, shown
from aim_catalog.settings import BACKEND_LABELS, redact, resolve_db_url

DEFAULT_TIMEOUT = 3600.0  # big models take many minutes to download and load
# A day: ample for any download, and the Kubernetes deadline/threshold built from it stay int32.
MAX_TIMEOUT = 86400.0


def _parse_gpu_list(value: str | None) -> list[int] | None:
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
    return indexes


@app.command()
def launch(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Hugging Face model id, e.g. Qwen/Qwen3-32B."),
    gpus: int | None = GPUS_ARG,
    precision: str = PRECISION_OPT,
    backend: str | None = BACKEND_OPT,
    hardware: str | None = HARDWARE_OPT,
    metric: str = METRIC_OPT,
    input_len: int | None = INPUT_LEN_OPT,
    output_len: int | None = OUTPUT_LEN_OPT,
    concurrency: int | None = CONCURRENCY_OPT,
    max_ttft_ms: float | None = MAX_TTFT_OPT,
    max_tpot_ms: float | None = MAX_TPOT_OPT,
    max_e2el_ms: float | None = MAX_E2EL_OPT,
    goal: str | None = GOAL_OPT,
    recipe: str | None = RECIPE_OPT,
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Host port to publish the server on."),
    name: str | None = typer.Option(None, "--name", help="Container name (default: aim-<model>-<N>gpu-...)."),
    image: str | None = typer.Option(None, "--image", help="Override the config's image."),
    env: list[str] = typer.Option([], "--env", "-e", help="Extra environment, KEY=VALUE (repeatable)."),
    arg: list[str] = typer.Option([], "--arg", help="Override a server flag: --arg --max-model-len=8192."),
    gpu_list: str | None = typer.Option(None, "--gpus", help="Use these GPU indexes, e.g. 0,1,2,3."),
    hf_cache: Path | None = typer.Option(
        None,
        "--hf-cache",
        help="Host Hugging Face cache to mount (default: $HF_HOME or ~/.cache/huggingface).",
    ),
    shm_size: str | None = typer.Option(
        None, "--shm-size", help="Use a private shm of this size (e.g. 16g) instead of host IPC."
    ),
    timeout: float = typer.Option(
        DEFAULT_TIMEOUT,
        "--timeout",
        min=1,
        max=MAX_TIMEOUT,
        callback=finite,
        help="Seconds to wait until the server answers (at most 86400, a day).",
    ),
    no_wait: bool = typer.Option(False, "--no-wait", help="Return once the container has started."),
    keep_on_failure: bool = typer.Option(
        False, "--keep-on-failure", help="Keep a failed container for inspection."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print what would run (and a docker run line); start nothing."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the spec (dry run) or the deployment as JSON."),
    target: str = typer.Option(
        "docker", "--target", help="docker (this host), kubernetes (Deployment + Service) or kserve."
    ),
    replicas: int = typer.Option(
        1, "--replicas", min=1, max=1000, help="Copies to run (Docker: disjoint GPUs, ports from --port on)."
    ),
    hf_cache_pvc: str | None = typer.Option(
        None, "--hf-cache-pvc", help="Cluster: a PersistentVolumeClaim for the Hugging Face cache."
    ),
    hf_token_secret: str | None = typer.Option(
        None, "--hf-token-secret", help="Cluster: HF_TOKEN from this Secret (NAME or NAME:KEY; key HF_TOKEN)."
    ),
    context: str | None = typer.Option(
        None, "--context", help="Cluster: kubeconfig context (default: current)."
    ),
    namespace: str | None = typer.Option(None, "--namespace", "-n", help="Cluster: namespace."),
    out: str | None = typer.Option(None, "--out", help="Cluster: write one YAML file per object here."),
    cpu: str | None = typer.Option(None, "--cpu", help="Cluster: CPU request per pod (e.g. 16)."),
    memory: str | None = typer.Option(None, "--memory", help="Cluster: memory request per pod (e.g. 256Gi)."),
    node_affinity: bool = typer.Option(
        True, "--node-affinity/--no-node-affinity", help="Cluster: only nodes of the recipe's GPU model."
    ),
) -> None:
    """Select the best config and run it as a ROCm container, waiting until it serves.

    HF_TOKEN is passed from your environment to the container; it is never stored or
    printed. Exit code 5 when the launch fails (the container is removed, logs shown).
    --target kubernetes|kserve renders (and, without --dry-run, applies) Kubernetes objects
    instead; the pods' HF_TOKEN comes only from --hf-token-secret.

    \b
    Example: aim-catalog launch Qwen/Qwen3-32B 4 --precision bf16 --backend vllm --dry-run
    Example: aim-catalog launch Qwen/Qwen3-32B 8 --target kubernetes --dry-run | kubectl apply -f -
    """
    from aim_catalog.launcher import termination_as_interrupt
    from aim_catalog.runspec import check_name, dev_root, parse_env, parse_overrides, parse_shm_size

    if name is not None and target == "docker":
        check_name(name)

    out_dir = directory_option(out)
    explicit = _parse_gpu_list(gpu_list)
    if explicit is not None and gpus is not None and len(explicit) != gpus:
        raise UsageProblem(f"GPUS is {gpus} but --gpus names {len(explicit)} GPU(s)")
    plan = _Plan(
        ctx=ctx,
        gpus=gpus or (len(explicit) if explicit else None),
        explicit=explicit,
        select_args=(model, precision, backend, hardware, metric),
        filters={
            "input_len": input_len,
            "output_len": output_len,
            "concurrency": concurrency,
            "max_ttft_ms": max_ttft_ms,
            "max_tpot_ms": max_tpot_ms,
            "max_e2el_ms": max_e2el_ms,
            "goal": goal,
            "recipe": recipe,
        },
        spec_args={
            "port": port,
            "image": image,
            "env": parse_env(env),
            "overrides": parse_overrides(arg),
            "hf_cache": hf_cache,
            "shm_size": parse_shm_size(shm_size),
        },
        dry_run=dry_run,
    )
    if target != "docker":
        if gpu_list is not None:
            raise UsageProblem("--gpus is for --target docker: the cluster schedules the GPUs")
        _launch_on_cluster(
            plan,
            target=target,
            name=name,
            namespace=namespace,
            context=context,
            replicas=replicas,
            hf_cache=hf_cache,
            hf_cache_pvc=hf_cache_pvc,
            hf_token_secret=hf_token_secret,
            resources=(cpu, memory),
            node_affinity=node_affinity,
            out_dir=out_dir,
            run=(dry_run, as_json, timeout, not no_wait, keep_on_failure),
        )
        return
    cluster_only = {
        "--hf-cache-pvc": hf_cache_pvc,
        "--hf-token-secret": hf_token_secret,
        "--context": context,
        "--namespace": namespace,
        "--out": out_dir,
        "--cpu": cpu,
        "--memory": memory,
        "--no-node-affinity": None if node_affinity else True,
    }
    given = [flag for flag, value in cluster_only.items() if value is not None]
    if given:
        raise UsageProblem(f"{', '.join(given)}: for --target kubernetes or kserve only")
    if replicas != 1 and gpu_list is not None:
        raise UsageProblem("--gpus names one copy's GPUs; --replicas chooses disjoint ones itself")
    if dry_run and replicas != 1:
        from aim_catalog.cli import replicas as copies

        copies.dry_run(plan, name, replicas, as_json)
        return
    if dry_run:
        spec, chosen = plan.make(*_docker_for_dry_run(), name=name)
        _show_spec(spec, chosen, as_json)
        return
    if not (dev_root() / "dev" / "kfd").exists():
        raise LaunchFailed(
            f"{dev_root() / 'dev' / 'kfd'} not found: this host has no ROCm driver loaded (or no AMD GPU), "
            "so it cannot run ROCm containers; use --dry-run to see what would be launched"
        )
    from aim_catalog.cli.operate import warn_if_not_cached

    warn_if_not_cached(model, hf_cache)  # not cached / disk too small: a note, never a failure
    # SIGTERM/SIGHUP (a closed terminal, a cancelled job) clean up like Ctrl-C does.
    with termination_as_interrupt():
        if replicas != 1:  # N copies on disjoint GPUs and ports, all or nothing
            from aim_catalog.cli import replicas as copies

            copies.launch(
                plan, name, replicas, timeout=timeout, wait=not no_wait, keep=keep_on_failure, as_json=as_json
            )
            return
        _launch(plan, name, timeout=timeout, wait=not no_wait, keep=keep_on_failure, as_json=as_json)


def _launch_on_cluster(
    plan: _Plan,
    *,
    target: str,
    name: str | None,
    namespace: str | None,
    context: str | None,
    replicas: int,
    hf_cache: Path | None,
    hf_cache_pvc: str | None,
    hf_token_secret: str | None,
    resources: tuple[str | None, str | None],
    node_affinity: bool,
    out_dir: Path | None,
    run: tuple[bool, bool, float, bool, bool],  # dry run, json, timeout, wait, keep on failure
) -> None:
    """--target kubernetes|kserve: render, and apply unless a dry run (cli/kube.py)."""
    from aim_catalog.cli.kube import launch_on_cluster
    from aim_catalog.kube.render import KubeOptions

    dry_run, as_json, timeout, wait, keep = run
    opts = KubeOptions(
        target=target,
        namespace=namespace,
        replicas=replicas,
        service_port=plan.spec_args["port"],
        hf_cache_pvc=hf_cache_pvc,
        hf_cache_host_path=None if hf_cache is None else str(hf_cache),  # a path on the nodes
        hf_token_secret=hf_token_secret,
        cpu=resources[0],
        memory=resources[1],
        shm_size=plan.spec_args["shm_size"],
        startup_timeout=timeout,
        node_affinity=node_affinity,
    )
    launch_on_cluster(
        plan.ctx,
        plan,
        opts,
        name=name,
        context=context,
        out_dir=out_dir,
        dry_run=dry_run,
        as_json=as_json,
        timeout=timeout,
        wait=wait,
        keep=keep,
    )


@dataclass
class _Plan:
    """Select, allocate GPUs and build the run spec: shared by dry runs and real launches."""

    ctx: typer.Context
    gpus: int | None
    explicit: list[int] | None
    select_args: tuple[str, str, str | None, str | None, str]  # model, precision, backend, hardware, metric
    filters: dict[str, Any]
    spec_args: dict[str, Any]
    dry_run: bool

    def make(
        self, client: Any, held: dict[int, str], *, name: str | None, notes: bool = True
    ) -> tuple[Any, Any]:
        from aim_catalog import render
        from aim_catalog.hardware import detect_gpus, host_model
        from aim_catalog.runspec import build_spec, container_name, hf_cache_dir

        detected = detect_gpus()
        chosen = self._select(detected, held)
        allocated, minors = _allocate(detected, held, chosen.gpu_count, self.explicit, self.dry_run)
        if name is None:
            name = container_name(chosen)
            if client is not None:
                from aim_catalog.launcher import unique_name

                name = unique_name(client, name)
        args = dict(self.spec_args)
        spec = build_spec(
            chosen,
            name=name,
            gpus=allocated,
            render_minors=minors,
            hf_cache=hf_cache_dir(args.pop("hf_cache")),
            catalog=redact(resolve_db_url(state_of(self.ctx).db)[0]),
            check_devices=not self.dry_run,
            host_hardware=host_model(detected),
            **args,
        )
        if notes:
            for text in spec.notes:
                render.note(text)
            if not spec.trusted_registry:
                render.note(_untrusted(spec))
        return spec, chosen

    def _select(self, detected: list[Any], held: dict[int, str]) -> Any:
        from aim_catalog.errors import NoSuitableRecipe
        from aim_catalog.launcher import allocate
        from aim_catalog.selection import goal_note, select_best

        free = len([g for g in detected if g.index not in held]) if detected else None
        request = build_request(*self._head(), free_gpus=free, **self.filters)
        try:
            with catalog_session(self.ctx) as session:
                chosen = select_best(session, request)
            if goal_note(request, chosen):
                from aim_catalog import render

                render.note(str(goal_note(request, chosen)))
            if chosen.any_backend:
                from aim_catalog import render
                from aim_catalog.cli.catalog import no_default_backend

                label = BACKEND_LABELS.get(chosen.backend, chosen.backend)
                render.note(f"{label}: {no_default_backend(chosen)}")
            return chosen
        except NoSuitableRecipe:
            if not held or self.gpus is not None:
                raise
            # Something would fit if the busy GPUs were free: say who holds them.
            everything = build_request(*self._head(), free_gpus=len(detected), **self.filters)
            with catalog_session(self.ctx) as session:
                wanted = select_best(session, everything)
            allocate(detected, held, wanted.gpu_count, None)
            raise

    def _head(self) -> tuple[Any, ...]:
        model, precision, backend, hardware, metric = self.select_args
        return (model, self.gpus, precision, backend, hardware, metric)


def _untrusted(spec: Any) -> str:
    from aim_catalog.envpolicy import TRUSTED_REGISTRIES_ENV, trusted_registries

    given = f" and {', '.join(spec.secret_env)}" if spec.secret_env else ""
    return (
        f"warning: image {spec.image} comes from {spec.registry}, which is not a trusted registry "
        f"({', '.join(trusted_registries()) or 'none'}; set {TRUSTED_REGISTRIES_ENV}); "
        f"the container gets your GPUs, SYS_PTRACE{given}"
    )


def _docker_for_dry_run() -> tuple[Any, dict[int, str]]:
    """The Docker client and the GPUs its labelled containers hold; a dry run can do without."""
    from aim_catalog import render
    from aim_catalog.errors import EnvironmentProblem
    from aim_catalog.launcher import connect, held_gpus

    try:
        client = connect()
    except EnvironmentProblem as exc:
        render.note(f"{exc}; assuming no GPU is in use")
        return None, {}
    return client, held_gpus(client)


def _allocate(
    detected: list[Any], held: dict[int, str], count: int, explicit: list[int] | None, dry_run: bool
) -> tuple[list[int], list[int]]:
    from aim_catalog import render
    from aim_catalog.launcher import allocate

    if not detected:
        if not dry_run:
            raise LaunchFailed(
                "no AMD GPU found in sysfs (/sys/class/kfd); use --dry-run to see what would be launched"
            )
        # Placeholders; GPUs shown for earlier dry-run replicas (``held``) are skipped.
        chosen = explicit or [i for i in range(count + len(held)) if i not in held][:count]
        render.note(f"no AMD GPU detected: showing devices for GPU(s) {','.join(map(str, chosen))}")
        return chosen, [128 + i for i in chosen]
    gpus = allocate(detected, held, count, explicit)
    return [g.index for g in gpus], [
        g.render_minor if g.render_minor is not None else 128 + g.index for g in gpus
    ]


def _show_spec(spec: Any, chosen: Any, as_json: bool) -> None:
    from aim_catalog import render

    data = {
        "recipe_id": chosen.recipe_id,
        "backend": chosen.backend,
        "gpu_count": chosen.gpu_count,
        "gpus": [int(i) for i in spec.labels["aim-catalog.gpus"].split(",")],
        **spec.as_dict(),
    }
    if as_json:
        render.emit_json(data)
        return
    label = BACKEND_LABELS.get(chosen.backend, chosen.backend)
    render.line(
        f"Would launch {spec.name}: {chosen.recipe_id}, {label}, "
        f"{chosen.gpu_count} GPU ({spec.labels['aim-catalog.gpus']})"
    )
    trust = "trusted" if spec.trusted_registry else "NOT a trusted registry"
    render.line(f"  image:   {spec.image} (registry {spec.registry}: {trust})")
    render.line(f"  command: {' '.join(spec.shown_command())}")
    render.line(f"  devices: {', '.join(d.split(':')[0] for d in spec.devices)}")
    render.line(f"  port:    {spec.host_port} -> {spec.container_port}")
    render.line(f"  env:     {' '.join(f'{k}={v}' for k, v in spec.shown_env().items())}")
    render.line("")
    render.line(spec.docker_run())


def _launch(plan: _Plan, name: str | None, *, timeout: float, wait: bool, keep: bool, as_json: bool) -> None:
    from rich.text import Text

    from aim_catalog import db, render
    from aim_catalog.launcher import connect, has_image, held_gpus, identify, launch_lock
    from aim_catalog.lifecycle import ContainerLaunch

    client = connect()
    engine = identify(client)
    with catalog_engine(plan.ctx) as catalog:
        sessions = db.session_factory(catalog)
        launch = None
        for _attempt in range(3):
            # Pull before taking the launch lock (a pull can take many minutes); inside it,
            # select and allocate again with the GPUs held now, and create and record.
            preliminary, _ = plan.make(client, held_gpus(client), name=name, notes=False)
            _pull(client, preliminary.image)
            with launch_lock(engine, on_wait=render.note):
                spec, chosen = plan.make(client, held_gpus(client), name=name)
                if has_image(client, spec.image):
                    _make_cache_dir(spec)
                    launch = ContainerLaunch(client, sessions, engine, spec, chosen, keep_on_failure=keep)
                    launch.create_and_record()
                    break
        if launch is None:
            raise LaunchFailed("the selected image kept changing while images were pulled; try again")
        status = render.err().status(f"starting {spec.name}") if render.stderr_is_terminal() else None

        def tick(elapsed: float, last: str) -> None:
            if status is not None:  # Text: a log line is data, never rich markup
                status.update(
                    Text(render.safe(f"waiting for {spec.name}: {elapsed:.0f}s  {last.strip()[-100:]}"))
                )

        if status is not None:
            status.start()
        try:
            result = launch.run(timeout=timeout, wait=wait, on_tick=tick)
        finally:
            if status is not None:
                status.stop()
    _report_ready(spec, chosen, result, as_json)


def _pull(client: Any, image: str) -> None:
    from aim_catalog import render
    from aim_catalog.launcher import ensure_image, has_image

    if not has_image(client, image):
        render.note(f"pulling {image} (before taking the launch lock)")
        ensure_image(client, image)


def _make_cache_dir(spec: Any) -> None:
    cache = Path(next(iter(spec.volumes)))
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageProblem(f"cannot use {cache} as the Hugging Face cache: {exc.strerror or exc}") from exc


def _report_ready(spec: Any, chosen: Any, result: Any, as_json: bool) -> None:
    from aim_catalog import render
    from aim_catalog.runspec import served_model_name

    payload = {"model": served_model_name(spec), "messages": [{"role": "user", "content": "Hello!"}]}
    curl = shlex.join(
        [
            "curl",
            f"{result.url}/v1/chat/completions",
            "-H",
            "Content-Type: application/json",
            "-d",
            json.dumps(payload),
        ]
    )
    if as_json:
        render.emit_json(
            {
                "name": spec.name,
                "container_id": result.container_id,
                "url": result.url,
                "ready": result.ready,
                "gpus": spec.gpus,
                "curl": curl,
            }
        )
        return
    if result.ready:
        render.line(
            f"{spec.name} is ready after {result.elapsed:.0f}s "
            f"({chosen.recipe_id}, GPUs {','.join(map(str, spec.gpus))})"
        )
    else:
        render.line(f"{spec.name} started; not waiting for it (`aim-catalog logs {spec.name} --follow`)")
    render.line(f"endpoint: {result.url}/v1")
    render.line(f"try:      {curl}")


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
    from aim_catalog import deployments, render
    from aim_catalog.cli.kube import cluster_rows, show_cluster_rows
    from aim_catalog.errors import EnvironmentProblem
    from aim_catalog.launcher import LIVE_STATES, connect, container_state, identify, labelled_containers

    on_clusters = cluster_rows(ctx, include_all=show_all)  # --target kubernetes|kserve launches
    try:
        client = connect()
    except EnvironmentProblem:
        if not on_clusters:
            raise
        render.note("no Docker engine reachable: showing the deployments on clusters only")
        show_cluster_rows(on_clusters, as_json)
        return
    engine = identify(client)
    live = {c.id: c for c in labelled_containers(client)}
    with catalog_session(ctx) as session:
        here = deployments.listing(session, include_all=True, engine_key=engine.key, container_ids=live)
        records: list[dict[str, Any]] = [
            {
                **ps_row(d, engine.label),
                "container": container_state(client, d.container_id),
            }
            for d in here
            if show_all or d.status in deployments.ACTIVE or _alive(live.get(d.container_id), LIVE_STATES)
        ]
        known = {d.container_id for d in here}
        if all_hosts:  # no Docker call for these: their containers are on other engines
            records += [
                {**ps_row(d, deployments.host_label(d.engine_name, d.docker_host)), "container": None}
                for d in deployments.listing(
                    session, include_all=show_all, engine_key=engine.key, container_ids=live, other_hosts=True
                )
                if d.target == "docker"  # cluster deployments are listed below, checked
            ]
    for c in live.values():
        if c.id not in known and (show_all or c.status in LIVE_STATES):
            records.append(
                {
                    "name": c.name,
                    "host": engine.label,
                    "recipe_id": c.labels.get("aim-catalog.recipe", ""),
                    "model": c.labels.get("aim-catalog.model", ""),
                    "backend": c.labels.get("aim-catalog.backend", ""),
                    "gpus": [int(g) for g in c.labels.get("aim-catalog.gpus", "").split(",") if g.isdigit()],
                    "port": int(c.labels.get("aim-catalog.port", "0") or 0),
                    "status": f"other catalog ({redact(c.labels.get('aim-catalog.catalog', '?'))})",
                    "container": container_state(client, c.id),
                    "container_id": c.id[:12],
                    "created_at": "",
                }
            )
    records += on_clusters
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


def ps_row(d: Any, host: str) -> dict[str, Any]:
    """A deployment row as ``ps`` shows it (Docker and cluster rows alike; ``cli/kube.py``)."""
    return {
        "name": d.name,
        "host": host,
        "recipe_id": d.recipe_id,
        "model": d.model,
        "backend": d.backend,
        "gpus": d.gpus,
        "port": d.port,
        "status": d.status,
        "container_id": d.container_id[:12],
        "created_at": d.created_at.isoformat(timespec="seconds"),
    }


def _alive(container: Any, states: tuple[str, ...]) -> bool:
    return container is not None and container.status in states


def _container_for(ctx: typer.Context, client: Any, name: str) -> tuple[str, str | None]:
    """(container id or name, deployment status) for a deployment of this engine or a
    labelled container on it; a deployment of that name on another engine is not ours."""
    from aim_catalog import deployments
    from aim_catalog.launcher import identify, labelled_containers

    engine = identify(client)
    container_ids = {c.id for c in labelled_containers(client)}
    with catalog_session(ctx) as session:
        found = deployments.find(session, engine.key, name, container_ids)
        if found is not None:
            return found.container_id, found.status
        elsewhere = deployments.hosts_with(session, name)
    if _is_labelled(client, name):
        return name, None
    if elsewhere:
        raise UsageProblem(
            f"no deployment called {name!r} on this Docker engine ({engine.label}, {engine.address}); "
            f"the catalog has one on {', '.join(elsewhere)}: run the command against that engine "
            "(DOCKER_HOST=...)"
        )
    raise UsageProblem(f"no deployment called {name!r} (`aim-catalog ps --all` lists them)")


@app.command()
def stop(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Deployment (container) name, as `ps` shows it."),
) -> None:
    """Stop and remove a deployment's container, freeing its GPUs.

    \b
    Example: aim-catalog stop aim-qwen3-32b-4gpu-bf16-vllm
    """
    from aim_catalog import deployments, render
    from aim_catalog.cli.kube import find_on_cluster, stop_on_cluster
    from aim_catalog.launcher import connect
    from aim_catalog.launcher import stop as stop_container

    on_cluster = find_on_cluster(ctx, name)
    if on_cluster is not None:  # --target kubernetes|kserve: delete what launch applied
        stop_on_cluster(ctx, on_cluster)
        return
    client = connect()
    target, status = _container_for(ctx, client, name)
    existed = stop_container(client, target)
    if status is not None:
        with catalog_session(ctx) as session:
            deployments.set_status(session, target, "stopped")
    render.line(f"stopped {name}" if existed else f"{name}: its container was already gone; marked stopped")


def _is_labelled(client: Any, name: str) -> bool:
    from docker.errors import NotFound

    try:
        container = client.containers.get(name)
    except NotFound:
        return False
    return bool(container.labels.get("aim-catalog.managed") == "true")


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
    from aim_catalog.cli.kube import find_on_cluster, logs_on_cluster
    from aim_catalog.launcher import connect, stream_logs

    on_cluster = find_on_cluster(ctx, name)
    if on_cluster is not None:  # the pods' logs
        logs_on_cluster(on_cluster, follow=follow, tail=tail)
        return
    client = connect()
    target, _status = _container_for(ctx, client, name)

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends --follow
        stream_logs(client, target, follow=follow, tail="all" if tail is None else tail, write=write)
