"""The launch service knows targets only through the registry: ``ps`` asks every target and
says which one it could not ask; a lookup asks the default target last."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from aim_catalog.errors import EnvironmentProblem, UsageProblem
from aim_catalog.launch import service
from aim_catalog.launch.targets import registry
from aim_catalog.launch.targets.base import DeploymentRow, Unreachable

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
