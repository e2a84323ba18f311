"""The bundled catalog: what fills a default catalog a migration has just created.

Storage imports no recipe code: the API hands ``seed_catalog`` to its ``Store`` as the
hook of a new default catalog, and ``storage.db`` calls it inside the migration's
transaction, so a new catalog is created and filled in one commit.

Besides the recipes, the bundle holds measured benchmark rows of their serve configs
(``seed_recipes/measurements/*.json``, written by ``scripts/gen_inferencex_measurements.py``
from real InferenceX results, each row with its source). They are plain ``benchmarks``
rows: imported rows (``origin: import`` with an ``import_key``), checked as a recipe's rows
are (types, then ``bounds``), written after the recipes. The recipe loader does not read
the subfolder's JSON (it reads YAML only).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from aim_catalog.errors import EnvironmentProblem, Problem
from aim_catalog.storage.resources import seed_measurement_files, seed_recipe_dir

_TARGET = ("recipe_id", "backend", "gpu_count")  # the serve config a bundled row belongs to


def seed_catalog(connection: Connection, *, measurements: bool = True) -> None:
    """Ingest the bundled recipes, then their bundled measurements, into the catalog being
    created on ``connection``. ``measurements=False``: the recipes only (the measurements
    need the columns of migration 0010; tests of older migrations seed without them)."""
    from sqlalchemy.orm import Session

    from aim_catalog.recipes.files import load_recipes
    from aim_catalog.recipes.ingest import ingest

    recipes, problems, _ = load_recipes([seed_recipe_dir()])
    if problems:  # pragma: no cover - the bundled recipes are tested
        raise EnvironmentProblem("bundled seed recipes are invalid:\n" + "\n".join(map(str, problems)))
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        ingest(session, recipes)
        if measurements:
            load_measurements(session, seed_measurement_files())
        session.commit()  # releases the savepoint; the migration's transaction commits it


def load_measurements(session: Any, paths: Iterable[Path]) -> int:
    """Write the bundled benchmark rows of ``paths`` (JSON arrays) into their serve configs,
    skipping rows already there (same config and import key); how many rows were offered.
    A row that fails a check makes the bundle invalid (``EnvironmentProblem``, every problem
    listed): the bundled rows are tested, so that is a broken installation, not user input."""
    from aim_catalog.storage.dialects import insert_missing
    from aim_catalog.storage.models import Benchmark, Recipe, ServeConfig

    configs = {
        (recipe_id, backend, gpus): config_id
        for config_id, recipe_id, backend, gpus in session.execute(
            Recipe.__table__.join(ServeConfig.__table__, ServeConfig.recipe_pk == Recipe.id)
            .select()
            .with_only_columns(ServeConfig.id, Recipe.recipe_id, ServeConfig.backend, ServeConfig.gpu_count)
        )
    }
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for path in paths:
        found, bad = checked_rows(_read(path), str(path), configs)
        rows += found
        problems += bad
    if problems:
        raise EnvironmentProblem("bundled measurements are invalid:\n" + "\n".join(map(str, problems)))
    # Every row names the same columns (an executemany needs that): the ones any row has, so
    # a catalog at an older revision without the newest columns is seeded all the same.
    defaults = dict.fromkeys(sorted({key for row in rows for key in row}))
    insert_missing(
        session,
        Benchmark.__table__,
        [{**defaults, **row} for row in rows],
        key=["serve_config_id", "import_key"],
    )
    return len(rows)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EnvironmentProblem(f"{path}: bundled measurements cannot be read: {exc}") from exc


def checked_rows(
    data: Any, path: str, configs: dict[tuple[str, str, int], int]
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The rows of one bundled measurements file as ``benchmarks`` rows (``serve_config_id``
    in place of the target), and one problem per row that cannot be stored: not an object,
    no such serve config, a field a recipe's row may not carry or out of its type's bounds,
    a figure ``bounds`` says is not real, not an imported row, or a key given twice."""
    from aim_catalog.recipes import bounds
    from aim_catalog.recipes.bench_rows import benchmark_row
    from aim_catalog.recipes.checker import Checker

    if not isinstance(data, list):
        return [], [Problem(path, 1, 1, "", "must be a JSON array of benchmark rows")]
    out: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: set[tuple[int, str]] = set()
    for index, item in enumerate(data):
        at = f"[element {index}] "

        def bad(key: str, message: str, at: str = at, found: list[Problem] = problems) -> None:
            found.append(Problem(path, 1, 1, key, at + message))

        if not isinstance(item, dict):
            bad("", "must be an object")
            continue
        target = tuple(item.get(k) for k in _TARGET)
        config = configs.get(target)  # type: ignore[arg-type]
        if config is None:
            bad("recipe_id", "no serve config {}/{}/{} GPU in the bundled recipes".format(*target))
            continue
        ck = Checker(path, {})
        row = benchmark_row(ck, {k: v for k, v in item.items() if k not in _TARGET}, ())
        problems += [Problem(path, 1, 1, p.field, at + p.message) for p in ck.problems]
        if row is None:
            continue
        if row.get("origin") != "import":
            bad("origin", "a bundled measurement is an imported row (origin 'import' with an import_key)")
            continue
        impossible = bounds.problems(row, target[2])
        for column, why in impossible:
            bad(column, why)
        if impossible:
            continue
        key = (config, str(row["import_key"]))
        if key in seen:
            bad("import_key", f"{row['import_key']} given twice for {'/'.join(map(str, target))}")
            continue
        seen.add(key)
        out.append({**row, "serve_config_id": config})
    return out, problems


def bundled_rows(paths: Sequence[Path] | None = None) -> list[dict[str, Any]]:
    """The bundled measurement rows as written (for tests and reports)."""
    rows: list[dict[str, Any]] = []
    for path in seed_measurement_files() if paths is None else paths:
        data = _read(path)
        rows += data if isinstance(data, list) else []
    return rows
