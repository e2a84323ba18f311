"""Importing measured results (vLLM, SGLang, InferenceX files; readers in ``importers/``)
into the catalog: which serve config each run belongs to, and writing the rows.

Only the summary numbers are kept (the per-request lists such files may carry, ``ttfts``,
``itls``, ``generated_texts``..., are dropped). Each run gets an import key (a hash of the
numbers and scenario it reports), so importing the same file twice adds nothing.
``import_runs`` writes, in the caller's session; so does ``store_smoke_test`` (the result
of ``aim-catalog test --save``).
"""

from __future__ import annotations

import functools
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from aim_catalog.errors import CatalogError, EnvironmentProblem, InvalidRecipeInput, Problem, UsageProblem
from aim_catalog.measurements.importers import Parsed, Stage, parse_results, read_result_file
from aim_catalog.measurements.importers.common import Run, RunColumns, collector_paused
from aim_catalog.measurements.importers.keys import LEGACY_BELOW, legacy_key
from aim_catalog.notes import Progress
from aim_catalog.recipes import bounds
from aim_catalog.recipes.format import Origin
from aim_catalog.settings import ENERGY_FIELDS, METRIC_FIELDS, RANK_METRICS, normalize_precision
from aim_catalog.storage.dialects import dialect_of, insert_columns, insert_many, lock_for_write
from aim_catalog.storage.models import Benchmark, Deployment, Recipe, ServeConfig

RATE_COLUMNS = RANK_METRICS  # the figures recipes.bounds bounds per GPU

__all__ = ["ImportReport", "Parsed", "Run", "Target", "import_runs", "parse_results", "read_result_file"]


@dataclass(frozen=True)
class ImportReport:
    added: int = 0
    duplicates: int = 0
    targets: dict[str, int] = field(default_factory=dict)  # "recipe/backend/N GPU" -> runs added
    notes: list[str] = field(default_factory=list)  # per row: failed requests, skipped runs

    def summary(self) -> str:
        into = ", ".join(f"{n} into {t}" for t, n in sorted(self.targets.items())) or "nothing new"
        return f"imported {self.added} run(s), {self.duplicates} already present ({into})"


# --------------------------------------------------------------------------- targets and writing


@dataclass(frozen=True)
class Target:
    recipe_id: str | None = None
    backend: str | None = None
    gpus: int | None = None
    deployment: str | None = None


def _label(recipe_id: str, backend: str, gpus: int) -> str:
    return f"{recipe_id}/{backend}/{gpus} GPU"


class TargetContradiction(InvalidRecipeInput):
    """--recipe/--backend/--gpus name a serve config the file says it did not run on."""

    def __init__(self, problem: Problem) -> None:
        self.problems = [problem]
        CatalogError.__init__(self, str(problem))


class Unresolved(InvalidRecipeInput):
    """No serve config, or several, fit one run (a per-row skip in a multi-run file)."""


def _same_model(file_model: str, recipe: Any) -> bool:
    """The file's model is the recipe's (its Hugging Face id or model id; a local path by its
    directory name). A path whose directory is named otherwise is not checked: ``--recipe``
    is how one says what a local copy is."""
    ids = {str(recipe.huggingface_id).lower(), str(recipe.model_id).lower()}
    if file_model.lower() in ids:
        return True
    return file_model.startswith(("/", ".", "~"))


def _check_target(session: Session, run: Run, target: Target) -> None:
    """Refuse (exit 4, one line) an explicit target the file contradicts."""

    def refuse(field_: str, said: Any, asked: str) -> None:
        message = f"the file says {said}, but {asked}: this run was not measured on that serve config"
        raise TargetContradiction(Problem(run.path, run.line, 1, field_, message))

    if target.backend and run.backend and target.backend != run.backend:
        refuse("backend", f"backend {run.backend}", f"--backend is {target.backend}")
    if target.gpus and run.tensor_parallel and target.gpus != run.tensor_parallel:
        refuse("GPUs", f"{run.tensor_parallel} GPU(s) (tensor parallel)", f"--gpus is {target.gpus}")
    if target.recipe_id is None:
        return
    recipe = session.execute(
        select(
            Recipe.recipe_id,
            Recipe.model_id,
            Recipe.huggingface_id,
            Recipe.hardware,
            Recipe.precision,
            Recipe.document,
        ).where(Recipe.recipe_id == target.recipe_id)
    ).first()
    if recipe is None:
        raise Unresolved(
            [Problem(run.path, run.line, 1, "", f"no recipe {target.recipe_id!r} in the catalog")]
        )
    asked = f"--recipe {recipe.recipe_id} is"
    if run.model and not _same_model(run.model, recipe):
        refuse("model", f"model {run.model}", f"{asked} {recipe.huggingface_id}")
    if run.hardware and run.hardware.upper() != str(recipe.hardware).upper():
        refuse("hardware", f"hardware {run.hardware}", f"{asked} for {recipe.hardware}")
    if run.precision and normalize_precision(run.precision) != normalize_precision(str(recipe.precision)):
        refuse("precision", f"precision {run.precision}", f"{asked} {recipe.precision}")
    if run.spec_decoding is not None:
        mtp = _speculative(recipe.recipe_id, recipe.document)
        if mtp != (run.spec_decoding != "none"):
            kind = "an MTP (speculative decoding) recipe" if mtp else "a recipe without speculative decoding"
            refuse("spec_decoding", f"spec_decoding {run.spec_decoding}", f"{asked} {kind}")


def _speculative(recipe_id: str, document: Any) -> bool:
    """An MTP (speculative decoding) recipe: the bundled InferenceX recipes end their id in
    ``-mtp`` and name InferenceX ``*-mtp`` entries in ``source.entries``
    (scripts/gen_inferencex_recipes.py)."""
    if recipe_id.endswith("-mtp"):
        return True
    source = document.get("source") if isinstance(document, dict) else None
    entries = source.get("entries") if isinstance(source, dict) else None
    return isinstance(entries, list) and any(str(e).endswith("-mtp") for e in entries)


def resolve(session: Session, run: Run, target: Target) -> int:
    """The serve config id this run belongs to; ``TargetContradiction`` when the explicit
    target contradicts the file, ``Unresolved`` naming the candidates when none or several fit."""
    if target.deployment is not None:
        found = session.scalars(
            select(Deployment).where(Deployment.name == target.deployment).order_by(Deployment.id.desc())
        ).first()
        if found is None or found.serve_config_id is None:
            raise UsageProblem(f"no deployment {target.deployment!r} with a serve config in the catalog")
        return found.serve_config_id
    backend = target.backend or run.backend
    gpus = target.gpus or run.tensor_parallel  # the file's TP when only --recipe is given
    _check_target(session, run, target)
    rows = _candidates(session, run, target, backend, gpus)
    if len(rows) == 1:
        return int(rows[0].id)
    raise Unresolved([Problem(run.path, run.line, 1, "", _unresolved(rows, run, target, backend, gpus))])


def _candidates(
    session: Session, run: Run, target: Target, backend: str | None, gpus: int | None
) -> list[Any]:
    """The serve configs that fit the run: the explicit recipe's, else those of the file's
    model (and hardware, precision and speculative decoding when the file says)."""
    r, sc = Recipe.__table__, ServeConfig.__table__
    query = select(sc.c.id, r.c.recipe_id, r.c.document, sc.c.backend, sc.c.gpu_count).select_from(
        r.join(sc, sc.c.recipe_pk == r.c.id)
    )
    explicit = target.recipe_id is not None
    if explicit:
        query = query.where(r.c.recipe_id == target.recipe_id)
    elif run.model:
        query = query.where(or_(r.c.huggingface_id == run.model, r.c.model_id == run.model))
    else:
        message = "the run names no model: use --recipe ID --backend B --gpus N"
        raise InvalidRecipeInput([Problem(run.path, run.line, 1, "model_id", message)])
    if backend is not None:
        query = query.where(sc.c.backend == backend)
    if gpus is not None:
        query = query.where(sc.c.gpu_count == gpus)
    if not explicit and run.hardware is not None:
        query = query.where(r.c.hardware == run.hardware)
    if not explicit and run.precision is not None:
        query = query.where(r.c.precision == run.precision)
    rows = list(session.execute(query.order_by(r.c.recipe_id, sc.c.backend, sc.c.gpu_count)).all())
    if not explicit and run.spec_decoding is not None and len(rows) > 1:
        mtp = run.spec_decoding != "none"
        rows = [row for row in rows if _speculative(row.recipe_id, row.document) == mtp]
    return rows


def _unresolved(rows: list[Any], run: Run, target: Target, backend: str | None, gpus: int | None) -> str:
    """Why no single serve config fits: what was asked, and the candidates when several fit."""
    explicit = target.recipe_id is not None
    asked = ", ".join(
        f"{k} {v}"
        for k, v in (
            ("recipe", target.recipe_id),
            ("model", run.model),
            ("backend", backend),
            ("GPUs", gpus),
            ("hardware", None if explicit else run.hardware),
            ("precision", None if explicit else run.precision),
            ("spec_decoding", None if explicit else run.spec_decoding),
        )
        if v
    )
    if not rows:
        return f"no serve config matches ({asked})"
    listed = "; ".join(_label(row.recipe_id, row.backend, row.gpu_count) for row in rows[:20])
    more = f" and {len(rows) - 20} more" if len(rows) > 20 else ""
    return (
        f"{len(rows)} serve configs match ({asked}): {listed}{more}; "
        "choose one with --recipe, --backend and --gpus"
    )


@collector_paused()  # the runs and their rows all stay alive until written
def import_runs(
    session: Session, parsed: Parsed, target: Target, progress: Progress | None = None
) -> ImportReport:
    """Write the parsed runs into the catalog (one transaction, the caller's); skip ones
    already there.

    Time is linear in the runs: runs that name the same serve config (model, backend, GPUs,
    hardware, precision, speculative decoding) are resolved by one lookup, the catalog is
    asked which keys it holds once per 500 runs, and the rows are written by one executemany
    per shape of row. Runs read column by column (``parsed.batches``) are resolved once per
    GPU count (``resolve`` asks for that count: a target naming another is refused) and
    written as columns, with no dict a row; their rows of a GPU count that no single serve
    config takes are made ``Run``s and handled as the others, in the files' order (each
    says why, the first refusal is the first in the files). ``progress`` hears the two
    stages: resolving serve configs, writing."""
    lock_for_write(session)
    runs, batches = parsed.runs, parsed.batches
    total = len(runs) + sum(map(len, batches))
    per_file = Counter(run.path for run in runs)
    for batch in batches:
        per_file[batch.path] += len(batch)
    found: dict[tuple[Any, ...], int | CatalogError] = {}
    stage = Stage(progress, "resolving serve configs", total)
    columnar, singles = _resolve_batches(session, batches, target, found, stage)
    ordered: Sequence[Run] = runs
    if singles:  # among the others, in the files' order
        rank = {path: i for i, path in enumerate(parsed.files)}
        ordered = sorted([*runs, *singles], key=lambda r: (rank.get(r.path, -1), r.line, r.element or 0))
    resolved: list[tuple[Run, int]] = []
    unresolved: list[Problem] = []
    notes: list[str] = []
    for run in ordered:  # every target, before any write
        stage.reached(1)
        try:
            resolved.append((run, _resolve_once(session, run, target, found)))
        except Unresolved as exc:
            if per_file[run.path] == 1:
                raise  # a single-run file: say so, listing the candidates
            unresolved += exc.problems  # a multi-run file: skip this row, import the rest
            at = f"[element {run.element}] " if run.element is not None else ""
            notes += [str(replace(p, message=f"{at}skipped: {p.message}")) for p in exc.problems]
    stage.end()
    if not resolved and not columnar:
        raise InvalidRecipeInput(unresolved)
    ids = {config for _, config in resolved} | {c for _, chosen in columnar for c in chosen.values()}
    configs = {
        row.id: row
        for row in session.execute(
            select(ServeConfig.id, Recipe.recipe_id, ServeConfig.backend, ServeConfig.gpu_count)
            .join(Recipe, Recipe.id == ServeConfig.recipe_pk)
            .where(ServeConfig.id.in_(ids))
        )
    }
    _check_bounds(resolved, configs)  # a batch's rows go to configs of their own GPU count
    labels = {config: _label(row.recipe_id, row.backend, row.gpu_count) for config, row in configs.items()}
    seen = _already_imported(session, resolved, columnar)
    added, duplicates, per_config = 0, 0, Counter[int]()
    origin = Origin.IMPORT.value
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}  # rows by their columns (and order)
    held: list[tuple[tuple[str, ...], list[Sequence[Any]]]] = []  # (names, columns) to write
    runs_of: dict[str, list[tuple[Run, int]]] = {}
    for run, config in resolved:
        runs_of.setdefault(run.path, []).append((run, config))
    batches_of: dict[str, list[_Columnar]] = {}
    for batch, chosen in columnar:
        batches_of.setdefault(batch.path, []).append((batch, chosen))
    # File by file, in order: a run given in two files is written as the first one gives it.
    for path in dict.fromkeys([*parsed.files, *runs_of, *batches_of]):
        for run, config in runs_of.get(path, ()):
            key = (config, run.key)
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            row = {"serve_config_id": config, "origin": origin, "import_key": key[1], **run.row}
            shapes.setdefault(tuple(run.row), []).append(row)
            if run.notes:
                notes += [f"{run.where}: {note}" for note in run.notes]
            added += 1
            per_config[config] += 1
        for batch, chosen in batches_of.get(path, ()):
            names, columns, twice = _new_rows(batch, chosen, seen, origin)
            duplicates += twice
            if columns[0]:
                held.append((names, columns))
                added += len(columns[0])
                per_config.update(columns[0])
    targets = Counter[str]()
    for config, runs_added in per_config.items():
        targets[labels[config]] += runs_added
    _write(session, shapes.values(), held, added, progress)
    return ImportReport(added, duplicates, dict(targets), notes)


def _resolve_batches(
    session: Session,
    batches: Sequence[RunColumns],
    target: Target,
    found: dict[tuple[Any, ...], int | CatalogError],
    stage: Stage,
) -> tuple[list[_Columnar], list[Run]]:
    """The serve config of each GPU count of each batch (``_resolve_once`` of its first row
    of that count), and, as runs, the rows of the counts that have none (each says why;
    ``stage`` hears of them as they are handled as runs, of the others here)."""
    columnar: list[_Columnar] = []
    singles: list[Run] = []
    for batch in batches:
        chosen: dict[int, int] = {}
        made = len(singles)
        for gpus in sorted(set(batch.gpus)):
            try:
                chosen[gpus] = _resolve_once(session, batch.run(batch.gpus.index(gpus)), target, found)
            except CatalogError:
                singles += [batch.run(i) for i, count in enumerate(batch.gpus) if count == gpus]
        if chosen:
            columnar.append((batch, chosen))
        stage.reached(len(batch) - (len(singles) - made))
    return columnar, singles


def _new_rows(
    batch: RunColumns, chosen: dict[int, int], seen: set[tuple[int, str]], origin: str
) -> tuple[tuple[str, ...], list[Sequence[Any]], int]:
    """The columns to write of the rows of ``batch`` whose GPU count ``chosen`` gives a serve
    config (theirs first: ``serve_config_id``, ``import_key``, ``origin``), leaving out (and
    counting) those ``seen`` holds already, in order: a row given twice is written once."""
    keys = batch.keys()
    config_of = [chosen.get(gpus, 0) for gpus in batch.gpus]  # 0: written as a run
    columns: list[Sequence[Any]] = [config_of, keys, *batch.columns]
    twice = 0
    pairs = list(zip(config_of, keys, strict=True))
    if 0 not in config_of and len(set(pairs)) == len(pairs) and seen.isdisjoint(pairs):
        seen.update(pairs)  # the usual case: every row new (not a pair to look at one by one)
    else:
        kept: list[bool] = []
        keep = kept.append
        for key, config in zip(keys, config_of, strict=True):
            if not config:
                keep(False)
            elif (config, key) in seen:
                twice += 1
                keep(False)
            else:
                seen.add((config, key))
                keep(True)
        if not all(kept):
            columns = [list(itertools.compress(column, kept)) for column in columns]
    names = ("serve_config_id", "import_key", "origin", *batch.names)
    return names, [columns[0], columns[1], [origin] * len(columns[0]), *columns[2:]], twice


def _write(
    session: Session,
    shapes: Iterable[list[dict[str, Any]]],
    held: Sequence[tuple[tuple[str, ...], list[Sequence[Any]]]],
    added: int,
    progress: Progress | None,
) -> None:
    """Write the rows (dicts of one shape each) and the columns (names, a sequence of values
    each), ``_ROWS_PER_INSERT`` rows to an executemany; ``progress`` hears each."""

    def heard(written: int, more: int = 0) -> None:
        if progress is not None:
            progress("writing", written + more, added)

    written = 0
    with dialect_of(session).bulk_write(session.connection()):
        for rows in shapes:  # executemany needs one set of columns per statement
            for start in range(0, len(rows), _ROWS_PER_INSERT):
                heard(written)
                chunk = rows[start : start + _ROWS_PER_INSERT]
                insert_many(session, _TABLE, chunk)
                written += len(chunk)
        for names, columns in held:
            before = functools.partial(heard, written)
            insert_columns(session, _TABLE, names, columns, chunk=_ROWS_PER_INSERT, before=before)
            written += len(columns[0])
    if added:
        heard(written)


_Columnar = tuple[RunColumns, dict[int, int]]  # a batch, the serve config of each GPU count it writes


_ROWS_PER_INSERT = 5000


def _resolve_once(
    session: Session, run: Run, target: Target, found: dict[tuple[Any, ...], int | CatalogError]
) -> int:
    """``resolve`` for each distinct set of facts a run is resolved by; a later run with the
    same facts gets the same serve config, or the same refusal located at its own line."""
    facts = (run.model, run.backend, run.tensor_parallel, run.hardware, run.precision, run.spec_decoding)
    if facts not in found:
        try:
            found[facts] = resolve(session, run, target)
        except (Unresolved, TargetContradiction, InvalidRecipeInput, UsageProblem) as exc:
            found[facts] = exc
    outcome = found[facts]
    if isinstance(outcome, int):
        return outcome
    problems = getattr(outcome, "problems", None)
    if problems is None:
        raise outcome
    here = [replace(p, path=run.path, line=run.line) for p in problems]
    if isinstance(outcome, TargetContradiction):
        raise TargetContradiction(here[0])
    raise type(outcome)(here)


def _check_bounds(resolved: Sequence[tuple[Run, int]], configs: dict[int, Any]) -> None:
    """Throughputs are bounded per GPU: the file was checked with the GPU count it says (or
    one node's when it says none); check again where the serve config has another."""
    from aim_catalog.measurements.importers import out_of_bounds

    problems: list[Problem] = []
    for run, config in resolved:
        gpus = configs[config].gpu_count
        if gpus != run.tensor_parallel:
            problems += out_of_bounds(run, gpus, RATE_COLUMNS)
    if problems:
        raise InvalidRecipeInput(problems)


def _already_imported(
    session: Session, resolved: Sequence[tuple[Run, int]], columnar: Sequence[_Columnar]
) -> set[tuple[int, str]]:
    """(serve config, import key) pairs the catalog holds already, for these runs (and the
    rows of ``columnar``, written to the serve configs it gives by GPU count): none where the
    serve configs hold no imported row yet (one look at the index), else one query per chunk
    of keys (SQLite limits the variables of one statement), not one per run. Where the
    catalog holds keys of the old spelling for these serve configs (``keys.legacy_key``: rows
    imported before ``keys.run_key``), a run found by its old key is held too."""
    configs = sorted({c for _, c in resolved} | {c for _, chosen in columnar for c in chosen.values()})
    if not _holds(session, configs, _KEYED):
        return set()
    keys = {run.key for run, _ in resolved}
    for batch, _chosen in columnar:
        keys.update(batch.keys())
    found = _held(session, configs, keys)
    if _holds(session, configs, _LEGACY):
        by_legacy: dict[str, list[str]] = {}
        for run, _config in resolved:
            by_legacy.setdefault(legacy_key(run.row), []).append(run.key)
        for batch, _chosen in columnar:
            for key, row in zip(batch.keys(), batch.rows(), strict=True):
                by_legacy.setdefault(legacy_key(row), []).append(key)
        for config, legacy in _held(session, configs, set(by_legacy)):
            found.update((config, key) for key in by_legacy[legacy])
    return found


def _held(session: Session, configs: list[int], keys: set[str]) -> set[tuple[int, str]]:
    """Which of ``keys`` the catalog holds for ``configs``, as (serve config, key) pairs (one
    statement, compiled once, for every chunk)."""
    found: set[tuple[int, str]] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), _KEYS_PER_QUERY):
        chunk = ordered[start : start + _KEYS_PER_QUERY]
        rows = session.execute(_HELD, {"configs": configs, "keys": chunk})
        found.update((config, str(key)) for config, key in rows)
    return found


def _holds(session: Session, configs: list[int], which: Any) -> bool:
    """Whether any of ``configs`` holds an imported row with a key ``which`` says of: a
    range of the (serve config, import key) index, read up to its first such key."""
    statement = select(_TABLE.c.import_key).where(_TABLE.c.serve_config_id.in_(configs), which).limit(1)
    return session.execute(statement).first() is not None


_TABLE = Benchmark.__table__  # its columns, not the ORM's attributes: plain rows come back
_HELD = select(_TABLE.c.serve_config_id, _TABLE.c.import_key).where(
    _TABLE.c.serve_config_id.in_(bindparam("configs", expanding=True)),
    _TABLE.c.import_key.in_(bindparam("keys", expanding=True)),
)
_KEYED = _TABLE.c.import_key.is_not(None)
# A key of the old spelling: 64 characters below LEGACY_BELOW, no "-" (hex digits).
_LEGACY = and_(
    _TABLE.c.import_key < LEGACY_BELOW,
    func.length(_TABLE.c.import_key) == 64,
    ~_TABLE.c.import_key.contains("-"),
)
_KEYS_PER_QUERY = 500


def store_smoke_test(
    session: Session, name: str, serve_config_id: int | None, image: str, result: Any, max_tokens: int
) -> int:
    """Store an ``aim-catalog test`` result (``operating.load.LoadResult``) of the deployment
    ``name`` (launched from ``serve_config_id`` with ``image``) as a smoke-test benchmark row
    of that serve config (such rows never rank by default); its id."""
    if serve_config_id is None:
        raise UsageProblem(
            f"{name}'s serve config is no longer in the catalog (its recipe was removed): nothing saved"
        )
    input_len, output_len = result.mean_lengths()
    metrics = {k: v for k, v in result.metrics().items() if v is not None}
    figures = {"input_len": input_len, "output_len": output_len, "concurrency": result.concurrency, **metrics}
    lock_for_write(session)  # first: the lock is taken as the unit's connection begins
    _check_figures(session, serve_config_id, figures, name)
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    row = Benchmark(
        serve_config_id=serve_config_id,
        origin=Origin.SMOKE.value,
        # Kept across re-ingests like an imported row, so it needs a key of its own: an
        # export of it must ingest back (migration 0009 keyed the rows saved before).
        import_key=f"{Origin.SMOKE.value}-{uuid.uuid4().hex}",
        input_len=input_len,
        output_len=output_len,
        concurrency=result.concurrency,
        failed=result.failed,
        source=f"aim-catalog test {name} ({result.completed} request(s), max_tokens {max_tokens})",
        measured_at=moment,
        image=image,
        **metrics,
    )
    session.add(row)
    session.flush()
    return int(row.id)


def _check_figures(session: Session, serve_config_id: int, figures: dict[str, Any], name: str) -> None:
    """Refuse a figure ``recipes.bounds`` says no real run shows (the caller checks first;
    this is the last line before the catalog)."""
    config = session.get(ServeConfig, serve_config_id)
    found = bounds.problems(
        {k: v for k, v in figures.items() if v is not None}, config.gpu_count if config is not None else None
    )
    if found:
        column, why = found[0]
        raise EnvironmentProblem(f"{name} answered with an impossible {column}: {why} (nothing saved)")


MEASURED_COLUMNS = (
    "input_len",
    "output_len",
    "nominal_input_len",
    "nominal_output_len",
    "concurrency",
    "dataset",
    "request_rate",
    "failed",
    "source",
    "measured_at",
    "image",
    "image_digest",
    "server_version",
    "client",
    "gpu_model",
)


def store_measured(session: Session, serve_config_id: int, row: dict[str, Any], name: str) -> int:
    """Store one point ``bench run`` measured on the deployment ``name`` as a ``measured`` row
    of its serve config (``row``: ``MEASURED_COLUMNS`` and metric columns); its id. Such rows
    rank like imported ones; each has a key of its own, so an export ingests back."""
    lock_for_write(session)  # first: the lock is taken as the unit's connection begins
    if session.get(ServeConfig, serve_config_id) is None:
        raise UsageProblem(
            f"{name}'s serve config is no longer in the catalog (its recipe was removed): nothing saved"
        )
    known = {*MEASURED_COLUMNS, *METRIC_FIELDS, *ENERGY_FIELDS}
    unknown = sorted(set(row) - known)
    if unknown:
        raise ValueError(f"not a benchmark column: {', '.join(unknown)}")  # a programming error
    _check_figures(session, serve_config_id, {k: v for k, v in row.items() if not isinstance(v, str)}, name)
    stored = Benchmark(
        serve_config_id=serve_config_id,
        origin=Origin.MEASURED.value,
        import_key=f"{Origin.MEASURED.value}-{uuid.uuid4().hex}",
        **{k: v for k, v in row.items() if v is not None},
    )
    session.add(stored)
    session.flush()
    return int(stored.id)


def measured_concurrencies(
    session: Session, recipe_id: str, backend: str, gpus: int, image: str, input_len: int, output_len: int
) -> set[int]:
    """The concurrencies ``bench run`` measured already (origin ``measured``, no failed
    request) on this serve config and image at these nominal lengths (``bench sweep --resume``)."""
    found = session.execute(
        select(Benchmark.concurrency)
        .join(ServeConfig, ServeConfig.id == Benchmark.serve_config_id)
        .join(Recipe, Recipe.id == ServeConfig.recipe_pk)
        .where(
            Recipe.recipe_id == recipe_id,
            ServeConfig.backend == backend,
            ServeConfig.gpu_count == gpus,
            Benchmark.origin == Origin.MEASURED.value,
            Benchmark.image == image,
            Benchmark.nominal_input_len == input_len,
            Benchmark.nominal_output_len == output_len,
            or_(Benchmark.failed.is_(None), Benchmark.failed == 0),
        )
    )
    return {int(c) for (c,) in found if c is not None}
