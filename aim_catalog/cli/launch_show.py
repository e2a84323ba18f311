"""How ``launch`` shows what it would run (a dry run) and what it started."""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from aim_catalog.backends.registry import BACKEND_LABELS
from aim_catalog.notes import Tick

if TYPE_CHECKING:
    from aim_catalog.launch.plan import LaunchOptions, LaunchPlan
    from aim_catalog.launch.runspec import RunSpec
    from aim_catalog.launch.targets.docker.service import LaunchResult, Started
    from aim_catalog.selection.request import Candidate


@contextmanager
def spinner() -> Iterator[Tick | None]:
    """A status line on a terminal while the launch waits (none when stderr is not one)."""
    from aim_catalog.cli import render

    if not render.stderr_is_terminal():
        yield None
        return
    from rich.text import Text

    status = render.err().status("")
    started = False

    def tick(text: str) -> None:
        nonlocal started
        status.update(Text(render.safe(text)))  # Text: a log line is data, never rich markup
        if not started:
            status.start()
            started = True

    try:
        yield tick
    finally:
        if started:
            status.stop()


def show_plan(plan: LaunchPlan, options: LaunchOptions, as_json: bool) -> None:
    from aim_catalog.cli import render

    if plan.rendered is not None:
        from aim_catalog.cli.kube import show_cluster_plan

        show_cluster_plan(plan.rendered, options.cluster.out, as_json)
    elif options.replicas == 1:
        show_spec(plan.spec, plan.chosen, as_json)
    elif as_json:
        render.emit_json(
            [
                {"recipe_id": c.chosen.recipe_id, "gpu_count": c.chosen.gpu_count, **c.spec.as_dict()}
                for c in plan.containers
            ]
        )
    else:
        for one in plan.containers:
            show_spec(one.spec, one.chosen, False)
            render.line("")


def show_spec(spec: RunSpec, chosen: Candidate, as_json: bool) -> None:
    from aim_catalog.cli import render
    from aim_catalog.launch.labels import parse_labels
    from aim_catalog.launch.runspec import SETUP_NOTE

    gpus = parse_labels(spec.labels).gpus
    data = {
        "recipe_id": chosen.recipe_id,
        "backend": chosen.backend,
        "gpu_count": chosen.gpu_count,
        "gpus": list(gpus),
        "status": chosen.status,
        "retired": chosen.retired,
        **spec.as_dict(),
    }
    if as_json:
        render.emit_json(data)
        return
    label = BACKEND_LABELS.get(chosen.backend, chosen.backend)
    render.line(
        f"Would launch {spec.name}: {chosen.recipe_id}, {label}, "
        f"{chosen.gpu_count} GPU ({','.join(map(str, gpus))})"
    )
    trust = "trusted" if spec.trusted_registry else "NOT a trusted registry"
    render.line(f"  image:   {spec.image} (registry {spec.registry}: {trust})")
    if spec.setup:  # a shared catalog's code, run in this operator's container: said first
        render.line(f"  setup:   from recipe {chosen.recipe_id}, {SETUP_NOTE}:")
        for number, line in enumerate(spec.setup, start=1):
            render.line(f"           {number}. {line}")
    render.line(f"  command: {' '.join(spec.shown_command())}")
    render.line(f"  devices: {', '.join(d.split(':')[0] for d in spec.devices)}")
    render.line(f"  port:    {spec.host_port} -> {spec.container_port}")
    render.line(f"  env:     {' '.join(f'{k}={v}' for k, v in spec.shown_env().items())}")
    render.line("")
    render.line(spec.docker_run())


def show_launched(result: object, options: LaunchOptions, as_json: bool) -> None:
    """What ``launch`` started: containers on this host, or objects on a cluster."""
    from aim_catalog.launch.targets.docker.service import LaunchResult
    from aim_catalog.launch.targets.kubernetes.service import ClusterLaunch

    if isinstance(result, ClusterLaunch):
        from aim_catalog.cli.kube import show_cluster_launch

        show_cluster_launch(result, as_json)
    elif not isinstance(result, LaunchResult):  # another target's: its fields, or its words
        from aim_catalog.cli import render

        if dataclasses.is_dataclass(result) and not isinstance(result, type):
            render.emit_json(dataclasses.asdict(result)) if as_json else render.line(repr(result))
        else:
            render.line(str(result))
    elif options.replicas != 1:
        show_copies(result, as_json)
    else:
        report_ready(result.containers[0], as_json)


def show_copies(result: LaunchResult, as_json: bool) -> None:
    from aim_catalog.cli import render

    if as_json:
        render.emit_json(
            [
                {
                    "name": s.name,
                    "container_id": s.container_id,
                    "url": s.url,
                    "ready": s.ready,
                    "gpus": s.spec.gpus,
                }
                for s in result.containers
            ]
        )
        return
    for started in result.containers:
        report_ready(started, False)


def report_ready(started: Started, as_json: bool) -> None:
    from aim_catalog.cli import render
    from aim_catalog.launch.runspec import served_model_name

    spec = started.spec
    payload = {"model": served_model_name(spec), "messages": [{"role": "user", "content": "Hello!"}]}
    url = f"{started.url}/v1/chat/completions"
    curl = shlex.join(["curl", url, "-H", "Content-Type: application/json", "-d", json.dumps(payload)])
    if as_json:
        render.emit_json(
            {
                "name": spec.name,
                "container_id": started.container_id,
                "url": started.url,
                "ready": started.ready,
                "gpus": spec.gpus,
                "curl": curl,
            }
        )
        return
    if started.ready:
        render.line(
            f"{spec.name} is ready after {started.elapsed:.0f}s "
            f"({started.chosen.recipe_id}, GPUs {','.join(map(str, spec.gpus))})"
        )
    else:
        render.line(f"{spec.name} started; not waiting for it (`aim-catalog logs {spec.name} --follow`)")
    render.line(f"endpoint: {started.url}/v1")
    render.line(f"try:      {curl}")
