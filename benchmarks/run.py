"""aim-catalog performance harness: ingest, select and CLI start-up against their floors.

SIZES ARE COUNTED IN SERVE CONFIGS. Every synthetic recipe file holds 8 serve configs
(vllm and sglang x 1, 2, 4, 8 GPUs) with up to 3 benchmark rows each, so a size of N
configs is N / 8 recipe files: 1,000 configs = 125 files, 80,000 = 10,000 files,
100,000 = 12,500 files. The targets about "10k recipe files" are judged at the size with
exactly 10,000 files (80,000 configs); "100k serve configs" at 100,000.

A figure is the median over up to --repeat runs; a measurement stops repeating once its
runs took --budget seconds (column n: how many runs it got). In-process select gives the
median over runs of each run's p50 and p99 over --requests varied requests. [cold] rows
time a whole process, spawn to exit, and alternate run for run with their floor so that
drift hits both alike.

Example: python benchmarks/run.py --sizes 1000,10000 --repeat 3 --json /tmp/bench.json
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import bench_import
import bench_ps
import catalog_gen
import pg_fleet
import seed_select
import sqlalchemy
import yaml
from benchutil import percentile, work_directory
from catalog_gen import CatalogInfo, RequestSpec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import aim_catalog
from aim_catalog import settings
from aim_catalog.errors import CatalogError, NoSuitableRecipe
from aim_catalog.recipes.files import expand_paths, load_files
from aim_catalog.recipes.ingest import IngestReport, ingest_files
from aim_catalog.selection import matching
from aim_catalog.selection.best import select_best
from aim_catalog.selection.capacity import PlanOptions, plan_capacity
from aim_catalog.selection.capacity import Target as LoadTarget
from aim_catalog.selection.curves import CURVE_COLUMNS
from aim_catalog.selection.request import Request
from aim_catalog.settings import DEFAULT_METRIC, FALLBACK_METRIC
from aim_catalog.storage import db
from aim_catalog.storage.models import Benchmark, Recipe, ServeConfig

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
CLI = str(Path(sys.executable).parent / "aim-catalog")
DEFAULT_SIZES = (1_000, 10_000, 80_000, 100_000)
TARGET_FILES = 10_000  # the "10k recipe files" targets
TARGET_CONFIGS = 100_000  # the "100k serve configs" target

# The cold floor of a select: the interpreter, what a command line needs imported (typer
# for the command line, SQLAlchemy Core for the query) and one indexed query.
COLD_FLOOR_CODE = """\
import sys
import typer
from sqlalchemy import column, create_engine, select, table
recipes = table("recipes", column("id"), column("huggingface_id"))
with create_engine(sys.argv[1]).connect() as conn:
    query = select(recipes.c.id).where(recipes.c.huggingface_id == sys.argv[2]).limit(1)
    print(conn.execute(query).scalar())
"""

# Row keys (stable, in the JSON), their labels, and the short name used in "vs ..." columns.
LABELS = {
    "typer_import": ('floor: python -c "import typer" [cold]', "import typer"),
    "cli_help": ("aim-catalog --help [cold]", "--help"),
    "parse_c": ("floor: yaml CSafeLoader parse of the files", "C parse"),
    "ingest_new": ("ingest new files, in-process", "in-process"),
    "ingest_new_parse": ("  part: load_files (read, hash, parse+validate)", ""),
    "ingest_new_write": ("  part: ingest() + commit", ""),
    "reingest": ("re-ingest unchanged files, in-process", "in-process"),
    "reingest_parse": ("  part: load_files (read, hash; nothing to parse)", ""),
    "reingest_write": ("  part: ingest() + commit", ""),
    "cli_ingest_new": ("aim-catalog ingest DIR, new files [cold]", ""),
    "cli_reingest": ("aim-catalog ingest DIR, unchanged [cold]", ""),
    "core_floor": ("bare Core query (one recipe id), warm connection", "Core"),
    "rows_floor": ("floor: the model's rows, one Core query", "model rows"),
    "select": ("select_best, no lengths asked", "select"),
    "select_lengths": ("select_best, --input-len/--output-len asked", ""),
    "select_slo": ("select_best, with an SLO (--max-ttft-ms)", ""),
    "select_concurrency": ("select_best, with --concurrency", ""),
    "select_shared": ("select_best, one shared connection", ""),
    "plan": ("plan_capacity, a connection per request", ""),
    "seed_match": ("seed's matching over loaded dicts", ""),
    "cold_floor": ("floor: python+typer+SQLAlchemy+1 query [cold]", "floor"),
    "cli_select": ("aim-catalog select --json [cold]", "CLI"),
    "cli_explain": ("aim-catalog explain --json [cold]", ""),
    "cli_plan": ("aim-catalog plan --json [cold]", ""),
    "seed_cold": ("seed approach: safe_load all + match [cold]", ""),
    "seed_c_cold": ("seed approach, CSafeLoader variant [cold]", ""),
}


class BenchError(RuntimeError):
    """Something could not be measured (a command failed, a generated recipe was invalid)."""


# --------------------------------------------------------------------------- results


@dataclass
class Row:
    key: str
    configs: int | None  # the size; None: does not depend on the catalog
    median_s: float
    n: int
    p99_s: float | None = None
    ref: str | None = None  # key of the row compared with (same size)
    ratio: float | None = None
    ratio_text: str = ""
    target: str = ""
    verdict: str = ""  # PASS | MISS | "" (no target on this row)
    note: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.key][0]


@dataclass
class Target:
    name: str
    measured: str
    reference: str
    ratio: str
    limit: str
    verdict: str  # PASS | MISS | N/A (...)


@dataclass
class Section:
    """Rows of a separate harness (``bench_ps``, ``pg_fleet``, ``bench_import``): each a
    dict with key, label, median_s or p50_s, p99_s, n, note; a target row also has target and
    verdict."""

    title: str
    rows: list[dict[str, Any]]
    skipped: str = ""  # why the section was not measured (N/A)


@dataclass
class Results:
    meta: dict[str, Any]
    sizes: list[dict[str, Any]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def add(self, key: str, configs: int | None, samples: Iterable[float], n: int, **extra: Any) -> Row:
        row = Row(key, configs, statistics.median(samples), n, **extra)
        self.rows.append(row)
        return row

    def get(self, key: str, configs: int | None) -> Row | None:
        return next((r for r in self.rows if r.key == key and r.configs == configs), None)


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def compare(row: Row, ref: Row, limit: float | None = None, *, at_least: bool = False) -> None:
    """Set ``row``'s ratio to ``ref`` (row / ref) and, given a limit, its verdict."""
    row.ref = ref.key
    row.ratio = row.median_s / ref.median_s
    row.ratio_text = f"{row.ratio:.0f}x" if row.ratio >= 10 else f"{row.ratio:.2f}x"
    row.target = row.verdict = ""
    if limit is not None:
        row.target = f">= {limit:g}x" if at_least else f"<= {limit:g}x"
        row.verdict = "PASS" if (row.ratio >= limit if at_least else row.ratio <= limit) else "MISS"


# --------------------------------------------------------------------------- running things


def rounds(
    steps: dict[str, Callable[[], float]], repeat: int, budget: float
) -> tuple[dict[str, list[float]], int]:
    """Run every step once per round, until ``repeat`` rounds or ``budget`` seconds.

    Each step returns its own timing, its setup left out; steps of one round alternate,
    so a slow spell of the machine hits a measurement and its floor alike.
    """
    samples: dict[str, list[float]] = {key: [] for key in steps}
    started = time.perf_counter()
    done = 0
    while done < repeat:
        for key, step in steps.items():
            gc.collect()
            samples[key].append(step())
        done += 1
        if time.perf_counter() - started >= budget:
            break
    return samples, done


def child_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AIM_CATALOG_DB_URL", None)  # every command names its catalog with --db
    env["XDG_DATA_HOME"] = str(workdir / "xdg")  # and never touches the user's default one
    return env


def run_process(argv: list[str], env: dict[str, str], check: Callable[[str], None] | None = None) -> float:
    """Wall time of one process, spawn to exit; it must exit 0 (and pass ``check``)."""
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(argv[:8])} ... exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    if check is not None:
        check(proc.stdout)
    return elapsed


def select_argv(url: str, spec: RequestSpec) -> list[str]:
    argv = [CLI, "--db", url, "select", spec.model, str(spec.gpus), "--precision", spec.precision]
    return [*argv, "--hardware", "any", "--json"]


def explain_argv(url: str, spec: RequestSpec) -> list[str]:
    argv = [CLI, "--db", url, "explain", spec.model, str(spec.gpus), "--precision", spec.precision]
    return [*argv, "--hardware", "any", "--json"]


def plan_argv(url: str, spec: RequestSpec) -> list[str]:
    """``plan``: 1000 output tokens/s of the model over every config of the precision."""
    argv = [CLI, "--db", url, "plan", spec.model, "--tokens-per-s", "1000", "--precision", spec.precision]
    return [*argv, "--json"]


def check_json_object(key: str) -> Callable[[str], None]:
    def check(out: str) -> None:
        if key not in json.loads(out):
            raise BenchError(f"no {key!r} in the JSON output: {out[:300]}")

    return check


def floor_argv(url: str, spec: RequestSpec) -> list[str]:
    return [PYTHON, "-c", COLD_FLOOR_CODE, db.normalize_url(url), spec.model]


def seed_argv(directory: Path, spec: RequestSpec, c_loader: bool) -> list[str]:
    argv = [PYTHON, str(HERE / "seed_select.py"), str(directory), spec.model, str(spec.gpus)]
    argv += ["--precision", spec.precision, "--backend", "vllm"]
    return argv + (["--c-loader"] if c_loader else [])


def check_select_json(out: str) -> None:
    answer = json.loads(out)
    if not answer.get("recipe_id") or answer.get("backend") != "vllm":
        raise BenchError(f"unexpected select --json output: {out[:300]}")


# --------------------------------------------------------------------------- catalogs


class Databases:
    """Empty, migrated catalogs: a new SQLite file each time, or the --db database wiped."""

    def __init__(self, workdir: Path, url: str | None) -> None:
        self.dir = workdir / "db"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.dialect = (
            "sqlite" if url is None else sqlalchemy.make_url(db.normalize_url(url)).get_backend_name()
        )

    def fresh(self, name: str) -> str:
        if self.url is None:
            url = f"sqlite:///{self.dir / name}.db"
            self.drop(url)
        else:
            url = self.url
        engine = db.make_engine(url)
        try:
            if self.url is not None:
                db.downgrade(engine, "base")
            db.upgrade(engine)
        finally:
            engine.dispose()
        return url

    def drop(self, url: str) -> None:
        if self.url is None:
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)


# --------------------------------------------------------------------------- in-process work


def parse_floor(directory: Path, keep: dict[str, dict[str, Any]]) -> float:
    """PyYAML's C loader over the same files and nothing else: the floor of ingest."""
    started = time.perf_counter()
    docs = []
    for path in sorted(directory.glob("*.yaml")):
        with open(path, "rb") as handle:
            docs.append(yaml.load(handle, Loader=yaml.CSafeLoader))
    elapsed = time.perf_counter() - started
    keep.clear()
    keep.update((d["recipe_id"], d) for d in docs)
    return elapsed


@dataclass
class IngestRun:
    total: float
    parse: float
    write: float
    report: IngestReport


def ingest_in_process(directory: Path, url: str) -> IngestRun:
    """What ``aim-catalog ingest DIR`` does, on a warm engine: ingest_files in one session.

    The parse part is timed alone: load_files over the files the catalog does not already
    hold with the same content (all of them on a first ingest, none on a re-ingest).
    """
    engine = db.make_engine(url)
    try:
        with engine.connect():
            pass  # a pooled, configured connection before the clock starts
        factory = db.session_factory(engine)
        gc.collect()
        started = time.perf_counter()
        files, missing = expand_paths([directory])
        timings: dict[str, float] = {}

        def timed_load(files: list[Path], known: dict[str, str]) -> tuple[list[Any], list[Any]]:
            begun = time.perf_counter()
            loaded = load_files(files, known=known)
            timings["parse"] = time.perf_counter() - begun
            return loaded

        with factory() as session:
            report = ingest_files(session, files, load=timed_load)
            session.commit()
        done = time.perf_counter()
        if missing:
            raise BenchError(f"generated recipes went missing: {missing[:3]}")
        parsed = started + timings["parse"]
    finally:
        engine.dispose()
    return IngestRun(done - started, parsed - started, done - parsed, report)


def to_request(spec: RequestSpec, **extra: Any) -> Request:
    return Request(
        model=spec.model,
        gpus=spec.gpus,
        precision=spec.precision,
        backend=spec.backend,
        hardware=spec.hardware,
        **extra,
    )


# The in-process select variants (issue 23): each request of a run asked as is, with the
# lengths of one of the catalog's scenarios, with an SLO that about half the measured rows
# meet (catalog_gen's TTFTs are uniform in 20-900 ms) and with a concurrency it measured.
VARIANTS: dict[str, dict[str, Any]] = {
    "select": {},
    "select_lengths": {"input_len": 1024, "output_len": 1024},
    "select_slo": {"max_ttft_ms": 450.0},
    "select_concurrency": {"concurrency": 64},
}


def answer(executor: sqlalchemy.Connection | Session, request: Request) -> bool:
    try:
        select_best(executor, request)
    except NoSuitableRecipe:
        return False
    return True


def model_rows_query() -> sqlalchemy.Select[Any]:
    """The in-process select floor: one Core query reading the model's recipes, serve configs
    and benchmark rows (every row of the model, as select must consider them), with the
    columns select reads from them: the recipe and config fields it filters on and returns
    (the JSON args, env and setup aside: select reads them per config, not per row) and each
    row's figures and provenance (``curves.CURVE_COLUMNS``, the predicates' columns)."""
    r, sc, b = Recipe.__table__, ServeConfig.__table__, Benchmark.__table__
    row_columns = dict.fromkeys(
        [
            *(name for name in CURVE_COLUMNS if name in b.c),
            *matching.PROVENANCE,
            DEFAULT_METRIC,
            FALLBACK_METRIC,
            "failed",
            "origin",
        ]
    )
    return (
        select(
            *(r.c[n] for n in ("recipe_id", "model_id", "huggingface_id", "hardware", "precision")),
            *(r.c[n] for n in ("status", "retired_reason", "retired_on")),
            *(sc.c[n] for n in ("id", "backend", "gpu_count", "enabled", "image", "goal", "profile_type")),
            sc.c.manual_only,
            *(b.c[n] for n in row_columns),
        )
        .select_from(r.join(sc, sc.c.recipe_pk == r.c.id).outerjoin(b, b.c.serve_config_id == sc.c.id))
        .where(r.c.huggingface_id == sqlalchemy.bindparam("model"))
    )


@dataclass
class SelectRun:
    # per variant: a connection per request, as ``Catalog.select`` runs it
    select: dict[str, list[float]] = field(default_factory=dict)
    shared: list[float] = field(default_factory=list)  # one connection for the run
    floor: list[float] = field(default_factory=list)  # the model's rows, one Core query
    bare: list[float] = field(default_factory=list)  # one recipe id: the round trip alone
    misses: dict[str, int] = field(default_factory=dict)


def select_rounds(url: str, variants: dict[str, list[Request]], warmup: int = 50) -> Iterator[SelectRun]:
    """Rounds of select_best (each variant's requests) and of the floors, one warm engine."""
    engine = db.make_engine(url)
    recipes = Recipe.__table__
    rows_query = model_rows_query()
    plain = variants["select"]

    def bare(conn: sqlalchemy.Connection, model: str) -> None:
        conn.execute(select(recipes.c.id).where(recipes.c.huggingface_id == model).limit(1)).first()

    try:
        for requests in variants.values():
            for request in requests[:warmup]:
                with engine.connect() as conn:
                    answer(conn, request)
        while True:
            run = SelectRun()
            for key, requests in variants.items():
                gc.collect()
                samples = run.select.setdefault(key, [])
                for request in requests:
                    started = time.perf_counter()
                    with engine.connect() as conn:
                        found = answer(conn, request)
                    samples.append(time.perf_counter() - started)
                    run.misses[key] = run.misses.get(key, 0) + (not found)
            with engine.connect() as conn:
                for request in plain:
                    started = time.perf_counter()
                    answer(conn, request)
                    run.shared.append(time.perf_counter() - started)
            with engine.connect() as conn:
                for request in plain[:warmup]:
                    conn.execute(rows_query, {"model": request.model}).all()
                    bare(conn, request.model)
                for request in plain:
                    started = time.perf_counter()
                    conn.execute(rows_query, {"model": request.model}).all()
                    run.floor.append(time.perf_counter() - started)
                for request in plain:
                    started = time.perf_counter()
                    bare(conn, request.model)
                    run.bare.append(time.perf_counter() - started)
            yield run
    finally:
        engine.dispose()


def plan_options(spec: RequestSpec) -> PlanOptions:
    """``aim-catalog plan MODEL --tokens-per-s 1000`` over the request's choice space."""
    return PlanOptions(
        spec.model,
        LoadTarget("tokens", 1000.0),
        precisions=(spec.precision,),
        backend=spec.backend,
        hardware=(spec.hardware,) if spec.hardware else (),
        gpus=(spec.gpus,) if spec.gpus else (),
    )


def plan_round(url: str, specs: list[RequestSpec], warmup: int = 50) -> list[float]:
    """One round of plans over ``specs`` (a connection per request, as select's row), timed."""
    engine = db.make_engine(url)
    tolerance = settings.length_tolerance()

    def one(spec: RequestSpec) -> None:
        with engine.connect() as conn, suppress(NoSuitableRecipe):
            plan_capacity(conn, plan_options(spec), tolerance)

    try:
        for spec in specs[:warmup]:
            one(spec)
        gc.collect()
        samples = []
        for spec in specs:
            started = time.perf_counter()
            one(spec)
            samples.append(time.perf_counter() - started)
        return samples
    finally:
        engine.dispose()


def seed_in_memory(docs: dict[str, dict[str, Any]], specs: list[RequestSpec]) -> list[float]:
    """The seed's find_matching_recipes over already loaded dicts (no YAML cost at all)."""
    times = []
    for spec in specs:
        backend = "vllm" if spec.backend == "any" else spec.backend
        started = time.perf_counter()
        seed_select.select_recipe(docs, spec.model, spec.gpus, spec.precision, backend)
        times.append(time.perf_counter() - started)
    return times


def answerable(url: str, files: int, count: int) -> list[RequestSpec]:
    """vLLM requests with an answer (checked in-process), for the cold select runs."""
    found = []
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            for spec in catalog_gen.request_specs(files, count * 10, seed=7, backends=("vllm",)):
                spec = RequestSpec(spec.model, spec.gpus, spec.precision, "vllm", None)
                if answer(conn, to_request(spec)):
                    found.append(spec)
                if len(found) == count:
                    break
    finally:
        engine.dispose()
    if not found:
        raise BenchError("no request has an answer: the cold select runs need one")
    return found


# --------------------------------------------------------------------------- the harness


@dataclass
class Options:
    sizes: list[int]
    repeat: int
    budget: float
    requests: int
    seed_max_files: int
    cli_ingest: bool
    profile: Path | None
    import_rows: int = 100_000
    ps_deployments: int = 500
    pg_url: str | None = None


class Harness:
    def __init__(self, opts: Options, workdir: Path, url: str | None) -> None:
        self.opts = opts
        self.workdir = workdir
        self.dbs = Databases(workdir, url)
        self.env = child_env(workdir)
        self.res = Results(meta=environment(self.dbs.dialect, url))

    def log(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    def cold_rounds(self, steps: dict[str, Callable[[], float]]) -> tuple[dict[str, list[float]], int]:
        """Cold runs are cheap and noisy: at least 5 of them, within the budget."""
        return rounds(steps, max(self.opts.repeat, 5), self.opts.budget)

    # ---- start-up, no catalog

    def startup(self) -> None:
        self.log("start-up: aim-catalog --help vs python -c 'import typer'")
        typer_argv, help_argv = [PYTHON, "-c", "import typer"], [CLI, "--help"]

        def check_help(out: str) -> None:
            if "select" not in out:
                raise BenchError("aim-catalog --help printed no command list")

        for argv in (typer_argv, help_argv):
            run_process(argv, self.env)  # bytecode written, files in the page cache
        samples, n = self.cold_rounds(
            {
                "typer": lambda: run_process(typer_argv, self.env),
                "help": lambda: run_process(help_argv, self.env, check_help),
            }
        )
        floor = self.res.add("typer_import", None, samples["typer"], n)
        compare(self.res.add("cli_help", None, samples["help"], n), floor, 1.3)

    # ---- one size

    def size(self, configs: int) -> None:
        info = catalog_gen.write_catalog(self.workdir / "recipes" / f"configs-{configs}", configs)
        self.log(f"size {configs:,} serve configs = {info.files:,} files in {info.directory}")
        docs: dict[str, dict[str, Any]] = {}
        url = self.ingest(info, docs)
        self.reingest(info, url)
        self.select_in_process(info, url, docs)
        self.cold_select(info, url)
        if self.opts.cli_ingest:
            self.cli_ingest(info)
        if self.opts.profile is not None and configs == self.profile_size():
            self.profile(info, url, self.opts.profile)
        self.dbs.drop(url)

    def ingest(self, info: CatalogInfo, docs: dict[str, dict[str, Any]]) -> str:
        """Ingest into a fresh catalog each round, next to the bare C-loader parse."""
        self.log("  ingest of new files (in-process) and the CSafeLoader parse floor")
        urls: list[str] = []
        runs: list[IngestRun] = []

        def ingest_new() -> float:
            while urls:
                self.dbs.drop(urls.pop())
            urls.append(self.dbs.fresh(f"ingest-{info.configs}"))  # migrated outside the clock
            run = ingest_in_process(info.directory, urls[-1])
            if len(run.report.added) != info.files:
                raise BenchError(f"ingest: {run.report.summary()}; expected {info.files} added")
            runs.append(run)
            return run.total

        samples, n = rounds(
            {"parse": lambda: parse_floor(info.directory, docs), "ingest": ingest_new},
            self.opts.repeat,
            self.opts.budget,
        )
        floor = self.res.add("parse_c", info.configs, samples["parse"], n)
        row = self.res.add("ingest_new", info.configs, samples["ingest"], n)
        compare(row, floor, 2.0 if info.files == TARGET_FILES else None)
        self.parts("ingest_new", info.configs, runs, n)
        engine = db.make_engine(urls[-1])
        with engine.connect() as conn:
            bench_rows = conn.execute(select(func.count()).select_from(Benchmark.__table__)).scalar_one()
        engine.dispose()
        self.res.sizes.append(
            {
                "configs": info.configs,
                "files": info.files,
                "models": info.models,
                "benchmark_rows": bench_rows,
                "bytes": info.bytes,
            }
        )
        return urls[-1]

    def reingest(self, info: CatalogInfo, url: str) -> None:
        self.log("  re-ingest of the same, unchanged files (in-process)")
        runs: list[IngestRun] = []

        def again() -> float:
            run = ingest_in_process(info.directory, url)
            if len(run.report.unchanged) != info.files:
                raise BenchError(f"re-ingest: {run.report.summary()}; expected all unchanged")
            runs.append(run)
            return run.total

        samples, n = rounds({"again": again}, self.opts.repeat, self.opts.budget)
        row = self.res.add("reingest", info.configs, samples["again"], n)
        if info.files == TARGET_FILES:
            row.ratio, row.ratio_text, row.target = row.median_s, f"{row.median_s:.2f} s", "< 1 s"
            row.verdict = "PASS" if row.median_s < 1.0 else "MISS"
        self.parts("reingest", info.configs, runs, n)

    def parts(self, key: str, configs: int, runs: list[IngestRun], n: int) -> None:
        self.res.add(f"{key}_parse", configs, [r.parse for r in runs], n)
        self.res.add(f"{key}_write", configs, [r.write for r in runs], n)

    def select_in_process(self, info: CatalogInfo, url: str, docs: dict[str, dict[str, Any]]) -> None:
        self.log(f"  select in-process: {self.opts.requests} varied requests per run and variant")
        specs = catalog_gen.request_specs(info.files, self.opts.requests, seed=info.configs)
        variants = {key: [to_request(s, **extra) for s in specs] for key, extra in VARIANTS.items()}
        runs: list[SelectRun] = []
        started = time.perf_counter()
        with closing(select_rounds(url, variants)) as select_runs:
            for run in select_runs:
                runs.append(run)
                if len(runs) >= self.opts.repeat or time.perf_counter() - started >= self.opts.budget:
                    break

        def add(key: str, samples: list[list[float]], **extra: Any) -> Row:
            p50s = [percentile(s, 50) for s in samples]
            p99 = statistics.median(percentile(s, 99) for s in samples)
            return self.res.add(key, info.configs, p50s, len(samples), p99_s=p99, **extra)

        floor = add("rows_floor", [r.floor for r in runs])
        compare(add("core_floor", [r.bare for r in runs]), floor)
        for key in VARIANTS:
            note = f"{runs[-1].misses[key]} of {len(specs)} requests have no answer (NoSuitableRecipe)"
            compare(add(key, [r.select[key] for r in runs], note=note), floor, 1.5)
        row = self.res.get("select", info.configs)
        assert row is not None
        compare(add("select_shared", [r.shared for r in runs]), floor)
        # plan: the same one statement (all candidates with their curves) plus arithmetic
        compare(add("plan", [plan_round(url, specs) for _ in runs]), row)
        seed_specs = specs[:200]
        compare(add("seed_match", [seed_in_memory(docs, seed_specs) for _ in runs]), row)

    def cold_select(self, info: CatalogInfo, url: str) -> None:
        self.log("  cold select: aim-catalog select --json vs python + typer + SQLAlchemy + one query")
        specs = answerable(url, info.files, 8)
        turns: dict[str, int] = {}

        def spec(kind: str) -> RequestSpec:  # each run asks for the next model
            turns[kind] = turns.get(kind, -1) + 1
            return specs[turns[kind] % len(specs)]

        explained, planned = check_json_object("verdicts"), check_json_object("plans")
        for argv in (select_argv, floor_argv, explain_argv, plan_argv):
            run_process(argv(url, specs[0]), self.env)  # bytecode written, files in the page cache
        samples, n = self.cold_rounds(
            {
                "floor": lambda: run_process(floor_argv(url, spec("floor")), self.env),
                "cli": lambda: run_process(select_argv(url, spec("cli")), self.env, check_select_json),
                "explain": lambda: run_process(explain_argv(url, spec("explain")), self.env, explained),
                "plan": lambda: run_process(plan_argv(url, spec("plan")), self.env, planned),
            }
        )
        at_target = info.configs == TARGET_CONFIGS
        floor = self.res.add("cold_floor", info.configs, samples["floor"], n)
        cli = self.res.add("cli_select", info.configs, samples["cli"], n)
        compare(cli, floor, 1.25 if at_target else None)
        for key, sample_key in (("cli_explain", "explain"), ("cli_plan", "plan")):
            row = self.res.add(key, info.configs, samples[sample_key], n)
            compare(row, floor, 1.5 if at_target else None)
        if info.files > self.opts.seed_max_files:
            return
        for key, c_loader in (("seed_cold", False), ("seed_c_cold", True)):
            self.log(f"  {LABELS[key][0]}")
            samples, n = rounds(
                {
                    key: lambda key=key, c_loader=c_loader: run_process(
                        seed_argv(info.directory, spec(key), c_loader), self.env, check_select_json
                    )
                },
                self.opts.repeat,
                self.opts.budget,
            )
            # seed / CLI: how many times faster the catalog answers the same question
            target = 30.0 if key == "seed_cold" and info.files == TARGET_FILES else None
            compare(self.res.add(key, info.configs, samples[key], n), cli, target, at_least=True)

    def cli_ingest(self, info: CatalogInfo) -> None:
        self.log("  aim-catalog --db URL ingest DIR: new files, then the same files unchanged")
        urls: list[str] = []

        def expect(word: str) -> Callable[[str], None]:
            def check(out: str) -> None:
                if f"{word} {info.files}," not in out:
                    raise BenchError(
                        f"aim-catalog ingest printed {out.strip()!r}; expected {word} {info.files}"
                    )

            return check

        def new() -> float:
            while urls:
                self.dbs.drop(urls.pop())
            urls.append(self.dbs.fresh(f"cli-ingest-{info.configs}"))  # migrated outside the clock
            return run_process(
                [CLI, "--db", urls[-1], "ingest", str(info.directory)], self.env, expect("added")
            )

        def again() -> float:
            argv = [CLI, "--db", urls[-1], "ingest", str(info.directory)]
            return run_process(argv, self.env, expect("unchanged"))

        samples, n = rounds({"new": new, "again": again}, self.opts.repeat, self.opts.budget)
        for key, ref_key, sample in (
            ("cli_ingest_new", "ingest_new", samples["new"]),
            ("cli_reingest", "reingest", samples["again"]),
        ):
            row = self.res.add(key, info.configs, sample, n)
            ref = self.res.get(ref_key, info.configs)
            if ref is not None:
                compare(row, ref)
        self.dbs.drop(urls[-1])

    # ---- the separate harnesses: bench import, ps, PostgreSQL at fleet scale

    def services(self) -> None:
        opts = self.opts
        if opts.import_rows:
            self.log(f"bench import of {opts.import_rows:,} InferenceX rows (bench_import.py)")
            work = self.workdir / "import"
            rows = bench_import.measure_rows(work, opts.import_rows, "full", min(opts.repeat, 3))
            self.res.sections.append(Section(f"bench import, {opts.import_rows:,} InferenceX rows", rows))
        else:
            self.res.sections.append(Section("bench import", [], "--import-rows 0"))
        if opts.ps_deployments:
            self.log(f"ps with {opts.ps_deployments} deployments (bench_ps.py)")
            try:
                rows = bench_ps.measure(opts.ps_deployments, max(opts.repeat, 5), self.workdir / "ps")
            except bench_ps.BenchError as exc:
                self.res.sections.append(Section("ps", [], f"no Docker engine: {exc}"))
            else:
                for row in rows:
                    if row["key"] in bench_ps.PS_KEYS:
                        row["target"] = f"1 list, <= {bench_ps.TARGET_S:g} s"
                        row["verdict"] = row["note"].split(":", 1)[0]
                title = f"ps, {opts.ps_deployments} deployments on one engine"
                self.res.sections.append(Section(title, rows))
        else:
            self.res.sections.append(Section("ps", [], "--ps-deployments 0"))
        if opts.pg_url:
            self.log("PostgreSQL at fleet scale (pg_fleet.py)")
            rows = pg_fleet.measure(opts.pg_url, workdir=self.workdir / "pg-fleet")
            self.res.sections.append(Section("PostgreSQL, 1M serve configs, 8 clients", rows))
        else:
            self.res.sections.append(Section("PostgreSQL at fleet scale", [], "needs --pg-url"))

    # ---- --profile DIR: the evidence behind a miss

    def profile_size(self) -> int:
        exact = [s for s in self.opts.sizes if catalog_gen.files_for(s) == TARGET_FILES]
        return exact[0] if exact else max(self.opts.sizes)

    def profile(self, info: CatalogInfo, url: str, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.log(f"  profiling at {info.configs:,} configs into {out}")
        fresh = self.dbs.fresh(f"profile-{info.configs}")
        profile_call(out / f"ingest-new-{info.configs}", lambda: ingest_in_process(info.directory, fresh))
        profile_call(out / f"reingest-{info.configs}", lambda: ingest_in_process(info.directory, fresh))
        self.dbs.drop(fresh)
        specs = catalog_gen.request_specs(info.files, self.opts.requests, seed=info.configs)
        runs = select_rounds(url, {"select": [to_request(s) for s in specs]})
        next(runs)  # warm
        profile_call(out / f"select-{info.configs}", lambda: next(runs))
        runs.close()
        spec = answerable(url, info.files, 1)[0]
        importtime = [PYTHON, "-X", "importtime"]
        for name, argv in (
            ("importtime-typer", [*importtime, "-c", "import typer"]),
            ("importtime-help", [*importtime, CLI, "--help"]),
            ("importtime-floor", importtime + floor_argv(url, spec)[1:]),
            ("importtime-select", importtime + select_argv(url, spec)),
        ):
            proc = subprocess.run(argv, capture_output=True, text=True, env=self.env, check=False)
            write_importtime(out / f"{name}.txt", proc.stderr)
        stats = out / f"select-cold-{info.configs}.pstats"
        argv = [PYTHON, "-m", "cProfile", "-o", str(stats), *select_argv(url, spec)]
        subprocess.run(argv, capture_output=True, env=self.env, check=False)
        if stats.exists():
            write_stats(stats, stats.with_suffix(".txt"))


def profile_call(stem: Path, call: Callable[[], Any]) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(call)
    profiler.dump_stats(f"{stem}.pstats")
    write_stats(Path(f"{stem}.pstats"), Path(f"{stem}.txt"))


def write_stats(pstats_file: Path, text_file: Path) -> None:
    buffer = io.StringIO()
    stats = pstats.Stats(str(pstats_file), stream=buffer)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)
    text_file.write_text(buffer.getvalue())


def write_importtime(path: Path, stderr: str) -> None:
    """``-X importtime`` output with the slowest imports (cumulative) listed on top."""
    rows = []
    for line in stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[0].strip().isdigit():
            rows.append((int(parts[1]), int(parts[0]), parts[2].rstrip()))
    top = [f"{'cumulative us':>14} {'self us':>9}  module"]
    top += [f"{c:>14} {s:>9}  {name}" for c, s, name in sorted(rows, reverse=True)[:40]]
    path.write_text("\n".join(top) + "\n\n# full -X importtime output\n" + stderr)


# --------------------------------------------------------------------------- targets and report


def git_head() -> str:
    """The checkout's commit (read-only; uncommitted changes are not detected)."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown"
    return proc.stdout.strip() or "unknown"


def environment(dialect: str, url: str | None) -> dict[str, Any]:
    shown = sqlalchemy.make_url(url).render_as_string(hide_password=True) if url else None
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_head": git_head(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "database": dialect,
        "database_url": shown or "sqlite:///<work dir>/db/*.db (a new file per catalog)",
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "pyyaml": yaml.__version__,
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
        "aim_catalog": aim_catalog.__version__,
        "configs_per_file": catalog_gen.CONFIGS_PER_FILE,
        "benchmark_rows_per_config": catalog_gen.BENCH_ROWS,
    }


def evaluate(res: Results, sizes: list[int]) -> None:
    """The issue's targets, each a ratio next to its reference with PASS/MISS."""
    ten_k = next((s for s in sizes if catalog_gen.files_for(s) == TARGET_FILES), None)
    need_10k = "needs the size 80000 = 10,000 files"

    def from_row(name: str, key: str, configs: int | None, why: str) -> None:
        row = res.get(key, configs)
        if row is None or not row.verdict:
            res.targets.append(Target(name, "", "", "", "", f"N/A: {why}"))
            return
        ref = res.get(row.ref, row.configs) if row.ref else None
        reference = f"{LABELS[ref.key][1]} {fmt_time(ref.median_s)}" if ref else ""
        res.targets.append(
            Target(name, fmt_time(row.median_s), reference, row.ratio_text, row.target, row.verdict)
        )

    from_row("aim-catalog --help vs python -c 'import typer'", "cli_help", None, "")
    from_row(
        "seed approach vs cold select --json (10k files)",
        "seed_cold",
        ten_k,
        need_10k + " and --seed-max-files >= 10000",
    )
    for key, name in (
        ("cli_select", "cold select --json vs cold floor (100k configs)"),
        ("cli_explain", "cold explain --json vs cold floor (100k configs)"),
        ("cli_plan", "cold plan --json vs cold floor (100k configs)"),
    ):
        from_row(name, key, TARGET_CONFIGS, "needs 100000")
    for key in VARIANTS:
        selects = sorted((r for r in res.rows if r.key == key), key=lambda r: r.configs or 0)
        what = LABELS[key][0].removeprefix("select_best, ")
        if selects:
            worst = max(selects, key=lambda r: r.ratio or 0.0)
            floor = res.get("rows_floor", worst.configs)
            res.targets.append(
                Target(
                    f"select p50 ({what}) vs the model's rows (worst {worst.configs:,})",
                    fmt_time(worst.median_s),
                    f"rows {fmt_time(floor.median_s if floor else None)}",
                    worst.ratio_text,
                    "<= 1.5x",
                    "PASS" if all(r.verdict == "PASS" for r in selects) else "MISS",
                )
            )
        if len(selects) >= 2:
            small, large = selects[0], selects[-1]
            ratio = large.median_s / small.median_s
            res.targets.append(
                Target(
                    f"select p50 flat ({what}): {large.configs:,} vs {small.configs:,}",
                    fmt_time(large.median_s),
                    f"{small.configs:,}: {fmt_time(small.median_s)}",
                    f"{ratio:.2f}x",
                    "<= 1.2x",
                    "PASS" if ratio <= 1.2 else "MISS",
                )
            )
        else:
            res.targets.append(Target(f"select p50 flat ({what})", "", "", "", "", "N/A: needs two sizes"))
    from_row("ingest 10k new files vs CSafeLoader parse", "ingest_new", ten_k, need_10k)
    row = res.get("reingest", ten_k) if ten_k else None
    res.targets.append(
        Target(
            "re-ingest 10k unchanged files", fmt_time(row.median_s), "", row.ratio_text, "< 1 s", row.verdict
        )
        if row is not None
        else Target("re-ingest 10k unchanged files", "", "", "", "", f"N/A: {need_10k}")
    )


def render_section(section: Section) -> list[str]:
    out = ["", f"== {section.title} =="]
    if section.skipped:
        return [*out, f"N/A: {section.skipped}"]
    header = f"{'measurement':<45} {'median/p50':>10} {'p99':>9} {'n':>7}  {'target':<18} result"
    out.append(header)
    for row in section.rows:
        median = row.get("median_s", row.get("p50_s"))
        out.append(
            f"{row['label']:<45} {fmt_time(median):>10} {fmt_time(row.get('p99_s')):>9} "
            f"{row.get('n') or '':>7}  {row.get('target', ''):<18} {row.get('verdict', '')}".rstrip()
        )
    out += [f"  ({row['key']}: {row['note']})" for row in section.rows if row.get("note")]
    return out


def section_targets(res: Results) -> None:
    """The separate harnesses' targets: every row that names one."""
    for section in res.sections:
        if section.skipped:
            res.targets.append(Target(section.title, "", "", "", "", f"N/A: {section.skipped}"))
            continue
        for row in section.rows:
            if not row.get("target"):
                continue
            median = row.get("median_s", row.get("p50_s"))
            measured = fmt_time(row.get("p99_s") if row["key"].startswith("pg_") else median)
            res.targets.append(
                Target(row["label"], measured, "", row.get("ratio_text", ""), row["target"], row["verdict"])
            )


def render(res: Results) -> str:
    meta = res.meta
    sqlite_version = f" (SQLite {meta['sqlite']})" if meta["database"] == "sqlite" else ""
    libyaml = "yes" if meta["libyaml"] else "NO"
    out = [
        f"aim-catalog {meta['aim_catalog']} (git {meta['git_head']}) benchmarks, {meta['date']}: "
        f"Python {meta['python']}, {meta['cpus']} CPUs, {meta['platform']}",
        f"database {meta['database_url']}{sqlite_version}; SQLAlchemy {meta['sqlalchemy']}, "
        f"PyYAML {meta['pyyaml']} (libyaml {libyaml})",
        f"SIZE = SERVE CONFIGS: one recipe file = {meta['configs_per_file']} serve configs "
        f"(vllm+sglang x 1/2/4/8 GPUs), <= {meta['benchmark_rows_per_config']} benchmark rows each.",
        "median/p50 and p99: medians over n runs; ratio = this row / the row named after 'vs'.",
        "",
    ]
    header = f"{'measurement':<45} {'median/p50':>10} {'p99':>9} {'n':>2}  {'ratio':<21} {'target':<8} result"

    def line(row: Row) -> str:
        ratio = f"{row.ratio_text} vs {LABELS[row.ref][1]}" if row.ref else row.ratio_text
        return (
            f"{row.label:<45} {fmt_time(row.median_s):>10} {fmt_time(row.p99_s):>9} {row.n:>2}  "
            f"{ratio:<21} {row.target:<8} {row.verdict}"
        ).rstrip()

    out += ["== start-up (no catalog) ==", header, *(line(r) for r in res.rows if r.configs is None)]
    for size in res.sizes:
        rows = [r for r in res.rows if r.configs == size["configs"]]
        out += [
            "",
            f"== {size['configs']:,} serve configs = {size['files']:,} recipe files: "
            f"{size['models']:,} models, {size['benchmark_rows']:,} benchmark rows, "
            f"{size['bytes'] / 1e6:.1f} MB of YAML ==",
            header,
            *(line(r) for r in rows),
            *(f"  ({r.key}: {r.note})" for r in rows if r.note),
        ]
    for section in res.sections:
        out += render_section(section)
    out += [
        "",
        "== targets ==",
        f"{'target':<55} {'measured':>9}  {'reference':<22} {'ratio':<8} {'limit':<8} result",
    ]
    out += [
        f"{t.name:<55} {t.measured:>9}  {t.reference:<22} {t.ratio:<8} {t.limit:<8} {t.verdict}"
        for t in res.targets
    ]
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="catalog sizes in SERVE CONFIGS, comma-separated, each a multiple of 8 (8 configs per "
        "recipe file); default %(default)s = 125, 1,250, 10,000 and 12,500 files",
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement, at most (default 5)")
    parser.add_argument(
        "--budget",
        type=float,
        default=15.0,
        help="stop repeating a measurement once its runs took this many seconds (default 15)",
    )
    parser.add_argument("--requests", type=int, default=1000, help="in-process select requests per run")
    parser.add_argument(
        "--seed-max-files",
        type=int,
        default=TARGET_FILES,
        help="run the slow seed approach only at sizes of at most this many files (default 10000)",
    )
    parser.add_argument(
        "--no-cli-ingest", action="store_true", help="skip `aim-catalog ingest` in a subprocess"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="use this database instead of new SQLite files; its catalog tables are DROPPED and "
        "re-created for every ingest, so give a throw-away database",
    )
    parser.add_argument("--workdir", type=Path, help="generate recipes and databases here and keep them")
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="write cProfile / -X importtime evidence here"
    )
    parser.add_argument(
        "--import-rows",
        type=int,
        default=100_000,
        help="bench import of this many InferenceX rows (bench_import.py); 0 skips it (default 100000)",
    )
    parser.add_argument(
        "--ps-deployments",
        type=int,
        default=500,
        help="ps over this many deployments on the engine of DOCKER_HOST (bench_ps.py: it starts and "
        "removes them); 0 skips it (default 500)",
    )
    parser.add_argument(
        "--pg-url",
        metavar="URL",
        help="PostgreSQL at fleet scale (pg_fleet.py): a database of its own, whose catalog tables it "
        "builds (1M serve configs, ~2 GB) or reuses; without it the rows are N/A",
    )
    parser.add_argument("--fail-on-miss", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
        for size in args.sizes:
            catalog_gen.files_for(size)
    except ValueError as exc:
        parser.error(f"--sizes: {exc}")
    if not args.sizes or args.repeat < 1:
        parser.error("give at least one size and --repeat >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(CLI).exists():
        print(f"error: no console script {CLI}: install aim-catalog into this interpreter", file=sys.stderr)
        return 2
    opts = Options(
        sizes=args.sizes,
        repeat=args.repeat,
        budget=args.budget,
        requests=args.requests,
        seed_max_files=args.seed_max_files,
        cli_ingest=not args.no_cli_ingest,
        profile=args.profile.resolve() if args.profile else None,
        import_rows=args.import_rows,
        ps_deployments=args.ps_deployments,
        pg_url=args.pg_url,
    )
    with work_directory(args.workdir, "aim-catalog-bench-") as workdir:
        harness = Harness(opts, workdir, args.db)
        started = time.perf_counter()
        try:
            harness.startup()
            for size in opts.sizes:
                harness.size(size)
            harness.services()
        except (BenchError, CatalogError, pg_fleet.FleetError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        harness.log(f"done in {time.perf_counter() - started:.0f} s")
    res = harness.res
    if git_head() != res.meta["git_head"]:  # subprocesses ran newer code than this process
        res.meta["git_head"] += f" (WARNING: HEAD moved to {git_head()} during the run)"
    evaluate(res, opts.sizes)
    section_targets(res)
    print(render(res))
    if args.json:
        payload = {
            "meta": res.meta,
            "sizes": res.sizes,
            "rows": [{**asdict(r), "label": r.label} for r in res.rows],
            "targets": [asdict(t) for t in res.targets],
            "sections": [asdict(s) for s in res.sections],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    missed = any(t.verdict == "MISS" for t in res.targets)
    return 1 if missed and args.fail_on_miss else 0


if __name__ == "__main__":
    sys.exit(main())
