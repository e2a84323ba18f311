"""aim-catalog performance harness: ingest, select and CLI start-up against their floors.

SIZES are counted in SERVE CONFIGS. Every synthetic recipe file holds 8 serve configs
(vllm and sglang x 1, 2, 4, 8 GPUs) with up to 3 benchmark rows each, so a size of N
configs is N / 8 recipe files: 1,000 configs = 125 files, 80,000 = 10,000 files,
100,000 = 12,500 files. The targets about "10k recipe files" use the size with exactly
10,000 files (80,000 configs); the "100k serve configs" target uses 100,000.

Every figure is the median over up to --repeat runs; a measurement stops repeating once its
runs have taken --budget seconds (the "n" column says how many runs it got). Latencies of
in-process select are the median, over runs, of each run's p50 and p99 over --requests
varied requests. Cold figures time a whole process (spawn to exit) and alternate with
their floor run for run, so drift hits both alike.

Example: python benchmarks/run.py --sizes 1000,10000 --repeat 3 --json /tmp/bench.json
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import catalog_gen
import seed_select
import sqlalchemy
import yaml
from sqlalchemy import func, select

import aim_catalog
from aim_catalog import db
from aim_catalog.errors import NoSuitableRecipe
from aim_catalog.ingest import IngestReport, ingest
from aim_catalog.models import Benchmark, Recipe
from aim_catalog.recipe import load_recipes
from aim_catalog.selection import Request, select_best

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
CLI = str(Path(sys.executable).parent / "aim-catalog")
DEFAULT_SIZES = (1_000, 10_000, 80_000, 100_000)
TARGET_FILES = 10_000  # "10k recipe files"
TARGET_CONFIGS = 100_000  # "100k serve configs"

# The cold floor of a select: the interpreter, SQLAlchemy Core and one indexed query.
COLD_FLOOR_CODE = """\
import sys
from sqlalchemy import column, create_engine, select, table
recipes = table("recipes", column("id"), column("huggingface_id"))
with create_engine(sys.argv[1]).connect() as conn:
    print(conn.execute(select(recipes.c.id).where(recipes.c.huggingface_id == sys.argv[2]).limit(1)).scalar())
"""


class BenchError(RuntimeError):
    """The harness could not measure something (a command failed, a recipe was invalid)."""


# --------------------------------------------------------------------------- results


@dataclass
class Row:
    key: str
    label: str
    configs: int | None  # the size; None: does not depend on the catalog
    median_s: float
    n: int
    p99_s: float | None = None
    ref: str | None = None  # key of the row this one is compared with (same size)
    ratio: float | None = None
    ratio_text: str = ""
    target: str = ""
    verdict: str = ""  # PASS | MISS | "" (no target here)
    note: str = ""


@dataclass
class Target:
    name: str
    measured: str
    reference: str
    ratio: str
    limit: str
    verdict: str  # PASS | MISS | N/A


@dataclass
class Results:
    meta: dict[str, Any]
    sizes: list[dict[str, Any]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def add(self, row: Row) -> Row:
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


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def compare(row: Row, ref: Row, limit: float | None = None, *, at_least: bool = False) -> None:
    """Set ``row``'s ratio to ``ref`` (row / ref) and, given a limit, its verdict."""
    row.ref = ref.key
    row.ratio = row.median_s / ref.median_s
    row.ratio_text = f"{row.ratio:.1f}x" if row.ratio >= 10 else f"{row.ratio:.2f}x"
    row.target = row.verdict = ""
    if limit is not None:
        row.target = f">= {limit:g}x" if at_least else f"<= {limit:g}x"
        row.verdict = "PASS" if (row.ratio >= limit if at_least else row.ratio <= limit) else "MISS"


# --------------------------------------------------------------------------- running things


def rounds(
    steps: dict[str, Callable[[], float]], repeat: int, budget: float
) -> tuple[dict[str, list[float]], int]:
    """Run every step once per round (so alternating ones share drift) until ``repeat`` rounds
    or ``budget`` seconds; each step returns its own timing (its setup left out)."""
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
    env["XDG_DATA_HOME"] = str(workdir / "xdg")  # never touch the user's default catalog
    env.setdefault("COLUMNS", "100")
    return env


def run_process(argv: list[str], env: dict[str, str], expect: int = 0) -> tuple[float, str]:
    """Wall time of one process from spawn to exit, and its stdout."""
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != expect:
        raise BenchError(
            f"{' '.join(argv[:6])}... exited {proc.returncode} (expected {expect}):\n{proc.stderr[-2000:]}"
        )
    return elapsed, proc.stdout


def timed_process(argv: list[str], env: dict[str, str], check: Callable[[str], None] | None = None) -> float:
    elapsed, out = run_process(argv, env)
    if check is not None:
        check(out)
    return elapsed


# --------------------------------------------------------------------------- catalogs


class Databases:
    """Empty, migrated catalogs: a new SQLite file each time, or the one --db URL wiped."""

    def __init__(self, workdir: Path, url: str | None) -> None:
        self.dir = workdir / "db"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.dialect = "sqlite" if url is None else db.make_engine(url).dialect.name

    def fresh(self, name: str) -> str:
        if self.url is None:
            path = self.dir / f"{name}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{path}"
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
            path = url.removeprefix("sqlite:///")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


def redacted(url: str) -> str:
    return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)


# --------------------------------------------------------------------------- the measurements


def parse_floor(directory: Path, keep: dict[str, dict[str, Any]]) -> float:
    """PyYAML's C loader over the same files, nothing else (the ingest floor)."""
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
    """What ``aim-catalog ingest DIR`` does, on a warm engine: load_recipes, then one session."""
    engine = db.make_engine(url)
    try:
        with engine.connect():
            pass  # a pooled, configured connection before the clock starts
        factory = db.session_factory(engine)
        gc.collect()
        started = time.perf_counter()
        recipes, problems, _ = load_recipes([directory])
        parsed = time.perf_counter()
        if problems:
            raise BenchError("generated recipes are invalid:\n" + "\n".join(map(str, problems[:5])))
        with factory() as session:
            report = ingest(session, recipes)
            session.commit()
        done = time.perf_counter()
    finally:
        engine.dispose()
    return IngestRun(done - started, parsed - started, done - parsed, report)


def to_request(spec: catalog_gen.RequestSpec) -> Request:
    return Request(
        model=spec.model,
        gpus=spec.gpus,
        precision=spec.precision,
        backend=spec.backend,
        hardware=spec.hardware,
    )


@dataclass
class SelectRun:
    select: list[float]
    shared: list[float]
    floor: list[float]
    misses: int


def select_in_process(url: str, requests: list[Request], warmup: int = 50) -> Iterator[SelectRun]:
    """Runs of select_best (a session per request, and one shared session) and of the bare
    Core query, all on one warm engine; yields one SelectRun per round."""
    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    recipes = Recipe.__table__

    def bare(conn: sqlalchemy.Connection, model: str) -> None:
        conn.execute(select(recipes.c.id).where(recipes.c.huggingface_id == model).limit(1)).first()

    def one(session: Any, request: Request) -> bool:
        try:
            select_best(session, request)
            return True
        except NoSuitableRecipe:
            return False

    try:
        for request in requests[:warmup]:
            with factory() as session:
                one(session, request)
        with engine.connect() as conn:
            for request in requests[:warmup]:
                bare(conn, request.model)
        while True:
            run = SelectRun([], [], [], 0)
            gc.collect()
            for request in requests:
                started = time.perf_counter()
                with factory() as session:
                    found = one(session, request)
                run.select.append(time.perf_counter() - started)
                run.misses += not found
            with factory() as session:
                for request in requests:
                    started = time.perf_counter()
                    one(session, request)
                    run.shared.append(time.perf_counter() - started)
            with engine.connect() as conn:
                for request in requests:
                    started = time.perf_counter()
                    bare(conn, request.model)
                    run.floor.append(time.perf_counter() - started)
            yield run
    finally:
        engine.dispose()


def seed_in_memory(docs: dict[str, dict[str, Any]], specs: list[catalog_gen.RequestSpec]) -> list[float]:
    times = []
    for spec in specs:
        backend = "vllm" if spec.backend == "any" else spec.backend
        started = time.perf_counter()
        seed_select.select_recipe(docs, spec.model, spec.gpus, spec.precision, backend)
        times.append(time.perf_counter() - started)
    return times


def cold_specs(url: str, files: int, count: int) -> list[catalog_gen.RequestSpec]:
    """Requests that have an answer (checked in-process), for the cold select runs."""
    specs = catalog_gen.request_specs(files, count * 4, seed=7, backends=("vllm",))
    engine = db.make_engine(url)
    found = []
    try:
        with db.session_factory(engine)() as session:
            for spec in specs:
                spec = catalog_gen.RequestSpec(spec.model, spec.gpus, spec.precision, "vllm", None)
                try:
                    select_best(session, to_request(spec))
                except NoSuitableRecipe:
                    continue
                found.append(spec)
                if len(found) == count:
                    break
    finally:
        engine.dispose()
    if not found:
        raise BenchError("no request with an answer for the cold select runs")
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


class Harness:
    def __init__(self, opts: Options, workdir: Path, url: str | None) -> None:
        self.opts = opts
        self.workdir = workdir
        self.dbs = Databases(workdir, url)
        self.env = child_env(workdir)
        self.results = Results(meta=environment(self.dbs, url))

    def log(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    # ---- size-independent

    def startup(self) -> None:
        self.log("CLI start-up: aim-catalog --help vs python -c 'import typer'")
        floor_argv = [PYTHON, "-c", "import typer"]
        help_argv = [CLI, "--help"]

        def check_help(out: str) -> None:
            if "select" not in out:
                raise BenchError("aim-catalog --help printed no command list")

        for argv in (floor_argv, help_argv):
            run_process(argv, self.env)  # warm: bytecode written, files in the page cache
        samples, n = rounds(
            {
                "typer": lambda: timed_process(floor_argv, self.env),
                "help": lambda: timed_process(help_argv, self.env, check_help),
            },
            max(self.opts.repeat, 5),
            self.opts.budget,
        )
        res = self.results
        floor = res.add(
            Row(
                "typer_import",
                'floor: python -c "import typer"',
                None,
                statistics.median(samples["typer"]),
                n,
            )
        )
        row = res.add(
            Row("cli_help", "aim-catalog --help (cold)", None, statistics.median(samples["help"]), n)
        )
        compare(row, floor, limit=1.5)

    # ---- one size

    def size(self, configs: int) -> None:
        opts, res = self.opts, self.results
        info = catalog_gen.write_catalog(self.workdir / "recipes" / f"configs-{configs}", configs)
        directory = info.directory
        self.log(f"size {configs:,} configs = {info.files:,} files in {directory}")

        # Ingest of new files (a fresh catalog each round) next to the bare C-loader parse.
        docs: dict[str, dict[str, Any]] = {}
        urls: list[str] = []
        runs: list[IngestRun] = []

        def ingest_new() -> float:
            while urls:
                self.dbs.drop(urls.pop())
            urls.append(self.dbs.fresh(f"ingest-{configs}"))
            run = ingest_in_process(directory, urls[-1])
            if len(run.report.added) != info.files:
                raise BenchError(f"ingest added {len(run.report.added)} of {info.files} recipes")
            runs.append(run)
            return run.total

        self.log("  ingest of new files (in-process) and the CSafeLoader parse floor")
        samples, n = rounds(
            {"parse": lambda: parse_floor(directory, docs), "ingest": ingest_new}, opts.repeat, opts.budget
        )
        url = urls[-1]
        floor = res.add(
            Row(
                "parse_c",
                "floor: yaml.load(CSafeLoader) over the files",
                configs,
                statistics.median(samples["parse"]),
                n,
            )
        )
        row = res.add(
            Row(
                "ingest_new",
                "ingest new files, in-process",
                configs,
                statistics.median(samples["ingest"]),
                n,
                note="load_recipes + ingest + commit, fresh catalog",
            )
        )
        compare(row, floor, limit=2.0 if info.files == TARGET_FILES else None)
        self._parts("ingest_new", configs, runs, n)

        # Re-ingest of the same, unchanged files.
        self.log("  re-ingest of unchanged files (in-process)")
        reruns: list[IngestRun] = []

        def reingest() -> float:
            run = ingest_in_process(directory, url)
            if len(run.report.unchanged) != info.files:
                raise BenchError(f"re-ingest: {run.report.summary()}, expected all unchanged")
            reruns.append(run)
            return run.total

        samples, n = rounds({"reingest": reingest}, opts.repeat, opts.budget)
        row = res.add(
            Row(
                "reingest",
                "re-ingest unchanged files, in-process",
                configs,
                statistics.median(samples["reingest"]),
                n,
            )
        )
        if info.files == TARGET_FILES:
            row.target, row.ratio = "< 1 s", row.median_s
            row.ratio_text = f"{row.median_s:.2f} s"
            row.verdict = "PASS" if row.median_s < 1.0 else "MISS"
        self._parts("reingest", configs, reruns, n)

        engine = db.make_engine(url)
        with engine.connect() as conn:
            bench_rows = conn.execute(select(func.count()).select_from(Benchmark.__table__)).scalar_one()
        engine.dispose()
        res.sizes.append(
            {
                "configs": configs,
                "files": info.files,
                "models": info.models,
                "benchmark_rows": bench_rows,
                "bytes": info.bytes,
            }
        )

        self._select_in_process(configs, info, url, docs)
        self._cold_select(configs, info, url)
        if opts.cli_ingest:
            self._cli_ingest(configs, info)
        if opts.profile is not None and configs == self._profile_size():
            self._profile(configs, info, url)
        self.dbs.drop(url)

    def _parts(self, key: str, configs: int, runs: list[IngestRun], n: int) -> None:
        self.results.add(
            Row(
                f"{key}_parse",
                "  of which load_recipes (read, parse, validate)",
                configs,
                statistics.median(r.parse for r in runs),
                n,
            )
        )
        self.results.add(
            Row(
                f"{key}_write",
                "  of which ingest() + commit",
                configs,
                statistics.median(r.write for r in runs),
                n,
            )
        )

    def _select_in_process(
        self, configs: int, info: catalog_gen.CatalogInfo, url: str, docs: dict[str, Any]
    ) -> None:
        opts, res = self.opts, self.results
        self.log(f"  select in-process: {opts.requests} varied requests per run")
        specs = catalog_gen.request_specs(info.files, opts.requests, seed=configs)
        requests = [to_request(s) for s in specs]
        runs: list[SelectRun] = []
        started = time.perf_counter()
        for run in select_in_process(url, requests):
            runs.append(run)
            if len(runs) >= opts.repeat or time.perf_counter() - started >= opts.budget:
                break
        n = len(runs)

        def stat(name: str, q: float) -> float:
            return statistics.median(percentile(getattr(r, name), q) for r in runs)

        floor = res.add(
            Row(
                "core_floor",
                "floor: bare Core query, warm connection (p50)",
                configs,
                stat("floor", 50),
                n,
                p99_s=stat("floor", 99),
            )
        )
        row = res.add(
            Row(
                "select",
                "select_best, session per request (p50)",
                configs,
                stat("select", 50),
                n,
                p99_s=stat("select", 99),
                note=f"{runs[-1].misses} of {len(requests)} requests have no match",
            )
        )
        compare(row, floor, limit=3.0)
        shared = res.add(
            Row(
                "select_shared",
                "select_best, one shared session (p50)",
                configs,
                stat("shared", 50),
                n,
                p99_s=stat("shared", 99),
            )
        )
        compare(shared, floor)
        seed_specs = specs[: min(200, len(specs))]
        seed_runs = [seed_in_memory(docs, seed_specs) for _ in range(n)]
        seed = res.add(
            Row(
                "seed_match",
                "seed find_matching_recipes, loaded dicts (p50)",
                configs,
                statistics.median(percentile(t, 50) for t in seed_runs),
                n,
                p99_s=statistics.median(percentile(t, 99) for t in seed_runs),
            )
        )
        compare(seed, row)

    def _cold_select(self, configs: int, info: catalog_gen.CatalogInfo, url: str) -> None:
        opts, res = self.opts, self.results
        self.log("  cold select: aim-catalog select --json vs python + SQLAlchemy + one query")
        specs = cold_specs(url, info.files, 8)
        floor_url = db.normalize_url(url)
        turn = {"cli": 0, "floor": 0, "seed": 0, "seed_c": 0}

        def argv(kind: str) -> list[str]:
            spec = specs[turn[kind] % len(specs)]
            turn[kind] += 1
            if kind == "cli":
                return [
                    CLI,
                    "--db",
                    url,
                    "select",
                    spec.model,
                    str(spec.gpus),
                    "--precision",
                    spec.precision,
                    "--hardware",
                    "any",
                    "--json",
                ]
            if kind == "floor":
                return [PYTHON, "-c", COLD_FLOOR_CODE, floor_url, spec.model]
            extra = ["--c-loader"] if kind == "seed_c" else []
            return [
                PYTHON,
                str(HERE / "seed_select.py"),
                str(info.directory),
                spec.model,
                str(spec.gpus),
                "--precision",
                spec.precision,
                "--backend",
                "vllm",
                *extra,
            ]

        def check_select(out: str) -> None:
            answer = json.loads(out)
            if not answer.get("recipe_id") or answer.get("backend") != "vllm":
                raise BenchError(f"unexpected select --json output: {out[:300]}")

        run_process(argv("cli"), self.env)
        run_process(argv("floor"), self.env)
        samples, n = rounds(
            {
                "floor": lambda: timed_process(argv("floor"), self.env),
                "cli": lambda: timed_process(argv("cli"), self.env, check_select),
            },
            max(opts.repeat, 5),
            opts.budget,
        )
        floor = res.add(
            Row(
                "cold_floor",
                "floor: python + SQLAlchemy + one query (cold)",
                configs,
                statistics.median(samples["floor"]),
                n,
            )
        )
        cli = res.add(
            Row(
                "cli_select",
                "aim-catalog select --json (cold)",
                configs,
                statistics.median(samples["cli"]),
                n,
            )
        )
        compare(cli, floor, limit=1.5 if configs == TARGET_CONFIGS else None)

        if info.files > opts.seed_max_files:
            return
        for kind, label in (
            ("seed", "seed approach, yaml.safe_load (cold)"),
            ("seed_c", "seed approach, CSafeLoader variant (cold)"),
        ):
            self.log(f"  {label}")
            samples, n = rounds(
                {kind: lambda kind=kind: timed_process(argv(kind), self.env, check_select)},
                opts.repeat,
                opts.budget,
            )
            row = res.add(Row(f"{kind}_cold", label, configs, statistics.median(samples[kind]), n))
            # the seed's time over the CLI's: how many times faster the catalog answers
            target = 30.0 if kind == "seed" and info.files == TARGET_FILES else None
            compare(row, cli, target, at_least=True)

    def _cli_ingest(self, configs: int, info: catalog_gen.CatalogInfo) -> None:
        opts, res = self.opts, self.results
        self.log("  CLI ingest (aim-catalog --db URL ingest DIR): new files, then unchanged")
        urls: list[str] = []

        def expect(word: str) -> Callable[[str], None]:
            def check(out: str) -> None:
                if f"{word} {info.files}," not in out:
                    raise BenchError(f"aim-catalog ingest: {out.strip()!r}, expected {word} {info.files}")

            return check

        def new() -> float:
            while urls:
                self.dbs.drop(urls.pop())
            urls.append(self.dbs.fresh(f"cli-ingest-{configs}"))  # migrated outside the clock
            return timed_process(
                [CLI, "--db", urls[-1], "ingest", str(info.directory)], self.env, expect("added")
            )

        def again() -> float:
            return timed_process(
                [CLI, "--db", urls[-1], "ingest", str(info.directory)], self.env, expect("unchanged")
            )

        samples, n = rounds({"new": new, "again": again}, opts.repeat, opts.budget)
        for key, label, sample in (
            ("cli_ingest_new", "aim-catalog ingest DIR, new files (cold)", samples["new"]),
            ("cli_reingest", "aim-catalog ingest DIR, unchanged (cold)", samples["again"]),
        ):
            row = res.add(Row(key, label, configs, statistics.median(sample), n))
            ref = res.get("ingest_new" if key == "cli_ingest_new" else "reingest", configs)
            if ref is not None:
                compare(row, ref)
        self.dbs.drop(urls[-1])

    # ---- profiles (--profile DIR)

    def _profile_size(self) -> int:
        exact = [s for s in self.opts.sizes if catalog_gen.files_for(s) == TARGET_FILES]
        return exact[0] if exact else max(self.opts.sizes)

    def _profile(self, configs: int, info: catalog_gen.CatalogInfo, url: str) -> None:
        out = self.opts.profile
        assert out is not None
        out.mkdir(parents=True, exist_ok=True)
        self.log(f"  profiling at {configs:,} configs into {out}")
        fresh = self.dbs.fresh(f"profile-{configs}")
        profile_call(out / f"ingest-new-{configs}", lambda: ingest_in_process(info.directory, fresh))
        profile_call(out / f"reingest-{configs}", lambda: ingest_in_process(info.directory, fresh))
        self.dbs.drop(fresh)
        requests = [
            to_request(s) for s in catalog_gen.request_specs(info.files, self.opts.requests, seed=configs)
        ]
        runs = select_in_process(url, requests)
        next(runs)  # warm
        profile_call(out / f"select-{configs}", lambda: next(runs))
        runs.close()
        spec = cold_specs(url, info.files, 1)[0]
        for name, argv in (
            ("importtime-help", [PYTHON, "-X", "importtime", CLI, "--help"]),
            ("importtime-typer", [PYTHON, "-X", "importtime", "-c", "import typer"]),
            (
                "importtime-select",
                [
                    PYTHON,
                    "-X",
                    "importtime",
                    CLI,
                    "--db",
                    url,
                    "select",
                    spec.model,
                    str(spec.gpus),
                    "--precision",
                    spec.precision,
                    "--hardware",
                    "any",
                    "--json",
                ],
            ),
            (
                "importtime-floor",
                [PYTHON, "-X", "importtime", "-c", COLD_FLOOR_CODE, db.normalize_url(url), spec.model],
            ),
        ):
            proc = subprocess.run(argv, capture_output=True, text=True, env=self.env, check=False)
            write_importtime(out / f"{name}.txt", proc.stderr)
        cold_profile = out / f"select-cold-{configs}.pstats"
        subprocess.run(
            [
                PYTHON,
                "-m",
                "cProfile",
                "-o",
                str(cold_profile),
                CLI,
                "--db",
                url,
                "select",
                spec.model,
                str(spec.gpus),
                "--precision",
                spec.precision,
                "--hardware",
                "any",
                "--json",
            ],
            capture_output=True,
            env=self.env,
            check=False,
        )
        if cold_profile.exists():
            write_stats(cold_profile, out / f"select-cold-{configs}.txt")


def profile_call(stem: Path, call: Callable[[], Any]) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(call)
    profiler.dump_stats(f"{stem}.pstats")
    write_stats(Path(f"{stem}.pstats"), Path(f"{stem}.txt"))


def write_stats(pstats_file: Path, text_file: Path) -> None:
    buffer = io.StringIO()
    stats = pstats.Stats(str(pstats_file), stream=buffer)
    stats.strip_dirs().sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(30)
    text_file.write_text(buffer.getvalue())


def write_importtime(path: Path, stderr: str) -> None:
    """``-X importtime`` output, plus the slowest imports (cumulative) on top."""
    rows = []
    for line in stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[0].strip().isdigit():
            rows.append((int(parts[1]), int(parts[0]), parts[2].rstrip()))
    top = sorted(rows, reverse=True)[:40]
    lines = [f"{'cumulative us':>14} {'self us':>9}  module"] + [f"{c:>14} {s:>9}  {n}" for c, s, n in top]
    path.write_text("\n".join(lines) + "\n\n# full -X importtime output\n" + stderr)


# --------------------------------------------------------------------------- targets and report


def environment(dbs: Databases, url: str | None) -> dict[str, Any]:
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "database": dbs.dialect,
        "database_url": redacted(url) if url else "sqlite:/// (a new file per catalog, under the work dir)",
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "pyyaml": yaml.__version__,
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
        "aim_catalog": aim_catalog.__version__,
        "configs_per_file": catalog_gen.CONFIGS_PER_FILE,
        "benchmark_rows_per_config": catalog_gen.BENCH_ROWS,
    }


def evaluate(res: Results, sizes: list[int]) -> None:
    def missing(name: str, why: str) -> None:
        res.targets.append(Target(name, "", "", "", "", f"N/A ({why})"))

    def from_row(name: str, row: Row | None, ref_label: str, why: str) -> None:
        if row is None or not row.verdict:
            missing(name, why)
            return
        ref = res.get(row.ref, row.configs) if row.ref else None
        reference = f"{ref_label} {fmt_time(ref.median_s)}" if ref else ref_label
        res.targets.append(
            Target(name, fmt_time(row.median_s), reference, row.ratio_text, row.target, row.verdict)
        )

    ten_k = next((s for s in sizes if catalog_gen.files_for(s) == TARGET_FILES), None)
    need_10k = "needs a size of 80000 configs = 10,000 files"
    from_row("aim-catalog --help vs python -c 'import typer'", res.get("cli_help", None), "import typer", "")
    from_row(
        "cold select --json vs seed approach, 10k files",
        res.get("seed_cold", ten_k) if ten_k else None,
        "seed",
        need_10k + " and --seed-max-files >= 10000",
    )
    cold = res.get("cli_select", TARGET_CONFIGS)
    from_row(
        "cold select --json vs cold floor, 100k configs", cold, "floor", "needs a size of 100000 configs"
    )
    selects = [r for r in res.rows if r.key == "select"]
    if selects:
        worst = max(selects, key=lambda r: r.ratio or 0.0)
        floor = res.get("core_floor", worst.configs)
        res.targets.append(
            Target(
                f"in-process select p50 vs bare Core query (worst size: {worst.configs:,})",
                fmt_time(worst.median_s),
                f"Core {fmt_time(floor.median_s if floor else None)}",
                worst.ratio_text,
                "<= 3x",
                "PASS" if all(r.verdict == "PASS" for r in selects) else "MISS",
            )
        )
    if len(selects) >= 2:
        small, large = min(selects, key=lambda r: r.configs or 0), max(selects, key=lambda r: r.configs or 0)
        ratio = large.median_s / small.median_s
        res.targets.append(
            Target(
                f"in-process select p50 flat: {large.configs:,} vs {small.configs:,} configs",
                fmt_time(large.median_s),
                f"{small.configs:,} configs {fmt_time(small.median_s)}",
                f"{ratio:.2f}x",
                "<= 1.5x",
                "PASS" if ratio <= 1.5 else "MISS",
            )
        )
    else:
        missing("in-process select p50 flat across sizes", "needs two sizes")
    from_row(
        "ingest 10k new files vs CSafeLoader parse",
        res.get("ingest_new", ten_k) if ten_k else None,
        "parse",
        need_10k,
    )
    row = res.get("reingest", ten_k) if ten_k else None
    if row is None:
        missing("re-ingest 10k unchanged files", need_10k)
    else:
        res.targets.append(
            Target(
                "re-ingest 10k unchanged files",
                fmt_time(row.median_s),
                "1 s",
                row.ratio_text,
                "< 1 s",
                row.verdict,
            )
        )


def render(res: Results) -> str:
    meta = res.meta
    out = [
        "aim-catalog benchmarks",
        f"  {meta['date']}  Python {meta['python']}  {meta['cpus']} CPUs  {meta['platform']}",
        f"  database: {meta['database_url']}  (SQLite {meta['sqlite']}, SQLAlchemy {meta['sqlalchemy']}, "
        f"PyYAML {meta['pyyaml']}, libyaml {'yes' if meta['libyaml'] else 'NO'})",
        f"  SIZE = SERVE CONFIGS: one recipe file = {meta['configs_per_file']} serve configs "
        f"(vllm+sglang x 1/2/4/8 GPUs), up to {meta['benchmark_rows_per_config']} benchmark rows each.",
        "  Medians over n runs; 'ratio' compares a row with the reference named after it.",
        "",
    ]
    header = (
        f"{'measurement':<50} {'median/p50':>10} {'p99':>9} {'n':>3}  {'ratio':<24} {'target':<18} result"
    )
    labels = {r.key: r.label.strip() for r in res.rows}

    def line(row: Row) -> str:
        ratio = f"{row.ratio_text} {'vs ' + short(labels.get(row.ref, '')) if row.ref else ''}".strip()
        return (
            f"{row.label:<50} {fmt_time(row.median_s):>10} {fmt_time(row.p99_s):>9} {row.n:>3}  "
            f"{ratio:<24} {row.target:<18} {row.verdict}"
        ).rstrip()

    out += ["== start-up (no catalog) ==", header]
    out += [line(r) for r in res.rows if r.configs is None]
    for size in res.sizes:
        out += [
            "",
            f"== {size['configs']:,} serve configs = {size['files']:,} recipe files "
            f"({size['models']:,} models, {size['benchmark_rows']:,} benchmark rows, "
            f"{size['bytes'] / 1e6:.1f} MB of YAML) ==",
            header,
        ]
        out += [line(r) for r in res.rows if r.configs == size["configs"]]
        notes = [f"  note: {r.key}: {r.note}" for r in res.rows if r.configs == size["configs"] and r.note]
        out += notes
    out += [
        "",
        "== targets ==",
        f"{'target':<62} {'measured':>10}  {'reference':<24} {'ratio':<18} {'limit':<18} result",
    ]
    for t in res.targets:
        out.append(
            f"{t.name:<62} {t.measured:>10}  {t.reference:<24} {t.ratio:<18} {t.limit:<18} {t.verdict}"
        )
    return "\n".join(out)


def short(label: str) -> str:
    return label.split(":")[0] if label.startswith("floor:") else label.split(",")[0].split(" (")[0]


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
        help="catalog sizes in SERVE CONFIGS, comma-separated, multiples of 8 (8 configs per recipe file); "
        "default %(default)s = 125, 1,250, 10,000 and 12,500 files",
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs per measurement, at most (default %(default)s)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=15.0,
        help="stop repeating a measurement once its runs took this many seconds (default %(default)s)",
    )
    parser.add_argument("--requests", type=int, default=1000, help="in-process select requests per run")
    parser.add_argument(
        "--seed-max-files",
        type=int,
        default=TARGET_FILES,
        help="run the (slow) seed approach only at sizes up to this many files (default %(default)s)",
    )
    parser.add_argument(
        "--no-cli-ingest", action="store_true", help="skip `aim-catalog ingest` as a subprocess"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="catalog database to use instead of new SQLite files; its catalog tables are DROPPED and "
        "re-created for every ingest (use a throw-away database)",
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep generated recipes here and reuse them (default: a temp dir)"
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="write cProfile and -X importtime evidence here"
    )
    parser.add_argument("--fail-on-miss", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
        for size in args.sizes:
            catalog_gen.files_for(size)
    except ValueError as exc:
        parser.error(f"--sizes: {exc}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


@contextmanager
def work_directory(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path.resolve()
        return
    temp = Path(tempfile.mkdtemp(prefix="aim-catalog-bench-"))
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(CLI).exists():
        print(
            f"error: no console script at {CLI}; install the package in this interpreter's environment",
            file=sys.stderr,
        )
        return 2
    opts = Options(
        sizes=args.sizes,
        repeat=args.repeat,
        budget=args.budget,
        requests=args.requests,
        seed_max_files=args.seed_max_files,
        cli_ingest=not args.no_cli_ingest,
        profile=args.profile.resolve() if args.profile else None,
    )
    with work_directory(args.workdir) as workdir:
        harness = Harness(opts, workdir, args.db)
        started = time.perf_counter()
        try:
            harness.startup()
            for size in opts.sizes:
                harness.size(size)
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        harness.log(f"done in {time.perf_counter() - started:.0f} s")
    res = harness.results
    evaluate(res, opts.sizes)
    print(render(res))
    if args.json:
        payload = {
            "meta": res.meta,
            "sizes": res.sizes,
            "rows": [asdict(r) for r in res.rows],
            "targets": [asdict(t) for t in res.targets],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    missed = any(t.verdict == "MISS" for t in res.targets)
    return 1 if missed and args.fail_on_miss else 0


if __name__ == "__main__":
    sys.exit(main())
