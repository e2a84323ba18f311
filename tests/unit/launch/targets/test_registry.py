"""Launch targets are plug-ins: registered by name (``launch.targets.registry``), validated
and dispatched through the registry, and a new one needs no change elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from aim_catalog import Catalog, LaunchOptions, SelectionOptions
from aim_catalog.errors import UsageProblem
from aim_catalog.launch.plan import LaunchPlan, PlannedContainer
from aim_catalog.launch.targets import registry
from aim_catalog.launch.targets.base import Found, Stopped
from aim_catalog.settings import DEFAULT_TARGET

MODEL = "Qwen/Qwen3-32B"  # a bundled seed recipe


@dataclass
class RecordingTarget:
    """A third target, as another package would register it: it plans with the catalog's
    select and records what the service asked of it."""

    name: ClassVar[str] = "recording"
    asked: list[str]

    def check(self, selection: Any, options: Any) -> None:
        self.asked.append("check")
        if options.replicas > 2:
            raise UsageProblem("recording runs at most 2 replicas")

    def plan(self, work: Any, select: Any, selection: Any, options: Any, *, note: Any) -> LaunchPlan:
        from aim_catalog.launch.runspec import build_spec

        self.asked.append("plan")
        chosen = select(selection.to_request())
        spec = build_spec(chosen, name="recorded", gpus=[0], port=options.port, catalog=work.display_url)
        return LaunchPlan(self.name, (PlannedContainer(spec, chosen),))

    def launch(self, *args: Any, **kwargs: Any) -> str:
        self.asked.append("launch")
        return "launched"

    def deployments(self, work: Any, **kwargs: Any) -> list[Any]:
        return []

    def find(self, work: Any, name: str) -> Found | None:
        return Found(name, 1, True, f"handle of {name}") if name == "mine" else None

    def stop(self, work: Any, found: Found) -> Stopped:
        self.asked.append(f"stop {found.handle}")
        return Stopped(found.name, True)

    def logs(self, work: Any, found: Found, **kwargs: Any) -> None:
        self.asked.append(f"logs {found.handle}")

    def served(self, work: Any, name: str) -> None:
        return None


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingTarget]:
    target = RecordingTarget([])
    monkeypatch.setitem(registry._FACTORIES, "recording", lambda: target)
    monkeypatch.setattr(registry, "_made", {})
    yield target


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Catalog]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the default catalog, seeded
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(tmp_path / "no-sysfs"))
    monkeypatch.delenv("AIM_CATALOG_DB_URL", raising=False)
    with Catalog.open() as opened:
        yield opened


def test_the_built_in_targets_are_registered_by_name() -> None:
    assert registry.names()[:3] == ["docker", "kubernetes", "kserve"]
    assert [registry.target(n).name for n in ("docker", "kubernetes", "kserve")] == [
        "docker",
        "kubernetes",
        "kserve",
    ]
    assert registry.target("docker") is registry.target("docker")  # made once per process


def test_an_unknown_target_is_refused_naming_the_registered_ones(recording: RecordingTarget) -> None:
    with pytest.raises(UsageProblem) as refused:
        registry.check_name("slurm")
    assert str(refused.value) == "--target must be one of docker, kubernetes, kserve, recording, got 'slurm'"


def test_a_registered_target_plans_and_launches_through_the_api(
    catalog: Catalog, recording: RecordingTarget
) -> None:
    plan = catalog.plan_launch(SelectionOptions(MODEL, gpus=1), LaunchOptions(target="recording"))
    assert (plan.target, plan.name, plan.chosen.huggingface_id) == ("recording", "recorded", MODEL)
    assert catalog.launch(SelectionOptions(MODEL, gpus=1), LaunchOptions(target="recording")) == "launched"
    assert recording.asked == ["check", "plan", "check", "launch"]
    with pytest.raises(UsageProblem, match="at most 2 replicas"):  # the target's own rules
        catalog.plan_launch(SelectionOptions(MODEL, gpus=1), LaunchOptions(target="recording", replicas=3))


def test_a_name_is_looked_up_on_the_other_targets_before_the_default_one(
    catalog: Catalog, recording: RecordingTarget
) -> None:
    """The default (Docker) target is asked last: a name another target knows never
    reaches the Docker engine (there is none here: asking it would fail)."""
    assert registry.lookup_order()[-1].name == DEFAULT_TARGET
    assert registry.listing_order()[0].name == DEFAULT_TARGET
    assert catalog.stop("mine") == Stopped("mine", True)
    catalog.logs("mine", write=lambda _text: None)
    assert recording.asked == ["stop handle of mine", "logs handle of mine"]
