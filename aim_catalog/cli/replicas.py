"""``launch --replicas N`` on a Docker engine: N copies of the winning config, each its own
deployment, on disjoint GPUs and consecutive ports (``--port`` is the first). All or
nothing: if one copy fails to be created, start or get ready, every other copy is removed
(and its row marked failed), and the launch exits 5.

The first copy selects the config; the others take the same GPU count, so they run the
same config. Each copy is created under the launch lock with the GPUs held at that moment
(the copies made before it included), which keeps their GPUs disjoint.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aim_catalog.errors import LaunchFailed, UsageProblem


def names(name: str | None, replicas: int) -> list[str | None]:
    """``--name web`` gives web, web-2, web-3...; without it each copy gets a unique default."""
    if name is None:
        return [None] * replicas
    return [name, *(f"{name}-{k}" for k in range(2, replicas + 1))]


def _copy_plan(plan: Any, index: int, gpus: int | None) -> Any:
    port = plan.spec_args["port"] + index
    if port > 65535:
        raise UsageProblem(f"--port {plan.spec_args['port']} with {index + 1} replicas passes port 65535")
    return dataclasses.replace(plan, gpus=gpus, spec_args={**plan.spec_args, "port": port})


def dry_run(plan: Any, name: str | None, replicas: int, as_json: bool) -> None:
    from aim_catalog import render
    from aim_catalog.cli.launch import _docker_for_dry_run, _show_spec

    client, held = _docker_for_dry_run()
    held = dict(held)
    shown: list[dict[str, Any]] = []
    gpus = plan.gpus
    for index, copy_name in enumerate(names(name, replicas)):
        copy = _copy_plan(plan, index, gpus)
        spec, chosen = copy.make(client, held, name=copy_name)
        if copy_name is None and any(s["name"] == spec.name for s in shown):
            spec, chosen = copy.make(client, held, name=f"{spec.name}-{index + 1}")
        gpus = chosen.gpu_count
        held.update({gpu: spec.name for gpu in spec.gpus})
        if as_json:
            shown.append({"recipe_id": chosen.recipe_id, "gpu_count": chosen.gpu_count, **spec.as_dict()})
        else:
            shown.append({"name": spec.name})
            _show_spec(spec, chosen, False)
            render.line("")
    if as_json:
        render.emit_json(shown)


def launch(
    plan: Any, name: str | None, replicas: int, *, timeout: float, wait: bool, keep: bool, as_json: bool
) -> None:
    from aim_catalog import db, render
    from aim_catalog.cli.app import catalog_engine
    from aim_catalog.cli.launch import _make_cache_dir, _pull, _report_ready
    from aim_catalog.launcher import connect, has_image, held_gpus, identify, launch_lock
    from aim_catalog.lifecycle import ContainerLaunch, interrupts_deferred

    client = connect()
    engine = identify(client)
    launched: list[tuple[Any, Any, Any]] = []  # (ContainerLaunch, spec, chosen)
    results: list[Any] = []
    with catalog_engine(plan.ctx) as catalog:
        sessions = db.session_factory(catalog)
        try:
            gpus = plan.gpus
            for index, copy_name in enumerate(names(name, replicas)):
                copy = _copy_plan(plan, index, gpus)
                preliminary, _ = copy.make(client, held_gpus(client), name=copy_name, notes=False)
                _pull(client, preliminary.image)
                with launch_lock(engine, on_wait=render.note):
                    spec, chosen = copy.make(client, held_gpus(client), name=copy_name, notes=index == 0)
                    if not has_image(client, spec.image):
                        raise LaunchFailed(f"image {spec.image} went missing while replicas were created")
                    _make_cache_dir(spec)
                    one = ContainerLaunch(client, sessions, engine, spec, chosen, keep_on_failure=keep)
                    one.create_and_record()  # cleans up its own container on failure
                    launched.append((one, spec, chosen))
                gpus = chosen.gpu_count  # every copy runs the config the first one chose
            for index, (one, spec, _) in enumerate(launched, start=1):
                render.note(f"replica {index} of {replicas}: starting {spec.name}")
                results.append(one.run(timeout=timeout, wait=wait))  # cleans up itself on failure
        except BaseException as exc:
            failed = (len(results) if len(launched) == replicas else len(launched)) + 1
            reason = LaunchFailed(f"replica {failed} of {replicas} failed")
            with interrupts_deferred():
                for one, _, _ in launched:
                    if _still_there(one.container):
                        one.abort(reason)
            if isinstance(exc, LaunchFailed):
                message = f"{exc}\nreplica {failed} of {replicas} failed: every replica was removed"
                raise LaunchFailed(message) from exc
            raise
    if as_json:
        render.emit_json(
            [
                {
                    "name": spec.name,
                    "container_id": r.container_id,
                    "url": r.url,
                    "ready": r.ready,
                    "gpus": spec.gpus,
                }
                for (_, spec, _), r in zip(launched, results, strict=True)
            ]
        )
        return
    for (_, spec, chosen), result in zip(launched, results, strict=True):
        _report_ready(spec, chosen, result, False)


def _still_there(container: Any) -> bool:
    """Whether a copy's container still exists (the failing copy removed its own)."""
    from docker.errors import NotFound

    if container is None:
        return False
    try:
        container.reload()
    except NotFound:
        return False
    return True
