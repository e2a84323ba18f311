"""``export`` writes only inside --out, all or nothing, keeps imported benchmarks' import keys
across a round trip, and ingests back into an identical catalog.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from support.bench_results import vllm_result, write_json
from support.catalogs import content
from support.mounts import tmpfs
from support.problems import MODEL
from support.services import reset_pg

from aim_catalog.storage import db
from aim_catalog.storage.resources import seed_recipe_dir
from aim_catalog.storage.tables import benchmarks as benchmarks_table

# --------------------------------------------------------------------------- export round trip


def test_export_ingests_into_an_identical_catalog(
    cli: Callable[..., Any], bench_catalog: str, tmp_path: Path, reference_dir: Path
) -> None:
    seed = seed_recipe_dir() / "llama-3-1-70b-fp8-kv-mi300x-fp8-vllm-2025-11.yaml"
    cli("ingest", str(reference_dir), str(seed), db_url=bench_catalog)
    path = write_json(tmp_path / "r.json", vllm_result())
    cli(
        "bench", "import", str(path), "--recipe", "bench-b", "-b", "vllm", "--gpus", "4", db_url=bench_catalog
    )
    out = tmp_path / "exported"
    assert (
        cli("export", "--out", str(out), db_url=bench_catalog).stdout.strip()
        == f"exported 7 recipe(s) to {out}"
    )
    assert cli("validate", str(out)).stdout.strip() == "7 file(s) valid, 7 recipe(s)"
    original = content(bench_catalog)
    # Into an empty catalog of the same dialect.
    if bench_catalog.startswith("postgresql"):
        reset_pg(bench_catalog)
        copy = bench_catalog
    else:
        copy = f"sqlite:///{tmp_path / 'copy.db'}"
    assert cli("ingest", str(out), db_url=copy).stdout.startswith("added 7,")
    copied = content(copy)
    assert len(copied["benchmarks"]) == 5  # 4 published figures + the imported run
    assert copied == original


# --------------------------------------------------------------------------- export


def test_export_onto_a_file_or_proc_says_so_in_one_line(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("keep")
    for out, reason in (
        (a_file, "exists and is not a directory"),
        (Path("/proc"), ""),
        (Path("/proc/x/y"), ""),
    ):
        result = cli("export", "--out", str(out), code=1, db_url=export_catalog)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: cannot export to {out}: "), result.stderr
        assert reason in lines[0] and lines[0].endswith("(nothing was written)")
    assert a_file.read_text() == "keep"


def test_export_on_a_full_disk_leaves_nothing(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path, write_recipe: Callable[..., Path]
) -> None:
    long_source = "s" * 900
    for i in range(40):  # ~40 x 20 KiB of YAML: more than the 256 KiB file system holds
        rows = [
            {"output_throughput": float(n), "concurrency": n + 1, "source": long_source} for n in range(20)
        ]
        write_recipe(
            f"exp-{i:02d}", model=MODEL, configs={"vllm": {1: {"enabled": True, "benchmarks": rows}}}
        )
    cli("ingest", str(tmp_path / "recipes"), db_url=export_catalog)
    with tmpfs(tmp_path / "small", size="256k") as mount:
        for out in (mount / "new-dir", mount):  # a new directory, and into an existing one
            result = cli("export", "--out", str(out), code=1, db_url=export_catalog)
            assert (
                result.stderr.strip()
                == f"error: cannot export to {out}: No space left on device (nothing was written)"
            )
            assert list(mount.iterdir()) == [], list(mount.iterdir())


def test_export_never_writes_outside_out(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path
) -> None:
    engine = db.make_engine(export_catalog)
    with engine.begin() as conn:  # a row another client of a shared catalog wrote
        conn.execute(text("UPDATE recipes SET recipe_id = '../../../escaped'"))
    engine.dispose()
    out = tmp_path / "a" / "b" / "c" / "out"
    result = cli("export", "--out", str(out), code=1, db_url=export_catalog)
    assert result.stderr.strip().startswith(
        "error: the catalog holds recipe_id '../../../escaped', which is not"
    )
    assert not out.exists() and not list(tmp_path.rglob("escaped*"))


def test_export_replaces_a_symlink_in_out_instead_of_following_it(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "exp-a.yaml").symlink_to(victim)
    (out / "unrelated.txt").write_text("stays")
    cli("export", "--out", str(out), db_url=export_catalog)
    assert victim.read_text() == "precious"
    assert not (out / "exp-a.yaml").is_symlink() and "recipe_id: exp-a" in (out / "exp-a.yaml").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["exp-a.yaml", "unrelated.txt"]  # no staging left


def _benchmarks(url: str) -> list[tuple[Any, ...]]:
    engine = db.make_engine(url)
    names = [c.name for c in benchmarks_table.columns if c.name not in ("id", "serve_config_id")]
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {', '.join(names)} FROM benchmarks")).all()
    engine.dispose()
    return sorted((tuple(r) for r in rows), key=repr)


def test_export_round_trip_keeps_import_keys_and_every_column(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path
) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps(vllm_result()))
    target = ("--recipe", "exp-a", "-b", "vllm", "--gpus", "4")
    cli("bench", "import", str(result), *target, db_url=export_catalog)
    engine = db.make_engine(export_catalog)
    with engine.begin() as conn:  # a row with every column set: new columns must round-trip too
        sc = conn.execute(text("SELECT id FROM serve_configs")).scalar()
        values: dict[str, Any] = {"serve_config_id": sc, "origin": "import", "import_key": "k" * 64}
        for column in benchmarks_table.columns:
            if column.name not in values and column.name != "id":
                kind = column.type.python_type
                values[column.name] = 3 if kind is int else 2.5 if kind is float else "x"
        names = ", ".join(values)
        conn.execute(
            text(f"INSERT INTO benchmarks ({names}) VALUES ({', '.join(':' + n for n in values)})"), values
        )
    engine.dispose()
    before = _benchmarks(export_catalog)
    assert sorted(r[0] for r in _origins(export_catalog)) == ["import", "import", "recipe"]
    out = tmp_path / "exported"
    cli("export", "--out", str(out), db_url=export_catalog)
    if export_catalog.startswith("postgresql"):
        reset_pg(export_catalog)
        copy = export_catalog
    else:
        copy = f"sqlite:///{tmp_path / 'copy.db'}"
    cli("ingest", str(out), db_url=copy)
    assert _benchmarks(copy) == before
    again = cli("bench", "import", str(result), *target, db_url=copy)
    assert "imported 0 run(s), 1 already present" in again.stdout, again.stdout
    # A changed recipe file re-ingested keeps exactly one copy of each imported row.
    path = out / "exp-a.yaml"
    path.write_text(path.read_text().replace("enabled: true", "enabled: false"))
    cli("ingest", str(out), db_url=copy)
    assert len(_benchmarks(copy)) == len(before)


def _origins(url: str) -> list[tuple[Any, ...]]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT origin, import_key FROM benchmarks"))]
    engine.dispose()
    return rows
