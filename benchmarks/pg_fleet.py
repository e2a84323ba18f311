"""PostgreSQL at fleet scale: 1M serve configs, ~5M benchmark rows, concurrent selects with SLOs.

The catalog is built honestly and fast: ``catalog_gen`` writes a small catalog (``--base``
configs, each measured config a concurrency sweep of ``--sweep`` rows at one scenario), the
project's own ingest (``ingest_files``) writes it into a freshly migrated PostgreSQL
catalog, and every table of the SQLAlchemy metadata is then replicated inside the database
with ``INSERT ... SELECT`` until the catalog holds ``--configs`` serve configs: integer keys
offset per copy (foreign keys by their table's offset), model and recipe names suffixed
``-copyK`` in text and JSON columns alike, ``source_path`` moved to ``.../copyK/FILE`` and
``content_sha256`` the SHA-256 of the file that path would hold (the base file with the
names renamed), so a copy is what ``ingest`` would write for that file. Then VACUUM ANALYZE.
After a build, sampled copies are checked against the real ingest of their files (into a
scratch SQLite catalog, column by column), and on every run sampled selects of ``model-X``
and ``model-X-copyK`` must give the same config and score. A build is recorded in the table
``fleet_build``; a later run with the same parameters and the same counts reuses it.

Then ``clients`` processes (spawned, each with its own engine) run ``select_best`` with SLO
requests (varied models, GPU counts, precisions, backends, hardware; some with input/output
lengths, some with a concurrency) for ``seconds`` after a warm-up: p50 and p99 per select,
count and throughput; the same with one client for reference. Every request shape used is
EXPLAINed (the statement of ``matching.selection_query``, its custom plan with the values
and the generic plan a prepared statement may switch to): a Seq Scan on recipes,
serve_configs or benchmarks (any alias) is a MISS.

The database is the fleet's alone: its catalog tables are dropped and re-created when the
build does not match. Give it a database (or a schema: ``?options=-csearch_path%3Dfleet``)
that nothing else uses.

Example: python benchmarks/pg_fleet.py postgresql://u:p@localhost/aim_fleet --workdir /tmp/fleet
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import catalog_gen
import sqlalchemy
from benchutil import percentile, work_directory
from psycopg.sql import Literal
from sqlalchemy import JSON, Connection, Engine, Integer, String, Table, select, text

from aim_catalog.errors import NoSuitableRecipe
from aim_catalog.recipes.files import expand_paths, parse_bytes
from aim_catalog.recipes.ingest import ingest, ingest_files
from aim_catalog.selection.best import select_best
from aim_catalog.selection.matching import selection_query, shape_of
from aim_catalog.selection.request import Request
from aim_catalog.storage import db, tables

CONFIGS = 1_000_000
BASE_CONFIGS = 8_000  # the ingested catalog: 1,000 files, 50 models
SWEEP = 5  # benchmark rows per measured config: concurrency 1, 4, 16, 64, 256
CLIENTS = 8
SECONDS = 30.0
WARMUP = 0.0  # seconds each client selects at least before the clock starts
WARM_PER_SHAPE = 12  # and selects per request shape (prepared, planned generically)
P99_LIMIT = 0.050
MARKER = "fleet_build"
SCANNED = ("recipes", "serve_configs", "benchmarks")  # a Seq Scan on these is a MISS
COPY_CHUNK = 8  # copies per INSERT ... SELECT (one transaction each)

# Text columns holding a model or recipe name: suffixed per copy (so are single-column
# unique text columns, e.g. deployments.container_id). A JSON column's string values equal
# to its row's names (or, for a table without names, its parent's by a foreign key, e.g. a
# serve config's args --model) are suffixed too.
NAME_COLUMNS = frozenset({"recipe_id", "model_id", "huggingface_id", "model", "name"})
# For a JSON column with no names to go by: catalog_gen's model ids (ORG/Synth-N-PB-Instruct)
# and recipe ids (synth-N-HW-PREC) as string values (a POSIX ERE).
NAME_RE = r"[A-Za-z-]+/Synth-[0-9]{5}-[0-9]+B-Instruct|synth-[0-9]{5}-[a-z0-9]+-[a-z0-9]+"
PATH_COLUMNS = frozenset({"source_path"})
HASH_COLUMNS = {("recipes", "content_sha256"): "source_path"}  # the hash of the file at that path


def suffix(copy: int) -> str:
    return f"-copy{copy}" if copy else ""


def copy_path(path: str, copy: int) -> str:
    """Where copy ``copy`` of a recipe file would live: ``DIR/copyK/FILE``."""
    head, _, tail = path.rpartition("/")
    return f"{head}/copy{copy}/{tail}" if copy else path


def copy_text(data: bytes, copy: int, names: set[str]) -> bytes:
    """Copy ``copy`` of a recipe file: its model and recipe names suffixed ``-copyK``
    wherever they stand."""
    for name in sorted(names, key=len, reverse=True) if copy else ():
        data = data.replace(name.encode(), (name + suffix(copy)).encode())
    return data


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class FleetError(RuntimeError):
    """The fleet could not be built or measured as asked (a check failed)."""


# --------------------------------------------------------------------------- the build


@dataclass(frozen=True)
class Build:
    """What the database holds (the row of ``fleet_build``)."""

    configs: int
    base: int
    sweep: int
    copies: int
    revision: str
    counts: dict[str, int]  # rows per catalog table
    spans: dict[str, int]  # id offset per copy, per table (the base's max id)
    models: int  # models of the base catalog with all their recipes (what requests ask for)
    seconds: float  # how long the build took (0: reused)
    built_at: str
    steps: dict[str, float]  # seconds per build step


def catalog_tables() -> list[Table]:
    """Every table of the catalog's metadata, parents first (a new table is copied too)."""
    return list(tables.metadata.sorted_tables)


def key_column(table: Table) -> str:
    """The table's integer primary key, which copies offset (a table without one cannot be copied)."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or not isinstance(keys[0].type, Integer):
        raise FleetError(f"{table.name}: no single integer primary key to offset per copy")
    return keys[0].name


def count_rows(conn: Connection) -> dict[str, int]:
    return {
        t.name: conn.execute(text(f"SELECT count(*) FROM {t.name}")).scalar_one() for t in catalog_tables()
    }


def read_marker(engine: Engine) -> Build | None:
    with engine.connect() as conn:
        if not sqlalchemy.inspect(conn).has_table(MARKER):
            return None
        raw = conn.execute(text(f"SELECT build FROM {MARKER}")).scalar()
    return Build(**json.loads(raw)) if raw else None


def reusable(engine: Engine, configs: int, base: int, sweep: int) -> Build | None:
    """The recorded build when it is the one asked for and the tables still hold its rows."""
    build = read_marker(engine)
    if build is None or (build.configs, build.base, build.sweep) != (configs, base, sweep):
        return None
    with engine.connect() as conn:
        if db.current_revision(conn) != db.HEAD_REVISION or build.revision != db.HEAD_REVISION:
            return None
        if count_rows(conn) != build.counts:
            return None
    return build


def wipe(engine: Engine) -> None:
    """Drop the catalog (its tables, their views, Alembic's version) and the build record."""
    with engine.begin() as conn:
        for name in [MARKER, "alembic_version", *(t.name for t in reversed(catalog_tables()))]:
            conn.execute(text(f"DROP TABLE IF EXISTS {name} CASCADE"))


def ingest_base(url: str, directory: Path, files: int) -> None:
    """The base catalog through the project's own ingest, as ``aim-catalog ingest DIR``."""
    engine = db.make_engine(url)
    try:
        paths, missing = expand_paths([directory])
        if missing or len(paths) != files:
            raise FleetError(f"expected {files} recipe files in {directory}, found {len(paths)}")
        with db.session_factory(engine)() as session:
            report = ingest_files(session, paths)
            session.commit()
        if len(report.added) != files:
            raise FleetError(f"ingest of the base catalog: {report.summary()}")
    finally:
        engine.dispose()


def name_source(table: Table) -> tuple[str, list[str]]:
    """Where a row's names are: its own name columns, else its parent's by a foreign key
    (the original parent row, joined as ``p``); (join, name expressions)."""
    own = [f"t.{c.name}" for c in table.columns if c.name in NAME_COLUMNS and isinstance(c.type, String)]
    if own:
        return "", own
    for column in table.columns:
        for fk in column.foreign_keys:
            parent = fk.column.table
            names = [f"p.{c.name}" for c in parent.columns if c.name in NAME_COLUMNS]
            if names:
                return f" LEFT JOIN {parent.name} p ON p.{fk.column.name} = t.{column.name}", names
    return "", []


def column_expr(table: Table, column: sqlalchemy.Column[Any], spans: dict[str, int]) -> str:
    """The SQL of copy ``k.k``'s value of ``column`` from the original row ``t``."""
    name = f"t.{column.name}"
    tag = "'-copy' || k.k"
    fk = next(iter(column.foreign_keys), None)
    if column.primary_key and isinstance(column.type, Integer):
        return f"{name} + k.k * {spans[table.name]}"
    if fk is not None:
        return f"{name} + k.k * {spans[fk.column.table.name]}"
    if (table.name, column.name) in HASH_COLUMNS:
        return "h.sha"
    if column.name in PATH_COLUMNS:
        return f"regexp_replace({name}, '/([^/]*)$', '/copy' || k.k || '/\\1')"
    if isinstance(column.type, JSON):
        _, names = name_source(table)
        if not names:
            pattern = f'"({NAME_RE})"'
            return f"regexp_replace({name}::text, '{pattern}', '\"\\1' || {tag} || '\"', 'g')::json"
        value = f"{name}::text"
        for source in names:  # exact string values; an equal second name finds it renamed
            renamed = f"replace({value}, '\"' || {source} || '\"', '\"' || {source} || {tag} || '\"')"
            value = f"CASE WHEN {source} IS NULL THEN {value} ELSE {renamed} END"
        return f"{value}::json"
    if isinstance(column.type, String) and (column.name in NAME_COLUMNS or column.unique):
        return f"{name} || {tag}"
    return name


def load_hashes(conn: Connection, copies: int) -> None:
    """``fleet_hash(pk, k, sha)``: the SHA-256 of every copy's file (the base file renamed)."""
    conn.execute(
        text("CREATE TEMP TABLE fleet_hash (pk integer, k integer, sha text) ON COMMIT PRESERVE ROWS")
    )
    for (table, _), path_column in HASH_COLUMNS.items():
        _, names = name_source(tables.metadata.tables[table])
        columns = ", ".join(n.removeprefix("t.") for n in names)
        key = key_column(tables.metadata.tables[table])
        originals = conn.execute(text(f"SELECT {key}, {path_column}, {columns} FROM {table}")).all()
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy("COPY fleet_hash (pk, k, sha) FROM STDIN") as copy:
            for pk, path, *row_names in originals:
                data = Path(path).read_bytes()
                for k in range(1, copies):
                    copy.write_row((pk, k, hashlib.sha256(copy_text(data, k, set(row_names))).hexdigest()))
    conn.execute(text("CREATE INDEX ON fleet_hash (pk, k)"))


def replicate(engine: Engine, copies: int, spans: dict[str, int], steps: dict[str, float]) -> None:
    """Copies 1 .. copies-1 of every table's original rows, in chunks of copies."""
    with engine.connect() as conn:
        conn.execute(text("SET synchronous_commit = off"))
        started = time.perf_counter()
        load_hashes(conn, copies)
        conn.commit()
        steps["hash copies' files"] = time.perf_counter() - started
        for table in catalog_tables():
            if not spans[table.name]:
                continue  # no rows to copy (deployments)
            started = time.perf_counter()
            pk = key_column(table)
            columns = ", ".join(c.name for c in table.columns)
            values = ", ".join(column_expr(table, c, spans) for c in table.columns)
            hashed = [c for (t, c) in HASH_COLUMNS if t == table.name]
            join = f" JOIN fleet_hash h ON h.pk = t.{pk} AND h.k = k.k" if hashed else ""
            if any(isinstance(c.type, JSON) for c in table.columns):
                join += name_source(table)[0]
            for first in range(1, copies, COPY_CHUNK):
                last = min(first + COPY_CHUNK, copies) - 1
                conn.execute(
                    text(
                        f"INSERT INTO {table.name} ({columns}) SELECT {values} FROM {table.name} t "
                        f"CROSS JOIN generate_series({first}, {last}) AS k(k){join} "
                        f"WHERE t.{pk} <= {spans[table.name]} ORDER BY k.k, t.{pk}"
                    )
                )
                conn.commit()
            steps[f"copy {table.name}"] = time.perf_counter() - started
            log(f"    {table.name}: {copies - 1} copies in {steps[f'copy {table.name}']:.1f} s")
        for table in catalog_tables():  # the next ingest's ids come after the copies'
            if spans[table.name]:
                pk = key_column(table)
                sequence = f"pg_get_serial_sequence('{table.name}', '{pk}')"
                conn.execute(text(f"SELECT setval({sequence}, (SELECT max({pk}) FROM {table.name}))"))
        conn.commit()


def build(url: str, configs: int, workdir: Path, base: int, sweep: int, rebuild: bool = False) -> Build:
    """Build the fleet catalog (or reuse the one the database holds, unless ``rebuild``)."""
    if configs % base:
        raise FleetError(f"--configs {configs} is not a multiple of the base catalog's {base}")
    engine = db.make_engine(url)
    try:
        found = None if rebuild else reusable(engine, configs, base, sweep)
        if found is not None:
            log(f"fleet catalog reused: built {found.built_at} in {found.seconds:.0f} s, {found.counts}")
            return replace(found, seconds=0.0)
        steps: dict[str, float] = {}
        started = time.perf_counter()
        info = catalog_gen.write_catalog(workdir / f"fleet-base-{base}-sweep{sweep}", base, sweep)
        steps["write base recipes"] = time.perf_counter() - started
        log(f"building the fleet catalog: {info.files:,} base files ({info.directory}), x{configs // base}")
        mark = time.perf_counter()
        wipe(engine)
        db.upgrade(engine)
        steps["migrate"] = time.perf_counter() - mark
        mark = time.perf_counter()
        ingest_base(url, info.directory, info.files)
        steps["ingest base"] = time.perf_counter() - mark
        log(f"  base ingested in {steps['ingest base']:.1f} s")
        with engine.connect() as conn:
            base_counts = count_rows(conn)
            spans = {
                t.name: conn.execute(
                    text(f"SELECT coalesce(max({key_column(t)}), 0) FROM {t.name}")
                ).scalar_one()
                for t in catalog_tables()
            }
        copies = configs // base
        if base_counts["serve_configs"] != base:
            raise FleetError(f"base catalog has {base_counts['serve_configs']} configs, expected {base}")
        replicate(engine, copies, spans, steps)
        mark = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in catalog_tables():
                conn.execute(text(f"VACUUM (ANALYZE) {table.name}"))
        steps["vacuum analyze"] = time.perf_counter() - mark
        with engine.connect() as conn:
            counts = count_rows(conn)
        expected = {name: n * copies for name, n in base_counts.items()}
        if counts != expected:
            raise FleetError(f"after the copies: {counts}, expected {expected}")
        mark = time.perf_counter()
        check_copies(url, spans, copies, info.directory)
        steps["check copies against ingest"] = time.perf_counter() - mark
        record = Build(
            configs=configs,
            base=base,
            sweep=sweep,
            copies=copies,
            revision=db.HEAD_REVISION,
            counts=counts,
            spans=spans,
            models=max(1, info.files // catalog_gen.RECIPES_PER_MODEL),
            seconds=time.perf_counter() - started,
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            steps={k: round(v, 1) for k, v in steps.items()},
        )
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {MARKER} (build text NOT NULL)"))
            conn.execute(text(f"INSERT INTO {MARKER} VALUES (:b)"), {"b": json.dumps(asdict(record))})
        log(f"  built in {record.seconds:.0f} s: {counts}")
        return record
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- checks


def _rows(conn: Connection, recipe_id: str) -> dict[str, list[dict[str, Any]]]:
    """A recipe's rows: itself, its serve configs, their benchmarks (typed, in a stable order)."""
    r, sc, b = tables.recipes, tables.serve_configs, tables.benchmarks
    configs = select(sc.c.id).join(r, r.c.id == sc.c.recipe_pk).where(r.c.recipe_id == recipe_id)
    queries = {
        "recipes": select(r).where(r.c.recipe_id == recipe_id),
        "serve_configs": select(sc).where(sc.c.id.in_(configs)).order_by(sc.c.backend, sc.c.gpu_count),
        "benchmarks": select(b)
        .join(sc, sc.c.id == b.c.serve_config_id)
        .where(b.c.serve_config_id.in_(configs))
        .order_by(sc.c.backend, sc.c.gpu_count, b.c.id),
    }
    return {name: [dict(row._mapping) for row in conn.execute(query)] for name, query in queries.items()}


def _comparable(row: dict[str, Any], table: Table) -> dict[str, Any]:
    """A row without what legitimately differs: ids, foreign keys and ingest timestamps."""
    skip = {c.name for c in table.columns if c.primary_key or c.foreign_keys}
    skip |= {"created_at", "updated_at"}
    return {k: v for k, v in row.items() if k not in skip}


def check_copies(url: str, spans: dict[str, int], copies: int, directory: Path, samples: int = 6) -> None:
    """Sampled copies equal what the real ingest writes for their files, column by column.

    Copy K of base file F is F with every name suffixed, at ``DIR/copyK/F``; it is parsed
    (``parse_bytes``) and written by ``ingest`` into a scratch SQLite catalog; the fleet's
    rows of that recipe (recipes, its serve configs, their benchmarks) must equal those,
    but for ids and timestamps. Then every copy's names must agree with its JSON.
    """
    rng = random.Random(23)
    base_files = sorted(directory.glob("*.yaml"))
    picks = [(rng.randrange(1, copies), rng.choice(base_files)) for _ in range(samples)]
    picks.append((copies - 1, base_files[-1]))
    scratch = Path(tempfile.mkdtemp(prefix="pg-fleet-check-"))
    engine = db.make_engine(url)
    lite = db.make_engine(f"sqlite:///{scratch / 'check.db'}")
    try:
        db.upgrade(lite)
        with engine.connect() as conn:
            prefix = (
                conn.execute(text("SELECT source_path FROM recipes WHERE id = 1"))
                .scalar_one()
                .rpartition("/")[0]
            )
        for k, path in picks:
            original, _ = parse_bytes(path.read_bytes(), str(path))
            if original is None:
                raise FleetError(f"{path} does not parse")
            names = {original.recipe_id, original.model_id, original.huggingface_id}
            data = copy_text(path.read_bytes(), k, names)
            doc, problems = parse_bytes(data, copy_path(f"{prefix}/{path.name}", k))
            if doc is None or problems:
                raise FleetError(f"copy {k} of {path.name} does not parse: {problems[:2]}")
            with db.session_factory(lite)() as session:
                ingest(session, [doc])
                session.commit()
            with lite.connect() as want_conn, engine.connect() as got_conn:
                want, got = _rows(want_conn, doc.recipe_id), _rows(got_conn, doc.recipe_id)
            for name, rows in want.items():
                table = tables.metadata.tables[name]
                if not rows or [_comparable(r, table) for r in rows] != [
                    _comparable(r, table) for r in got[name]
                ]:
                    raise FleetError(f"copy {k} of {path.name}: its {name} rows differ from its ingest")
        with engine.connect() as conn:
            wrong = conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM recipes WHERE document->>'recipe_id' <> recipe_id "
                    "OR document->>'model_id' <> model_id OR document->>'huggingface_id' <> huggingface_id), "
                    "(SELECT count(*) FROM serve_configs sc JOIN recipes r ON r.id = sc.recipe_pk "
                    "WHERE sc.args->>'--model' <> r.huggingface_id)"
                )
            ).one()
        if any(wrong):
            raise FleetError(f"copies whose names and JSON disagree: {wrong[0]} recipes, {wrong[1]} configs")
        log(f"  {len(picks)} sampled copies equal their files' ingest; every copy's names match its JSON")
    finally:
        lite.dispose()
        engine.dispose()
        shutil.rmtree(scratch, ignore_errors=True)


def _answer(session: Any, request: Request, copy: int, spans: dict[str, int]) -> Any:
    """The answer as JSON-able data, copy ``copy``'s names and ids read as the original's."""
    try:
        chosen = select_best(session, request)
    except NoSuitableRecipe:
        return None
    found = chosen.as_dict()
    found["serve_config_id"] -= copy * spans["serve_configs"]
    for row in (found.get("operating_point") or {}).get("rows") or ():
        row["id"] -= copy * spans["benchmarks"]
    shown = json.dumps(found, sort_keys=True, default=str)
    return json.loads(shown.replace(suffix(copy), "") if copy else shown)


def check_answers(url: str, build: Build, count: int = 40) -> str:
    """Selects for a model and for its copies give the same config, score and point."""
    rng = random.Random(7)
    engine = db.make_engine(url)
    same = answered = 0
    try:
        factory = db.session_factory(engine)
        for request in fleet_requests(build, count, seed=11):
            base = replace(request, model=request.model.rsplit("-copy", 1)[0])
            k = rng.randrange(1, build.copies)
            copy = replace(base, model=base.model + suffix(k))
            with factory() as session:
                want, got = _answer(session, base, 0, build.spans), _answer(session, copy, k, build.spans)
            if want != got:
                raise FleetError(f"select differs for {base.model} and {copy.model}: {want} / {got}")
            same += 1
            answered += want is not None
    finally:
        engine.dispose()
    return f"{same} selects of a model and of one of its copies agree ({answered} with an answer)"


# --------------------------------------------------------------------------- requests


def model_name(model: int, copy: int) -> str:
    return catalog_gen.model_id(model) + suffix(copy)


def fleet_requests(build: Build, count: int, seed: int) -> list[Request]:
    """SLO requests over the whole fleet: varied model, GPUs, precision, backend, hardware;
    a third with input/output lengths, a third with a concurrency; all with a TTFT limit,
    half also a TPOT limit (the percentile is p99, p50 where a row has no p99)."""
    rng = random.Random(seed)
    requests = []
    for _ in range(count):
        scenario: dict[str, Any] = {}
        if rng.random() < 1 / 3:
            scenario = dict(zip(("input_len", "output_len"), rng.choice(catalog_gen.SCENARIOS), strict=True))
        if rng.random() < 1 / 3:
            scenario["concurrency"] = rng.choice((4, 16, 64, 256))
        requests.append(
            Request(
                model=model_name(rng.randrange(build.models), rng.randrange(build.copies)),
                gpus=rng.choice((1, 2, 4, 8, None)),
                precision=rng.choice(catalog_gen.PRECISIONS),
                backend=rng.choice((*catalog_gen.BACKENDS, "any")),
                hardware=rng.choice((None, None, None, *catalog_gen.HARDWARE)),
                max_ttft_ms=rng.choice((100.0, 250.0, 500.0, 1000.0)),
                max_tpot_ms=rng.choice((None, 20.0, 50.0)) if rng.random() < 0.5 else None,
                **scenario,
            )
        )
    return requests


# --------------------------------------------------------------------------- clients


@dataclass
class ClientResult:
    client: int
    by_shape: dict[str, list[tuple[float, float]]]  # (select, its time in the database) per shape
    misses: int
    warmup_selects: int
    error: str = ""
    cpu: float = 0.0  # CPU seconds of the client process over the measured selects
    db_cpu: float | None = None  # of its PostgreSQL backend (None: not on this machine)


def backend_cpu(pid: int | None) -> float | None:
    """CPU seconds a local PostgreSQL backend has used (None: not a process of this machine)."""
    if pid is None:
        return None
    try:
        name, _, rest = Path(f"/proc/{pid}/stat").read_text().rpartition(")")
    except OSError:
        return None
    if "postgres" not in name:
        return None
    fields = rest.split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def shape_key(request: Request) -> str:
    """A request shape (what decides the statement's SQL) in a few words."""
    shape = shape_of(request, "postgresql", False)
    parts = [
        f"gpus={shape.gpus or 'any'}",
        "hardware" if shape.hardware else "",
        "backend" if shape.backend else "",
        "lengths" if shape.scenario else "",
        "slo=" + "+".join(shape.slo),
    ]
    return " ".join(p for p in parts if p)


def client_requests(build: Build, client: int) -> list[Request]:
    return fleet_requests(build, 4000, seed=1000 + client)


def warm_requests(requests: list[Request], per_shape: int = WARM_PER_SHAPE) -> list[Request]:
    """``per_shape`` requests of every shape: psycopg prepares a statement at its 5th run on
    a connection, PostgreSQL plans a prepared one generically from its 6th: a warm client
    has done both for every shape it sends."""
    seen: Counter[str] = Counter()
    warm = []
    for request in requests:
        key = shape_key(request)
        if seen[key] < per_shape:
            seen[key] += 1
            warm.append(request)
    return warm


def _client(
    url: str, client: int, build: Build, seconds: float, warmup: float, barrier: Any, queue: Any
) -> None:
    """One client process: its own engine, a connection per select (as ``Catalog.select`` and
    run.py's select rows); the time each select spent in cursor.execute (round trip,
    planning, execution) is kept too."""
    try:
        requests = client_requests(build, client)
        keys = [shape_key(r) for r in requests]
        engine = db.make_engine(url)
        in_db = [0.0]

        @sqlalchemy.event.listens_for(engine, "before_cursor_execute")
        def _before(*_: Any) -> None:
            in_db[0] -= time.perf_counter()

        @sqlalchemy.event.listens_for(engine, "after_cursor_execute")
        def _after(*_: Any) -> None:
            in_db[0] += time.perf_counter()

        def one(request: Request) -> bool:
            with engine.connect() as conn:
                try:
                    select_best(conn, request)
                except NoSuitableRecipe:
                    return False
            return True

        warm = warm_requests(requests)
        until = time.monotonic() + warmup
        for request in warm:
            one(request)
        done = len(warm)
        while time.monotonic() < until:
            one(requests[done % len(requests)])
            done += 1
        with engine.connect() as conn:  # the pool's one connection: the selects' backend
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        result = ClientResult(client, defaultdict(list), 0, done)
        barrier.wait()
        cpu, db_cpu = time.process_time(), backend_cpu(pid)
        i, until = done, time.monotonic() + seconds
        while True:
            request = requests[i % len(requests)]
            in_db[0] = 0.0
            started = time.perf_counter()
            found = one(request)
            result.by_shape[keys[i % len(requests)]].append((time.perf_counter() - started, in_db[0]))
            result.misses += not found
            i += 1
            if time.monotonic() >= until:
                break
        result.cpu = time.process_time() - cpu
        db_cpu_after = backend_cpu(pid)
        result.db_cpu = None if db_cpu is None or db_cpu_after is None else db_cpu_after - db_cpu
        engine.dispose()
        result.by_shape = dict(result.by_shape)
        queue.put(result)
    except BaseException as exc:  # reported by the parent, which must not wait forever
        queue.put(ClientResult(client, {}, 0, 0, error=f"{type(exc).__name__}: {exc}"))
        raise


@dataclass
class LoadRun:
    clients: int
    seconds: float
    latencies: list[float]
    in_db: list[float]
    misses: int
    by_shape: dict[str, list[float]]
    warmup_selects: int
    load: tuple[float, float]  # the machine's 1-minute load average before and after
    cpu: float  # client CPU seconds per select
    db_cpu: float | None  # PostgreSQL backend CPU seconds per select (None: not measured)


def run_clients(url: str, build: Build, clients: int, seconds: float, warmup: float) -> LoadRun:
    """``clients`` spawned processes selecting at once for ``seconds`` after their warm-up."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(clients + 1)
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_client, args=(url, c, build, seconds, warmup, barrier, queue), daemon=True)
        for c in range(clients)
    ]
    for proc in procs:
        proc.start()
    try:
        try:
            barrier.wait(timeout=warmup + 600)
        except threading.BrokenBarrierError:
            raise FleetError(f"a client failed before the start: {queue.get(timeout=30).error}") from None
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        results = [queue.get(timeout=seconds + 300) for _ in procs]
        elapsed = time.monotonic() - started
        load_after = os.getloadavg()[0]
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
    errors = [r.error for r in results if r.error]
    if errors:
        raise FleetError(f"a client failed: {errors[0]}")
    by_shape: dict[str, list[float]] = defaultdict(list)
    latencies, in_db = [], []
    for result in results:
        for key, pairs in result.by_shape.items():
            by_shape[key] += [total for total, _ in pairs]
            latencies += [total for total, _ in pairs]
            in_db += [database for _, database in pairs]
    warm = sum(r.warmup_selects for r in results)
    misses = sum(r.misses for r in results)
    cpu = sum(r.cpu for r in results) / len(latencies)
    db_cpus = [r.db_cpu for r in results]
    db_cpu = None if None in db_cpus else sum(c for c in db_cpus if c is not None) / len(latencies)
    load = (load_before, load_after)
    return LoadRun(clients, elapsed, latencies, in_db, misses, dict(by_shape), warm, load, cpu, db_cpu)


# --------------------------------------------------------------------------- EXPLAIN


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def describe(node: dict[str, Any]) -> str:
    index = f" using {node['Index Name']}" if "Index Name" in node else ""
    alias = node.get("Alias", "")
    shown = f" {alias}" if alias and alias != node.get("Relation Name") else ""
    return f"{node['Node Type']}{index}{shown}"


@dataclass
class PlanCheck:
    shape: str
    mode: str  # custom | generic
    scans: dict[str, list[str]]  # relation -> its nodes
    misses: list[str]  # Seq Scans on the catalog's tables
    cost: float


def explain_one(conn: Connection, request: Request, generic: bool) -> PlanCheck:
    """EXPLAIN (FORMAT JSON) of the select statement with this request's values: its custom
    plan, or (``generic``) the plan a prepared statement falls back to after five runs."""
    compiled = selection_query(request, "postgresql").compile(dialect=conn.dialect)
    params = compiled.params
    if not generic:
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, params).scalar_one()
    else:
        order: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in order:
                order.append(match.group(1))
            return f"${order.index(match.group(1)) + 1}"

        sql = re.sub(r"%\((\w+)\)s", number, compiled.string).replace("%%", "%")
        conn.exec_driver_sql(f"PREPARE fleet_probe AS {sql}")
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        try:
            driver = conn.connection.driver_connection
            args = ", ".join(Literal(params[name]).as_string(driver) for name in order)
            raw = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) EXECUTE fleet_probe({args})").scalar_one()
        finally:
            conn.exec_driver_sql("RESET plan_cache_mode")
            conn.exec_driver_sql("DEALLOCATE fleet_probe")
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    scans: dict[str, list[str]] = defaultdict(list)
    misses = []
    for node in plan_nodes(plan):
        relation = node.get("Relation Name")
        if relation is None:
            continue
        scans[relation].append(describe(node))
        if node["Node Type"] == "Seq Scan" and relation in SCANNED:
            misses.append(f"Seq Scan on {relation} {node.get('Alias', '')}".rstrip())
    return PlanCheck(
        shape_key(request), "generic" if generic else "custom", dict(scans), misses, plan["Total Cost"]
    )


def explain_shapes(url: str, build: Build) -> list[PlanCheck]:
    """Every request shape the clients send, EXPLAINed custom and generic."""
    shapes: dict[str, Request] = {}
    for client in range(CLIENTS):
        for request in client_requests(build, client):
            shapes.setdefault(shape_key(request), request)
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return [
                explain_one(conn, shapes[key], generic) for key in sorted(shapes) for generic in (False, True)
            ]
    finally:
        engine.dispose()


def explain_analyze(url: str, request: Request) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) text of one request's select (custom plan), for a miss."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            compiled = selection_query(request, "postgresql").compile(dialect=conn.dialect)
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + compiled.string, compiled.params)
            return "\n".join(r[0] for r in rows)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- measure


def _summarize_nodes(checks: list[PlanCheck]) -> str:
    """Per relation, the distinct nodes over every shape and mode."""
    nodes: dict[str, Counter[str]] = defaultdict(Counter)
    for check in checks:
        for relation, found in check.scans.items():
            nodes[relation].update(set(found))
    return "; ".join(
        f"{relation}: " + ", ".join(f"{node} ({n})" for node, n in sorted(counter.items()))
        for relation, counter in sorted(nodes.items())
    )


def measure(
    url: str,
    configs: int = CONFIGS,
    rows_per_config: int = SWEEP,
    clients: int = CLIENTS,
    seconds: float = SECONDS,
    workdir: Path | None = None,
    *,
    base: int = BASE_CONFIGS,
    warmup: float = WARMUP,
    explain: bool = True,
    rebuild: bool = False,
) -> list[dict[str, Any]]:
    """Build (or reuse) the fleet catalog, EXPLAIN every request shape, run 1 and
    ``clients`` concurrent clients: rows of key, label, p50_s, p99_s, n, note, target, verdict
    (the EXPLAIN verdict is the row ``pg_fleet_explain``; ``details`` carries the plans and the
    per-shape figures)."""
    work = workdir or Path(tempfile.mkdtemp(prefix="pg-fleet-"))
    try:
        started = time.perf_counter()
        built = build(url, configs, work, base, rows_per_config, rebuild)
        build_s = time.perf_counter() - started
    finally:
        if workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    agree = check_answers(url, built)
    log(f"  {agree}")
    counts = built.counts
    rows: list[dict[str, Any]] = [
        {
            "key": "pg_fleet_build",
            "label": "fleet catalog: ingest base + copies in SQL + VACUUM ANALYZE"
            if built.seconds
            else "fleet catalog: reused (counts checked)",
            "p50_s": build_s,
            "p99_s": None,
            "n": 1,
            "note": f"{counts['serve_configs']:,} serve configs, {counts['benchmarks']:,} benchmark rows, "
            f"{counts['recipes']:,} recipes, {built.models * built.copies:,} models "
            f"({built.copies} copies of {built.base:,} configs, sweep {built.sweep}); {agree}"
            + (f"; steps {built.steps}" if built.seconds else ""),
            "target": "",
            "verdict": "",
        }
    ]
    details: dict[str, Any] = {"build": asdict(built)}
    if explain:
        checks = explain_shapes(url, built)
        misses = [f"{c.shape} [{c.mode}]: {', '.join(c.misses)}" for c in checks if c.misses]
        shapes = len({c.shape for c in checks})
        rows.append(
            {
                "key": "pg_fleet_explain",
                "label": f"EXPLAIN: {shapes} request shapes x custom/generic plan",
                "p50_s": None,
                "p99_s": None,
                "n": len(checks),
                "note": ("MISS " + " | ".join(misses) + "; " if misses else "")
                + "nodes: "
                + _summarize_nodes(checks),
                "target": "no Seq Scan",
                "verdict": "MISS" if misses else "PASS",
            }
        )
        details["plans"] = [asdict(c) for c in checks]
    for n in sorted({1, clients}):
        log(f"  {n} client(s): warm-up ({WARM_PER_SHAPE} selects per shape), then {seconds:g} s of selects")
        run = run_clients(url, built, n, seconds, warmup)
        p50, p99 = percentile(run.latencies, 50), percentile(run.latencies, 99)
        worst = sorted(((percentile(v, 99), k, len(v)) for k, v in run.by_shape.items()), reverse=True)[:3]
        rows.append(
            {
                "key": f"pg_fleet_select_{n}",
                "label": f"select_best with SLOs, {n} concurrent client{'s' if n > 1 else ''}",
                "p50_s": p50,
                "p99_s": p99,
                "n": len(run.latencies),
                "note": f"{len(run.latencies) / run.seconds:.0f} selects/s over {run.seconds:.1f} s "
                f"after {run.warmup_selects:,} warm-up selects; in the database (cursor.execute) "
                f"p50 {fmt(percentile(run.in_db, 50))}, p99 {fmt(percentile(run.in_db, 99))}; "
                f"CPU per select: client {fmt(run.cpu)}, PostgreSQL {fmt(run.db_cpu) or 'n/a'}; "
                f"{run.misses} without an answer; load average {run.load[0]:.1f} -> {run.load[1]:.1f}; "
                "slowest shapes by p99: " + ", ".join(f"{k} {fmt(v)} (n={c})" for v, k, c in worst),
                "per_s": len(run.latencies) / run.seconds,
                "target": f"p99 <= {P99_LIMIT * 1e3:g} ms" if n == clients else "",
                "verdict": ("PASS" if p99 <= P99_LIMIT else "MISS") if n == clients else "",
            }
        )
        details[f"shapes_{n}"] = {
            k: {"p50_s": percentile(v, 50), "p99_s": percentile(v, 99), "n": len(v)}
            for k, v in sorted(run.by_shape.items())
        }
    rows[-1]["details"] = details
    return rows


# --------------------------------------------------------------------------- CLI


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1.0 else f"{seconds:.1f} s"


def render(rows: list[dict[str, Any]]) -> str:
    out = [f"{'measurement':<52} {'p50':>9} {'p99':>9} {'n':>7}  {'target':<14} result"]
    for row in rows:
        out.append(
            f"{row['label']:<52} {fmt(row['p50_s']):>9} {fmt(row['p99_s']):>9} {row['n']:>7}  "
            f"{row['target']:<14} {row['verdict']}".rstrip()
        )
    out += ["", *(f"  ({row['key']}: {row['note']})" for row in rows if row["note"])]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/pg_fleet.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("url", help="the fleet's PostgreSQL database (its catalog tables are replaced)")
    parser.add_argument("--configs", type=int, default=CONFIGS, help="serve configs (default %(default)s)")
    parser.add_argument("--base", type=int, default=BASE_CONFIGS, help="configs ingested, then copied")
    parser.add_argument("--sweep", type=int, default=SWEEP, help="benchmark rows per measured config")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent client processes")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="measured seconds per run")
    parser.add_argument(
        "--warmup",
        type=float,
        default=WARMUP,
        help=f"warm-up seconds per client, at least (and {WARM_PER_SHAPE} selects of every request shape)",
    )
    parser.add_argument("--workdir", type=Path, help="keep the base recipes here (default: a temp dir)")
    parser.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN check")
    parser.add_argument("--rebuild", action="store_true", help="build the catalog even if it is there")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the rows and details as JSON")
    parser.add_argument("--fail-on-miss", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with work_directory(args.workdir, "pg-fleet-") as workdir:
        try:
            rows = measure(
                args.url,
                args.configs,
                args.sweep,
                args.clients,
                args.seconds,
                workdir,
                base=args.base,
                warmup=args.warmup,
                explain=not args.no_explain,
                rebuild=args.rebuild,
            )
        except FleetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    log(f"done in {time.perf_counter() - started:.0f} s")
    print(render(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str) + "\n")
    missed = any(r["verdict"] == "MISS" for r in rows)
    return 1 if missed and args.fail_on_miss else 0


if __name__ == "__main__":
    sys.exit(main())
