"""``bench sweep``: measure every candidate config of a request, one at a time: launch it
(the launch service: GPUs allocated, readiness wait, cleanup on failure), ``bench run`` it,
stop it, next; then explain again, since what was measured changes the answer.

The catalog's operations come in as callables (``explain``, ``launch``, ``stop``), as the
launch service takes the catalog's ``select``: this module never imports the API. A config
that fails to launch or to serve is recorded with its reason and the sweep goes on; Ctrl-C
or SIGTERM (``stop`` set) ends the sweep after the running container is removed, keeping
finished points. With ``parallel_gpus`` configs are measured side by side, in waves that
fit that many GPUs (each launch takes the Docker target's launch lock, so two never take
the same GPUs; each gets its own port). ``resume`` skips a config whose asked points were
all measured already on the image it launches now
(``measurements.bench_import.measured_concurrencies``).

May import ``launch``, ``measurements``, this package's ``run`` and everything below.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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
    launch: Callable[[Any, int], str],
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
    parallel_gpus: int | None = None,
) -> Sweep:
    """``launch(verdict, slot)`` starts the verdict's config (``slot``: its place in a wave
    of parallel launches, 0 when alone: a port offset) and returns its deployment's name;
    ``stop_deployment(name)`` removes it; ``explain()`` ranks the request's configs;
    ``image``: the image every launch runs (``--image``), else each config's own;
    ``parallel_gpus``: measure configs side by side in waves whose GPU counts fit in that
    many GPUs (None: one at a time)."""
    stop = stop or threading.Event()
    before = tuple(explain())
    chosen = candidates(before, only)
    total_estimate = options.estimate_s() * len(chosen)
    if dry_run:
        planned = [
            SweepConfig(v.recipe_id, v.backend, v.gpu_count, image or v.image, "planned") for v in chosen
        ]
        return Sweep(tuple(planned), before, before, False, total_estimate)
    job = _Job(
        work, launch, stop_deployment, options, resume, stop, on_config, on_result, run_hooks or {}, image
    )
    done: list[SweepConfig] = []
    numbered = list(enumerate(chosen, start=1))
    for wave in _waves(numbered, parallel_gpus):
        if stop.is_set():
            break
        if len(wave) == 1:
            index, verdict = wave[0]
            done.append(job.one(verdict, index, len(chosen), 0))
            continue
        with ThreadPoolExecutor(max_workers=len(wave)) as pool:
            futures = [
                pool.submit(job.one, verdict, index, len(chosen), slot)
                for slot, (index, verdict) in enumerate(wave)
            ]
            done += [future.result() for future in futures]
    after = tuple(explain())
    return Sweep(tuple(done), before, after, stop.is_set(), total_estimate)


def _waves(numbered: list[tuple[int, Any]], gpus: int | None) -> list[list[tuple[int, Any]]]:
    """The configs in order, grouped into waves whose GPU counts add up to at most ``gpus``
    (one config per wave without ``gpus``, or for a config alone bigger than it)."""
    if not gpus:
        return [[item] for item in numbered]
    waves: list[list[tuple[int, Any]]] = []
    for item in numbered:
        if waves and sum(v.gpu_count for _, v in waves[-1]) + item[1].gpu_count <= gpus:
            waves[-1].append(item)
        else:
            waves.append([item])
    return waves


@dataclass(frozen=True)
class _Job:
    """One config's launch, run and stop, with what every config of the sweep shares."""

    work: Any
    launch: Callable[[Any, int], str]
    stop_deployment: Callable[[str], Any]
    options: RunOptions
    resume: bool
    stop: threading.Event
    on_config: Callable[[Any, int, int], None] | None
    on_result: Callable[[SweepConfig], None] | None
    run_hooks: dict[str, Any]
    image: str | None

    def one(self, verdict: Any, index: int, total: int, slot: int) -> SweepConfig:
        result = self._measure(verdict, index, total, slot)
        if self.on_result is not None:
            self.on_result(result)
        return result

    def _measure(self, verdict: Any, index: int, total: int, slot: int) -> SweepConfig:
        from aim_catalog.launch.guard import interrupts_deferred

        image = self.image or verdict.image
        config = SweepConfig(verdict.recipe_id, verdict.backend, verdict.gpu_count, image, "planned")
        if self.stop.is_set():
            return replace(config, outcome="interrupted", reason="stopped before it was launched")
        if self.on_config is not None:
            self.on_config(verdict, index, total)
        if self.resume and _measured_already(self.work, verdict, image, self.options):
            return replace(config, outcome="resumed", reason="every asked point measured on this image")
        try:
            name = self.launch(verdict, slot)
        except KeyboardInterrupt:
            self.stop.set()
            return replace(config, outcome="interrupted", reason="interrupted while launching")
        except CatalogError as exc:
            return replace(config, outcome="launch failed", reason=_one_line(exc))
        try:
            measured = bench_run(self.work, name, self.options, stop=self.stop, **self.run_hooks)
            outcome: Outcome = "interrupted" if measured.interrupted else "measured"
            reason = "; ".join(measured.notes)
            return replace(config, outcome=outcome, deployment=name, run=measured, reason=reason)
        except CatalogError as exc:
            return replace(config, outcome="run failed", deployment=name, reason=_one_line(exc))
        except KeyboardInterrupt:
            self.stop.set()
            return replace(config, outcome="interrupted", deployment=name, reason="interrupted")
        finally:
            # A second Ctrl-C cannot leave the container behind; a failed stop is said by `ps`.
            with interrupts_deferred() as arrived, contextlib.suppress(CatalogError):
                self.stop_deployment(name)
            if arrived:
                self.stop.set()


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
