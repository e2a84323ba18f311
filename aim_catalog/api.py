"""The Python API: ``Catalog``, one open catalog database and what can be done with it.

Every face (the CLI, a notebook, another service) goes through it::

    from aim_catalog import Catalog, SelectionOptions

    with Catalog.open() as catalog:  # the default catalog; or Catalog.open("postgresql://...")
        best = catalog.select(SelectionOptions("Qwen/Qwen3-32B", gpus=4, backend="vllm"))
        print(best.recipe_id, best.score)

A ``Catalog`` holds its ``storage.store.Store``: one engine whose schema was checked once,
when it was opened (the default catalog is created, migrated and filled with the bundled
recipes on first use). Units of work are explicit: ``read()`` (rolled back, never commits),
``write()`` (commits on success) and ``connection()`` (a plain Core connection: the select
path stays off the ORM). Services take the catalog as a ``storage.work.Work`` (and, where
they select, ``Catalog.select``), never this class. Entities returned are frozen
dataclasses, never ORM rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aim_catalog import arguments
from aim_catalog.arguments import PathLike
from aim_catalog.errors import InvalidRecipeInput, NoCatalog, WrongArgumentType
from aim_catalog.notes import Note, Progress, Tick, Write, progress_ticks, quiet
from aim_catalog.recipes.loading import Loader
from aim_catalog.selection.options import SelectionOptions
from aim_catalog.storage.store import Store, Where

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from aim_catalog.launch.plan import LaunchOptions, LaunchPlan
    from aim_catalog.launch.service import Listing
    from aim_catalog.launch.targets.base import Served, Stopped
    from aim_catalog.measurements.backtest import Backtest
    from aim_catalog.measurements.bench_import import ImportReport, Target
    from aim_catalog.measurements.pareto import Series
    from aim_catalog.measurements.sql.query import Result as SqlResult
    from aim_catalog.measurements.sql.roles import Grant
    from aim_catalog.operating.bench.run import BenchRun
    from aim_catalog.operating.bench.run import Plan as BenchPlan
    from aim_catalog.operating.bench.run import RunOptions as BenchOptions
    from aim_catalog.operating.bench.sweep import Sweep
    from aim_catalog.operating.endpoint_test import TestOptions, TestOutcome
    from aim_catalog.operating.load import LoadResult
    from aim_catalog.recipes.ingest import IngestReport
    from aim_catalog.selection.capacity import CapacityPlan, PlanOptions
    from aim_catalog.selection.explaining import Explanation
    from aim_catalog.selection.listing import RecipeSummary
    from aim_catalog.selection.request import Candidate, ConfigLine, Request
    from aim_catalog.sync.plan import Plan as SyncPlan

C = TypeVar("C", bound="Catalog")


def _seed(connection: Connection) -> None:
    """Fill a default catalog a migration has just created with the bundled recipes."""
    from aim_catalog.recipes.seed import seed_catalog

    seed_catalog(connection)


class Catalog:
    """An open catalog. Use ``Catalog.open(url)``; close it (or use ``with``) when done.

    The database side (opening, units of work, errors) is its ``store``'s; this class is
    what can be done with the catalog.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    # ----------------------------------------------------------------- opening, schema

    @classmethod
    def open(cls: type[C], url: Where | None = None, *, create: bool = False) -> C:
        """Open the catalog at ``url`` (None: ``$AIM_CATALOG_DB_URL``, else the default one);
        a path (``Path("x.db")``) is the SQLite file it names.

        The default catalog is created, migrated and seeded with the bundled recipes on first
        use; any other database that holds an older schema is refused until its admin runs
        ``aim-catalog db upgrade``. A SQLite file that does not exist is an error unless
        ``create=True`` (or it is the default catalog).
        """
        try:
            return cls(Store.open(url, create=create, seed=_seed))
        except NoCatalog as exc:  # the CLI's advice names commands; from Python, this is the way
            advice = "open it with create=True to make a new catalog there"
            raise NoCatalog(exc.where, advice) from None

    @classmethod
    def deferred(cls: type[C], url: Where | None = None, *, create: bool = False, pooled: bool = True) -> C:
        """The catalog at ``url``, opened as ``open`` does but only when first used.
        ``pooled=False``: every unit of work connects afresh (no idle connection is held)."""
        return cls(Store.deferred(url, create=create, pooled=pooled, seed=_seed))

    @property
    def creates(self) -> bool:
        """Whether first use may create a SQLite catalog file that does not exist."""
        return self.store.creates

    @property
    def display_url(self) -> str:
        """The URL without its password: what labels, notes and messages may show."""
        return self.store.display_url

    def exists(self) -> bool:
        """Whether a catalog (a database holding the schema) is there; creates nothing."""
        return self.store.exists()

    def upgrade(self, revision: str = "head") -> str | None:
        """Migrate up to ``revision`` (creating the database; the default one is seeded)."""
        return self.store.upgrade(revision)

    def downgrade(self, revision: str) -> str | None:
        """Migrate down to ``revision`` ('base' drops every table)."""
        return self.store.downgrade(revision)

    def revision(self) -> str | None:
        """The schema revision the database is at (None: empty), migrating nothing."""
        return self.store.revision()

    def close(self) -> None:
        """Release the database; any use afterwards raises ``CatalogClosed`` (never reopens)."""
        self.store.close()

    def __enter__(self: C) -> C:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.display_url!r})"

    # ----------------------------------------------------------------- units of work

    def read(self) -> AbstractContextManager[Session]:
        """A session that reads: whatever it did is rolled back at the end."""
        return self.store.read()

    def write(self) -> AbstractContextManager[Session]:
        """A session whose work is committed when the block ends without an error."""
        return self.store.write()

    def connection(self) -> AbstractContextManager[Connection]:
        """A plain connection for reading (its transaction is rolled back at the end)."""
        return self.store.connection()

    # ----------------------------------------------------------------- selection

    def request(self, asked: Request | SelectionOptions, *, note: Note | None = None) -> Request:
        """The domain request for ``asked`` (options are completed from this host's GPUs)."""
        if isinstance(asked, SelectionOptions):
            return asked.to_request(note=note)
        return asked

    def select(self, asked: Request | SelectionOptions, *, note: Note | None = None) -> Candidate:
        """The best enabled config for the request (``NoSuitableRecipe`` when none fits)."""
        from aim_catalog.selection.best import select_best

        request = self.request(asked, note=note)
        with self.connection() as connection:
            return select_best(connection, request)

    def explain(self, asked: Request | SelectionOptions, *, note: Note | None = None) -> Explanation:
        """Every config of the model with its verdict: chosen, ranked k of n, or why not."""
        from aim_catalog.selection.explaining import Explanation, explain
        from aim_catalog.selection.fallback import resolve_backend
        from aim_catalog.selection.listing import no_match_message

        request = self.request(asked, note=note)
        with self.connection() as connection:
            request = resolve_backend(connection, request)  # what explain compared
            explained = Explanation(request, tuple(explain(connection, request)), None)
            if explained.chosen is None:
                explained = replace(explained, no_match=no_match_message(connection, request))
        return explained

    def plan(self, options: PlanOptions) -> CapacityPlan:
        """How many GPUs of which config serve ``options.target`` within the SLOs, at what
        cost: every candidate config's plan, best first (fewest GPUs, or cheapest with prices),
        each figure with its evidence (``NoSuitableRecipe`` when no config can: the message says
        which SLO binds first). One catalog query, then arithmetic over its rows."""
        from aim_catalog import settings
        from aim_catalog.selection.capacity import PlanOptions, plan_capacity

        if not isinstance(options, PlanOptions):
            raise WrongArgumentType(f"options must be a PlanOptions, got {type(options).__name__}")
        with self.connection() as connection:
            return plan_capacity(connection, options, settings.length_tolerance())

    def recipes(self, model: str | None = None) -> list[RecipeSummary]:
        """The catalog's recipes (of ``model``, a Hugging Face id), with their configs."""
        from aim_catalog.selection.listing import list_recipes

        with self.connection() as connection:
            return list_recipes(connection, model)

    def configurations(self, model: str) -> list[ConfigLine]:
        """Every serve config the catalog has for ``model``."""
        from aim_catalog.selection.listing import configurations

        with self.connection() as connection:
            return configurations(connection, model)

    def supported_configurations(self, model: str) -> list[str]:
        """``model``'s configurations as the original AIM Engine printed them (``- 4 GPU, bf16,
        vLLM: ...``), so scripts written for it keep working."""
        from aim_catalog.selection.listing import supported_configurations

        with self.connection() as connection:
            return supported_configurations(connection, model)

    def single_copy(self, request: Request, chosen: Candidate) -> Candidate | None:
        """The best config using all of the host's GPUs in one copy, to compare ``chosen``'s
        replicas with, at the scenario the chosen config's score is from (None: no such
        comparison applies, or no config fits)."""
        from aim_catalog.errors import NoSuitableRecipe
        from aim_catalog.selection.best import select_best
        from aim_catalog.selection.request import SCENARIO_LENGTHS

        host = chosen.host_gpus
        if request.gpus is not None or not host or chosen.gpu_count == host or chosen.replicas in (None, 0):
            return None
        same = {k: v for k, v in (chosen.scenario or {}).items() if k in SCENARIO_LENGTHS and v}
        try:
            with self.connection() as connection:
                return select_best(connection, replace(request, gpus=host, max_gpus=None, **same))
        except NoSuitableRecipe:
            return None

    def models(self) -> list[str]:
        """The Hugging Face ids the catalog has recipes for."""
        from aim_catalog.selection.listing import models

        with self.connection() as connection:
            return models(connection)

    # ----------------------------------------------------------------- analysts

    def report(self, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """A named report (coverage, leaderboard, benchmarks): its columns and rows."""
        from aim_catalog.measurements.reports import report

        with self.read() as session:
            columns, rows = report(session, name)
            return list(columns), [tuple(row) for row in rows]

    def pareto(self, model: str, **scope: Any) -> list[Series]:
        """Throughput per GPU against latency, one series per config of ``model`` (``scope``:
        hardware, precision, input_len, output_len, metric; see ``pareto.pareto``)."""
        from aim_catalog.measurements.pareto import pareto
        from aim_catalog.settings import length_tolerance

        with self.connection() as connection:
            return pareto(connection, model, tolerance=length_tolerance(), **scope)

    def backtest(self, model: str | None = None) -> Backtest:
        """How good interpolation between measured concurrencies is on this catalog's rows
        (of ``model`` only, when given): each interior point of every curve predicted from
        the rest of its curve, median and p90 error per metric by hardware and backend (see
        ``measurements.backtest``). ``NoSuitableRecipe`` when ``model`` has no such row."""
        from aim_catalog.measurements.backtest import backtest

        asked = arguments.text(model, "model", optional=True)
        with self.connection() as connection:
            return backtest(connection, asked)

    def served(self, name: str) -> Served:
        """Where an active deployment answers (``UsageProblem`` when there is none called
        ``name``, or it is not running)."""
        from aim_catalog.launch.service import served

        return served(self, name)

    def test(self, name: str, options: TestOptions | None = None) -> TestOutcome:
        """Ask the deployment ``name`` (or a URL like http://host:8000) one chat completion, or
        a load; ``options.save`` stores the result as a smoke-test row of its config."""
        from aim_catalog.operating.endpoint_test import TestOptions, run_test

        return run_test(self, name, options or TestOptions())

    def save_smoke_test(self, served: Served, result: LoadResult, max_tokens: int) -> int:
        """Store an ``aim-catalog test`` result as a smoke-test row of the deployment's serve
        config (such rows never rank); the row's id."""
        from aim_catalog.measurements.bench_import import store_smoke_test

        with self.write() as session:
            return store_smoke_test(
                session, served.name, served.serve_config_id, served.image, result, max_tokens
            )

    def bench_plan(self, name: str | None, options: BenchOptions | None = None) -> BenchPlan:
        """What ``bench_run`` would do (where, which client, which points, how long), sending
        nothing."""
        from aim_catalog.operating.bench.run import RunOptions, plan

        return plan(self, name, options or RunOptions())

    def bench_run(
        self,
        name: str | None,
        options: BenchOptions | None = None,
        *,
        on_point: Callable[[Any, int, int], None] | None = None,
        on_done: Callable[[Any], None] | None = None,
        stop: threading.Event | None = None,
    ) -> BenchRun:
        """Measure the deployment ``name`` (or ``options.url``) at each asked concurrency; each
        finished point is stored as a ``measured`` row of its serve config (``options.save``)."""
        from aim_catalog.operating.bench.run import RunOptions, run

        return run(self, name, options or RunOptions(), on_point=on_point, on_done=on_done, stop=stop)

    def bench_sweep(
        self,
        selection: SelectionOptions,
        options: BenchOptions | None = None,
        launch_options: LaunchOptions | None = None,
        *,
        only: Sequence[str] = (),
        resume: bool = False,
        dry_run: bool = False,
        stop: threading.Event | None = None,
        note: Note | None = None,
        on_config: Callable[[Any, int, int], None] | None = None,
        on_result: Callable[[Any], None] | None = None,
        run_hooks: dict[str, Any] | None = None,
        parallel_gpus: int | None = None,
    ) -> Sweep:
        """Launch, measure and stop every candidate config ``explain`` ranks for
        ``selection`` (or those ``only`` names) on the local Docker engine, one at a time or,
        with ``parallel_gpus``, side by side in waves that fit that many GPUs (ports from
        ``launch_options.port`` up); then explain again."""
        from aim_catalog.errors import UsageProblem
        from aim_catalog.launch.plan import LaunchOptions
        from aim_catalog.operating.bench.run import RunOptions
        from aim_catalog.operating.bench.sweep import sweep

        launching = launch_options or LaunchOptions()
        if launching.target != "docker":
            raise UsageProblem("bench sweep launches on the local Docker engine (--target docker)")

        def launch(verdict: Any, slot: int) -> str:
            pinned = replace(
                selection, recipe=verdict.recipe_id, backend=verdict.backend, gpus=verdict.gpu_count
            )
            ported = replace(launching, port=launching.port + slot)  # side by side: a port each
            started = self.launch(pinned, ported, note=note)
            return str(started.containers[0].name)

        return sweep(
            self,
            explain=lambda: self.explain(selection, note=note).verdicts,
            launch=launch,
            stop_deployment=self.stop,
            options=options or RunOptions(),
            only=only,
            resume=resume,
            dry_run=dry_run,
            stop=stop,
            on_config=on_config,
            on_result=on_result,
            run_hooks=run_hooks,
            image=launching.image,
            parallel_gpus=parallel_gpus,
        )

    # ----------------------------------------------------------------- admin: recipes, results

    def ingest(
        self,
        paths: Sequence[PathLike],
        *,
        prune: bool = False,
        dry_run: bool = False,
        loader: Loader | None = None,
    ) -> IngestReport:
        """Validate recipe files and write them in one transaction (nothing if any is invalid:
        ``InvalidRecipeInput``). ``prune`` deletes recipes whose files are gone from the given
        directories; ``dry_run`` reports what would change and writes nothing. ``paths`` is a
        sequence (a bare ``str`` is refused: ``WrongArgumentType``)."""
        from aim_catalog.recipes.ingest import ingest_files

        given = arguments.paths(paths, "paths")
        loader = loader or Loader()
        files = loader.files(given)
        prune_dirs = [p for p in given if p.is_dir()] if prune else []
        with self.read() if dry_run else self.write() as session:
            report = ingest_files(session, files, prune_dirs=prune_dirs, load=loader)
        return replace(report, dry_run=dry_run)

    def import_benchmarks(
        self,
        files: Sequence[PathLike],
        target: Target | None = None,
        *,
        dry_run: bool = False,
        on_tick: Tick | None = None,
        on_progress: Progress | None = None,
    ) -> ImportReport:
        """Import vLLM, SGLang or InferenceX result files (``InvalidRecipeInput`` for a bad
        file or a figure outside ``recipes.bounds``, nothing written). ``target`` names the
        serve config; else it is inferred. ``files`` is a sequence (a bare ``str`` is refused:
        ``WrongArgumentType``). ``on_progress`` hears each stage (checking each file's runs,
        resolving their serve configs, writing) as what, done, of how many; ``on_tick`` the
        same as lines (``checking agg_bmk.json: 5,000 of 370,000``)."""
        from aim_catalog.measurements.bench_import import Target, import_runs
        from aim_catalog.measurements.importers import Parsed, read_result_file

        given = arguments.paths(files, "files")
        progress = on_progress or (progress_ticks(on_tick) if on_tick is not None else None)
        parsed = Parsed()
        for file in given:
            parsed.extend(read_result_file(file, progress, columns=True))
        if parsed.problems or not (parsed.runs or parsed.batches):
            raise InvalidRecipeInput(parsed.problems or parsed.skipped)
        with self.read() if dry_run else self.write() as session:
            report = import_runs(session, parsed, target or Target(), progress)
        return replace(report, notes=[str(skip) for skip in parsed.skipped] + report.notes)

    def sync_inferencex(
        self,
        checkout: PathLike,
        *,
        dry_run: bool = False,
        out: PathLike | None = None,
        note: Note | None = None,
    ) -> SyncPlan:
        """Bring the catalog's InferenceX recipes in step with a local InferenceX checkout
        (at whatever commit): the plan (added, changed with each difference, retired,
        unchanged, entries that could not be read); unless ``dry_run``, written in one
        transaction (and, with ``out``, as YAML files there). Runs the checkout's launch
        scripts in bash with nothing started (``EnvironmentProblem`` without bash)."""
        from aim_catalog.sync.apply import sync_inferencex

        where = arguments.path(checkout, "checkout")
        target = None if out is None else arguments.path(out, "out")
        return sync_inferencex(self, where, dry_run=dry_run, out=target, note=note or quiet)

    def export(self, out: PathLike, *, note: Note | None = None) -> list[Path]:
        """Write the catalog back as recipe YAML files (benchmarks included) into ``out``;
        ``note`` hears each figure left out because ``ingest`` would refuse it now."""
        from aim_catalog.recipes.export import export

        with self.read() as session:
            return export(session, arguments.path(out, "out"), note or quiet)

    @contextmanager
    def sql(
        self, query: str, *, timeout: float = 30.0, role: str | None = None, password: str | None = None
    ) -> Iterator[SqlResult]:
        """Run one read-only statement; the result's ``columns`` and streamed ``rows``.

        SQLite opens the file read-only; PostgreSQL runs a read-only transaction as ``role``
        (default ``$AIM_CATALOG_SQL_ROLE``, else the URL's user; password default
        ``$AIM_CATALOG_SQL_PASSWORD``), refusing roles with powers over the server.
        ``timeout``: seconds, 0 for none (``QueryTimedOut``)."""
        from aim_catalog.measurements.sql import readonly_query

        engine = self.store.engine
        with (
            self.store.translate_errors(),
            readonly_query(engine, query, timeout=timeout, role=role, password=password) as result,
        ):
            yield result

    def grant_readonly(self, role: str, password: Callable[[bool], str | None]) -> Grant:
        """PostgreSQL: make ``role`` a login role that can only SELECT the catalog (``sql``
        runs as it). ``password(exists)`` supplies its password (None: keep an existing
        role's); it reaches the server only as a SCRAM verifier."""
        from aim_catalog.errors import UsageProblem
        from aim_catalog.measurements.sql.roles import check_role_name, grant_readonly
        from aim_catalog.storage.dialects import dialect_of

        check_role_name(role)
        if not dialect_of(self.store.engine).roles:
            raise UsageProblem(
                "grant-readonly is for PostgreSQL catalogs: `sql` opens a SQLite catalog read-only itself"
            )
        with self.store.translate_errors(), self.store.engine.begin() as connection:
            return grant_readonly(connection, role, password)

    # ----------------------------------------------------------------- launch (launch.service)

    def plan_launch(
        self, selection: SelectionOptions, options: LaunchOptions | None = None, *, note: Note | None = None
    ) -> LaunchPlan:
        """What ``launch`` would run (config, GPUs, name, run spec), starting nothing."""
        from aim_catalog.launch.plan import LaunchOptions
        from aim_catalog.launch.service import plan_launch

        return plan_launch(self, self.select, selection, options or LaunchOptions(), note=note or quiet)

    def launch(
        self,
        selection: SelectionOptions,
        options: LaunchOptions | None = None,
        *,
        note: Note | None = None,
        on_tick: Tick | None = None,
    ) -> Any:
        """Run the best config on ``options.target`` (Docker: until it serves, unless
        ``options.wait`` is False); ``LaunchFailed`` when it fails, with nothing left behind.
        What the target started (the Docker target: a ``LaunchResult``)."""
        from aim_catalog.launch.plan import LaunchOptions
        from aim_catalog.launch.service import launch

        opts = options or LaunchOptions()
        return launch(self, self.select, selection, opts, note=note or quiet, on_tick=on_tick)

    def deployments(
        self, *, include_all: bool = False, all_hosts: bool = False, note: Note | None = None
    ) -> Listing:
        """Every target's deployments as it sees them now (``all_hosts``: other Docker
        engines' too, as recorded)."""
        from aim_catalog.launch.service import deployments

        return deployments(self, include_all=include_all, all_hosts=all_hosts, note=note or quiet)

    def stop(self, name: str) -> Stopped:
        """Stop and remove a deployment (on a cluster: delete its objects); marks it stopped."""
        from aim_catalog.launch.service import stop

        return stop(self, name)

    def logs(self, name: str, *, follow: bool = False, tail: int | None = None, write: Write) -> None:
        """A deployment's logs, secrets masked, through ``write`` (``follow`` until Ctrl-C)."""
        from aim_catalog.launch.service import logs

        logs(self, name, follow=follow, tail=tail, write=write)
