"""The launch service: ``launch``, ``ps``, ``stop``, ``logs`` and ``test``'s lookup, for
every target, through the ``Target`` protocol and the registry (``targets.registry``).

It knows no target by name but the default one's place in the order: a name is looked up
on the other targets first (their rows answer from the catalog alone) and the default
target's "not found" is the answer; ``ps`` lists the default target's deployments first.
No printing: notes go to ``note``. The API (``Catalog``) calls it with itself as the
``Work`` and its ``select``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aim_catalog.errors import EnvironmentProblem, UsageProblem
from aim_catalog.launch.targets import registry
from aim_catalog.launch.targets.base import Found, Unreachable
from aim_catalog.settings import DEFAULT_TARGET

if TYPE_CHECKING:
    from aim_catalog.launch.plan import LaunchOptions, LaunchPlan
    from aim_catalog.launch.targets.base import DeploymentRow, Select, Served, Stopped, Target
    from aim_catalog.notes import Note, Tick, Write
    from aim_catalog.selection.options import SelectionOptions
    from aim_catalog.storage.work import Work


@dataclass(frozen=True)
class Listing:
    """``ps``'s rows; ``unreachable``: targets that could not be asked (their rows missing)."""

    rows: tuple[DeploymentRow, ...]
    unreachable: tuple[str, ...] = ()


def check_name(target: str, name: str | None) -> None:
    """A ``--name`` the target named accepts (``UsageProblem``: no such target, or a name it
    refuses): what ``launch`` checks first, before it parses the rest."""
    if name is not None:
        registry.target(target).check_name(name)


def check(selection: SelectionOptions, options: LaunchOptions) -> None:
    """Usage errors of a launch's options, before anything is selected: the target named
    must exist, and the options must suit it."""
    check_name(options.target, options.name)
    options.check(selection)
    registry.target(options.target).check(selection, options)


def plan_launch(
    work: Work, select: Select, selection: SelectionOptions, options: LaunchOptions, *, note: Note
) -> LaunchPlan:
    """What ``launch`` would run, starting nothing (``launch --dry-run``)."""
    check(selection, options)
    return registry.target(options.target).plan(work, select, selection, options, note=note)


def launch(
    work: Work,
    select: Select,
    selection: SelectionOptions,
    options: LaunchOptions,
    *,
    note: Note,
    on_tick: Tick | None = None,
) -> Any:
    """Run the best config on ``options.target``; what that target started."""
    check(selection, options)
    return registry.target(options.target).launch(
        work, select, selection, options, note=note, on_tick=on_tick
    )


def deployments(work: Work, *, include_all: bool, all_hosts: bool, note: Note) -> Listing:
    """Every target's deployments as it sees them now: the default target's first, as it
    orders them, then the others' in the order they were launched. A target that cannot be
    asked is skipped (and named) while another one has rows; when none has, its error is
    the answer."""
    rows: list[DeploymentRow] = []
    others: list[DeploymentRow] = []
    failed: list[tuple[Target, EnvironmentProblem]] = []
    for target in registry.listing_order():
        try:
            found = target.deployments(work, include_all=include_all, all_hosts=all_hosts, note=note)
        except EnvironmentProblem as exc:
            failed.append((target, exc))
            continue
        (rows if target.name == DEFAULT_TARGET else others).extend(found)
    rows += sorted(others, key=lambda row: row.row)
    if failed and not rows:
        raise failed[0][1]
    for _skipped, problem in failed:
        note(problem.skipped if isinstance(problem, Unreachable) else f"{problem}; showing the others' rows")
    return Listing(tuple(rows), tuple(skipped.name for skipped, _problem in failed))


def _find(work: Work, name: str) -> tuple[Target, Found]:
    """The deployment called ``name``: on the targets other than the default one, a live one
    first, else the newest; then the default target's (which says itself what it lacks)."""
    *others, default = registry.lookup_order()
    found = [(target, hit) for target in others if (hit := target.find(work, name)) is not None]
    if found:
        return max(found, key=lambda pair: (pair[1].live, pair[1].row))
    hit = default.find(work, name)
    if hit is None:
        raise UsageProblem(f"no deployment called {name!r} (`aim-catalog ps --all` lists them)")
    return default, hit


def stop(work: Work, name: str) -> Stopped:
    """Stop and remove a deployment (on a cluster: delete its objects); marks it stopped."""
    target, found = _find(work, name)
    return target.stop(work, found)


def logs(work: Work, name: str, *, follow: bool, tail: int | None, write: Write) -> None:
    """A deployment's logs, secrets masked, through ``write`` (``follow`` until Ctrl-C)."""
    target, found = _find(work, name)
    target.logs(work, found, follow=follow, tail=tail, write=write)


def served(work: Work, name: str) -> Served:
    """Where the active deployment ``name`` answers (``UsageProblem`` when none does)."""
    for target in registry.lookup_order():
        found = target.served(work, name)
        if found is not None:
            return found
    raise UsageProblem(f"no deployment called {name!r} on this engine (`aim-catalog ps` lists them)")


def recorded(work: Work, name: str) -> Served:
    """The deployment ``name`` as its record says, on any target: where it answers when this
    host can reach it (a Docker deployment), else with ``base_url`` "" (a cluster's Service:
    the caller gives a forwarded URL). ``UsageProblem`` when there is none, or it is not live."""
    target, found = _find(work, name)
    if target.name == DEFAULT_TARGET:
        return served(work, name)
    from aim_catalog.launch import deployments
    from aim_catalog.launch.targets.base import Served

    with work.read() as session:
        row = deployments.by_id(session, found.row)
        if row is None or not found.live:
            raise UsageProblem(f"deployment {name!r} is not running (`aim-catalog ps --all`)")
        return Served(
            row.name,
            "",
            row.serve_config_id,
            row.image,
            target=row.target,
            backend=row.backend,
            model=row.model,
            gpu_count=row.gpu_count,
        )


def run_client(
    work: Work, name: str, argv: list[str], result_path: str, *, timeout: float, stop: Any
) -> tuple[int, bytes, str]:
    """Run a benchmark client inside the deployment ``name`` (its target's ``run_client``)."""
    target, found = _find(work, name)
    return target.run_client(work, found, argv, result_path, timeout=timeout, stop=stop)
