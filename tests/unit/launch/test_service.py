"""The launch service knows targets only through the registry: ``ps`` asks every target and
says which one it could not ask; a lookup asks the default target last."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from aim_catalog.errors import EnvironmentProblem, UsageProblem
from aim_catalog.launch import service
from aim_catalog.launch.targets import registry
from aim_catalog.launch.targets.base import DeploymentRow, Found, Stopped, Unreachable
from aim_catalog.settings import DEFAULT_TARGET

ROW = DeploymentRow("web", "h", "r", "o/m", "vllm", (0,), 8000, "running", "c", "2026-01-01T00:00:00")


class Answers:
    name: ClassVar[str] = "answers"

    def deployments(self, work: Any, **kwargs: Any) -> list[DeploymentRow]:
        return [ROW]

    def find(self, work: Any, name: str) -> None:
        return None


class Down:
    name: ClassVar[str] = "down"

    def deployments(self, work: Any, **kwargs: Any) -> list[DeploymentRow]:
        raise Unreachable("engine down at unix:///x", "no down engine reachable: showing the others only")


class Broken:
    name: ClassVar[str] = "broken"

    def deployments(self, work: Any, **kwargs: Any) -> list[DeploymentRow]:
        raise EnvironmentProblem("cannot reach it")


def listing(monkeypatch: pytest.MonkeyPatch, *targets: Any) -> tuple[service.Listing, list[str]]:
    monkeypatch.setattr(registry, "listing_order", lambda: list(targets))
    notes: list[str] = []
    return service.deployments(object(), include_all=False, all_hosts=False, note=notes.append), notes


def test_ps_shows_the_rows_of_the_targets_that_answer_and_names_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found, notes = listing(monkeypatch, Down(), Answers(), Broken())
    assert found.rows == (ROW,)
    assert found.unreachable == ("down", "broken")
    assert notes == [
        "no down engine reachable: showing the others only",
        "cannot reach it; showing the others' rows",
    ]


def test_ps_with_no_target_answering_is_the_first_target_s_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(Unreachable, match="engine down at unix:///x"):
        listing(monkeypatch, Down(), Broken())


def test_a_name_no_target_knows_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "lookup_order", lambda: [Answers()])
    with pytest.raises(UsageProblem, match="no deployment called 'web'"):
        service.stop(object(), "web")  # type: ignore[arg-type]


class Cluster:
    """A non-default target whose rows the catalog answers for (as the cluster ones)."""

    def __init__(self, name: str, rows: list[DeploymentRow], found: Found | None) -> None:
        self.name = name
        self.rows = rows
        self.found = found
        self.stopped: list[str] = []

    def deployments(self, work: Any, **kwargs: Any) -> list[DeploymentRow]:
        return self.rows

    def find(self, work: Any, name: str) -> Found | None:
        return self.found

    def stop(self, work: Any, found: Found) -> Stopped:
        self.stopped.append(found.handle)
        return Stopped(found.name, True)


def row(name: str, row_id: int) -> DeploymentRow:
    return DeploymentRow(name, "ctx/ns", "r", "o/m", "vllm", (0,), 80, "running", "k", "t", row=row_id)


def test_ps_lists_the_other_targets_rows_in_the_order_they_were_launched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """kubernetes and kserve rows interleave by id, as the one query before the split did."""
    here = Cluster(DEFAULT_TARGET, [row("local", 9)], None)  # this host's rows come first
    a = Cluster("kubernetes", [row("web", 1), row("web2", 3)], None)
    b = Cluster("kserve", [row("isvc", 2)], None)
    found, _notes = listing(monkeypatch, here, a, b)
    assert [r.name for r in found.rows] == ["local", "web", "isvc", "web2"]


def test_a_live_deployment_wins_over_a_newer_stopped_one_of_another_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stopped = Cluster("kubernetes", [], Found("web", 7, False, "stopped kubernetes web"))
    running = Cluster("kserve", [], Found("web", 4, True, "running kserve web"))
    monkeypatch.setattr(registry, "lookup_order", lambda: [stopped, running, Answers()])
    service.stop(object(), "web")  # type: ignore[arg-type]
    assert (stopped.stopped, running.stopped) == ([], ["running kserve web"])


def test_a_target_name_must_fit_the_deployments_table() -> None:
    with pytest.raises(UsageProblem, match="1 to 16 letters"):
        registry.register("a-very-long-target-name", lambda: Answers())  # type: ignore[arg-type,return-value]
