"""The launch service through the Python API (``Catalog.plan_launch``): a typed, frozen plan
of what ``launch --dry-run`` shows, for the Docker and the Kubernetes targets, and the
labels it writes read back through the one parser (``labels.parse_labels``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from support.launch import MODEL

from aim_catalog.api import Catalog
from aim_catalog.errors import UsageProblem
from aim_catalog.launch.labels import ContainerLabels, parse_labels
from aim_catalog.launch.plan import ClusterOptions, LaunchOptions
from aim_catalog.selection.options import SelectionOptions


def test_plan_launch_returns_the_spec_gpus_and_name(host: Path) -> None:
    notes: list[str] = []
    with Catalog.open() as catalog:
        plan = catalog.plan_launch(
            SelectionOptions(MODEL, gpus=2),
            LaunchOptions(port=8123, name="api-plan", gpu_indexes=(2, 3)),
            note=notes.append,
        )
        where = catalog.display_url
    assert (plan.target, plan.name, plan.gpus, plan.rendered) == ("docker", "api-plan", [2, 3], None)
    assert plan.chosen.gpu_count == 2 and plan.chosen.huggingface_id == MODEL
    assert plan.spec.host_port == 8123 and plan.spec.devices[1].startswith(f"{host}/dev/dri/renderD130:")
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.target = "kubernetes"  # type: ignore[misc]
    labels = parse_labels(plan.spec.labels)
    assert labels == ContainerLabels(
        managed=True,
        recipe=plan.chosen.recipe_id,
        model=MODEL,
        backend=plan.chosen.backend,
        gpus=(2, 3),
        port=8123,
        catalog=where,
        launch=labels.launch,
    )
    assert labels.launch and len(labels.launch) == 32  # a fresh id per launch


def test_plan_launch_for_a_cluster_renders_the_objects(host: Path) -> None:
    with Catalog.open() as catalog:
        options = LaunchOptions(target="kubernetes", cluster=ClusterOptions(cpu="8"))
        plan = catalog.plan_launch(SelectionOptions(MODEL, gpus=4), options)
    assert plan.rendered is not None and plan.name == plan.rendered.name
    assert [o["kind"] for o in plan.rendered.objects] == ["Deployment", "Service"]
    assert plan.chosen.gpu_count == 4


def test_launch_options_are_checked_before_anything_runs(host: Path) -> None:
    with Catalog.open() as catalog:
        with pytest.raises(UsageProblem, match="GPUS is 2 but --gpus names 1 GPU"):
            catalog.plan_launch(SelectionOptions(MODEL, gpus=2), LaunchOptions(gpu_indexes=(0,)))
        with pytest.raises(UsageProblem, match="--cpu: for --target kubernetes or kserve only"):
            catalog.launch(SelectionOptions(MODEL, gpus=2), LaunchOptions(cluster=ClusterOptions(cpu="8")))
