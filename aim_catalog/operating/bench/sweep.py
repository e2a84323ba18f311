"""``bench sweep``: measure every candidate config of a request, one at a time: launch it
(the launch service: GPUs allocated, readiness wait, cleanup on failure), ``bench run`` it,
stop it, next; then explain again, since what was measured changes the answer.

The catalog's operations come in as callables (``explain``, ``launch``, ``stop``), as the
launch service takes the catalog's ``select``: this module never imports the API. A config
that fails to launch or to serve is recorded with its reason and the sweep goes on; Ctrl-C
or SIGTERM (``stop`` set) ends the sweep after the running container is removed, keeping
finished points. ``resume`` skips a config whose asked points were all measured already on
the image it launches now (``measurements.bench_import.measured_concurrencies``).

May import ``launch``, ``measurements``, this package's ``run`` and everything below.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from aim_catalog.errors import CatalogError, redact
from aim_catalog.operating.bench.run import BenchRun, RunOptions
from aim_catalog.operating.bench.run import run as bench_run

Outcome = Literal["measured", "resumed", "launch failed", "run failed", "interrupted", "planned"]


@dataclass(frozen=True)
class SweepConfig:
    recipe_id: str
    backend: str
    gpu_count: int
    image: str | None
    outcome: Outcome
    reason: str = ""
    deployment: str | None = None
    run: BenchRun | None = None


@dataclass(frozen=True)
class Sweep:
    """A sweep's configs (in the order measured) and explain's verdicts before and after."""

    configs: tuple[SweepConfig, ...]
    before: tuple[Any, ...]  # selection.request.Verdict
    after: tuple[Any, ...]
    interrupted: bool
    estimate_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def candidates(verdicts: Sequence[Any], only: Sequence[str] = ()) -> list[Any]:
    """The configs explain ranks (chosen or ranked), or of those the ones ``only`` names
    (``recipe_id``, ``recipe_id/backend`` or ``recipe_id/backend/gpus``)."""
    ranked = [v for v in verdicts if v.verdict in ("chosen", "ranked")]

    def named(v: Any) -> bool:
        keys = {v.recipe_id, f"{v.recipe_id}/{v.backend}", f"{v.recipe_id}/{v.backend}/{v.gpu_count}"}
        return not only or bool(keys & set(only))

    return [v for v in ranked if named(v)]


def sweep(
    work: Any,
    *,
    explain: Callable[[], Sequence[Any]],
    launch: Callable[[Any], str],
    stop_deployment: Callable[[str], Any],
    options: RunOptions,
    only: Sequence[str] = (),
    resume: bool = False,
    dry_run: bool = False,
    stop: threading.Event | None = None,
    on_config: Callable[[Any, int, int], None] | None = None,
    on_result: Callable[[SweepConfig], None] | None = None,
    run_hooks: dict[str, Any] | None = None,
    image: str | None = None,
) -> Sweep:
    """``launch(verdict)`` starts the verdict's config and returns its deployment's name;
    ``stop_deployment(name)`` removes it; ``explain()`` ranks the request's configs;
    ``image``: the image every launch runs (``--image``), else each config's own."""
    from aim_catalog.launch.guard import interrupts_deferred

    stop = stop or threading.Event()
    before = tuple(explain())
    chosen = candidates(before, only)
    total_estimate = options.estimate_s() * len(chosen)
    done: list[SweepConfig] = []
    if dry_run:
        planned = [
            SweepConfig(v.recipe_id, v.backend, v.gpu_count, image or v.image, "planned") for v in chosen
        ]
        return Sweep(tuple(planned), before, before, False, total_estimate)
    for index, verdict in enumerate(chosen, start=1):
        if stop.is_set():
            break
        if on_config is not None:
            on_config(verdict, index, len(chosen))
        config = SweepConfig(
            verdict.recipe_id, verdict.backend, verdict.gpu_count, image or verdict.image, "planned"
        )
        if resume and _measured_already(work, verdict, image or verdict.image, options):
            result = replace(config, outcome="resumed", reason="every asked point measured on this image")
            done.append(result)
            if on_result is not None:
                on_result(result)
            continue
        try:
            name = launch(verdict)
        except KeyboardInterrupt:
            done.append(replace(config, outcome="interrupted", reason="interrupted while launching"))
            stop.set()
            break
        except CatalogError as exc:
            result = replace(config, outcome="launch failed", reason=_one_line(exc))
            done.append(result)
            if on_result is not None:
                on_result(result)
            continue
        try:
            measured = bench_run(work, name, options, stop=stop, **(run_hooks or {}))
            outcome: Outcome = "interrupted" if measured.interrupted else "measured"
            result = replace(
                config, outcome=outcome, deployment=name, run=measured, reason="; ".join(measured.notes)
            )
        except CatalogError as exc:
            result = replace(config, outcome="run failed", deployment=name, reason=_one_line(exc))
        except KeyboardInterrupt:
            stop.set()
            result = replace(config, outcome="interrupted", deployment=name, reason="interrupted")
        finally:
            # A second Ctrl-C cannot leave the container behind; a failed stop is said by `ps`.
            with interrupts_deferred() as arrived, contextlib.suppress(CatalogError):
                stop_deployment(name)
            if arrived:
                stop.set()
        done.append(result)
        if on_result is not None:
            on_result(result)
    after = tuple(explain())
    return Sweep(tuple(done), before, after, stop.is_set(), total_estimate)


def _measured_already(work: Any, verdict: Any, image: str | None, options: RunOptions) -> bool:
    """Every asked concurrency of the scenario measured already on the image the config
    launches now."""
    from aim_catalog.measurements.bench_import import measured_concurrencies

    if image is None:
        return False
    with work.read() as session:
        found = measured_concurrencies(
            session,
            verdict.recipe_id,
            verdict.backend,
            verdict.gpu_count,
            image,
            options.input_len,
            options.output_len,
        )
    return set(options.concurrencies) <= found


def _one_line(exc: CatalogError) -> str:
    """An error in one line for the summary: its lines joined, secrets masked."""
    return "; ".join(part.strip() for part in redact(str(exc)).splitlines() if part.strip())
