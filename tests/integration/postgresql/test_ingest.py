"""Ingest: atomic, idempotent, updates in place, prunes, and leaves the catalog alone on errors."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from support.catalogs import BIN, WAITING, ingest_process, recipes_in, write_lock_held

from aim_catalog.recipes.files import load_recipes
from aim_catalog.recipes.ingest import ingest
from aim_catalog.storage import db
from aim_catalog.storage.models import Benchmark, Recipe, ServeConfig
from aim_catalog.storage.resources import seed_recipe_dir


def run_ingest(engine: Engine, *paths: Path, prune: bool = False, now: datetime | None = None) -> Any:
    recipes, problems, _ = load_recipes(paths)
    assert problems == []
    with db.session_factory(engine).begin() as session:
        return ingest(session, recipes, prune_dirs=[p for p in paths if p.is_dir()] if prune else [], now=now)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every catalog table, to prove a failed command changed nothing."""
    with engine.connect() as conn:
        return {
            table: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY id"))]
            for table in ("recipes", "serve_configs", "benchmarks")
        }


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_reference_recipes_ingest_unchanged(engine: Engine, reference_dir: Path) -> None:
    report = run_ingest(engine, reference_dir)
    assert sorted(report.added) == sorted(p.stem for p in reference_dir.glob("*.yaml"))
    with Session(engine) as s:
        qwen = s.scalars(select(Recipe).where(Recipe.recipe_id == "qwen3-32b-mi300x-bf16")).one()
        assert qwen.huggingface_id == "Qwen/Qwen3-32B"
        assert len(qwen.serve_configs) == 8
        four = next(c for c in qwen.serve_configs if c.backend == "vllm" and c.gpu_count == 4)
        assert four.args["--tensor-parallel-size"] == "4"
        assert four.args["--trust-remote-code"] == "true"
        assert qwen.document["vllm_serve"]["4_gpu"]["enabled"] is True
        deepseek = s.scalars(select(Recipe).where(Recipe.recipe_id.startswith("deepseek"))).one()
        one = next(c for c in deepseek.serve_configs if c.gpu_count == 1 and c.backend == "vllm")
        assert one.enabled is False


def test_seed_recipes_ingest_with_their_published_numbers(engine: Engine) -> None:
    run_ingest(engine, seed_recipe_dir())
    with Session(engine) as s:
        rows = s.execute(
            select(
                Recipe.recipe_id,
                Benchmark.total_token_throughput,
                Benchmark.source,
                Benchmark.image,
            )
            .join(ServeConfig, ServeConfig.recipe_pk == Recipe.id)
            .join(Benchmark, Benchmark.serve_config_id == ServeConfig.id)
            .where(Benchmark.input_len == 128, Benchmark.output_len == 2048)
        ).all()
    by_id = {r.recipe_id: r for r in rows}
    # Figures from the AMD performance results table in shared/reference.
    assert by_id["llama-3-1-70b-fp8-kv-mi300x-fp8-vllm-2025-11"].total_token_throughput == 13279.6
    assert by_id["llama-3-1-405b-fp8-kv-mi300x-fp8-vllm-2025-06"].total_token_throughput == 4275.0
    assert all(r.source and "AMD" in r.source for r in rows)
    assert by_id["llama-3-1-70b-fp8-kv-mi300x-fp8-vllm-2025-06"].image.endswith("20250605")


def test_reingest_is_idempotent_and_touches_no_timestamp(
    engine: Engine, write_recipe: Callable[..., Path]
) -> None:
    path = write_recipe(
        "a", configs={"vllm": {1: {"enabled": True, "benchmarks": [{"output_throughput": 10}]}}}
    )
    first = run_ingest(engine, path.parent, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    before = snapshot(engine)
    again = run_ingest(engine, path.parent, now=datetime(2026, 6, 1, tzinfo=timezone.utc))
    assert (first.added, again.added, again.unchanged, again.updated) == (["a"], [], ["a"], [])
    assert snapshot(engine) == before


def test_changed_file_updates_in_place(engine: Engine, write_recipe: Callable[..., Path]) -> None:
    configs = {
        "vllm": {
            1: {"enabled": True, "benchmarks": [{"output_throughput": 10.0}]},
            2: {"enabled": True, "args": {"--tensor-parallel-size": "2"}},
        }
    }
    path = write_recipe("a", configs=configs)
    run_ingest(engine, path.parent, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    with Session(engine) as s:
        old_ids = {c.gpu_count: c.id for c in s.scalars(select(ServeConfig))}
    configs["vllm"][1] = {
        "enabled": False,
        "benchmarks": [{"output_throughput": 20.0}, {"output_throughput": 5.0}],
    }
    del configs["vllm"][2]
    write_recipe("a", configs=configs)
    report = run_ingest(engine, path.parent, now=datetime(2026, 2, 1, tzinfo=timezone.utc))
    assert report.updated == ["a"]
    with Session(engine) as s:
        recipe = s.scalars(select(Recipe)).one()
        assert recipe.created_at.replace(tzinfo=None) == datetime(2026, 1, 1)
        assert recipe.updated_at.replace(tzinfo=None) == datetime(2026, 2, 1)
        (config,) = recipe.serve_configs
        assert config.id == old_ids[1]  # same row, updated
        assert config.enabled is False
        assert sorted(b.output_throughput for b in config.benchmarks) == [5.0, 20.0]
    assert count(engine, "serve_configs") == 1  # the 2-GPU config left with the file


def test_prune_removes_recipes_whose_files_are_gone(
    engine: Engine, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    keep = write_recipe("keep")
    gone = write_recipe("gone")
    elsewhere = write_recipe("elsewhere", directory=tmp_path / "elsewhere")
    run_ingest(engine, keep.parent, elsewhere.parent)
    gone.unlink()
    report = run_ingest(engine, keep.parent, prune=True)
    assert report.removed == ["gone"]
    assert report.unchanged == ["keep"]
    with Session(engine) as s:
        assert sorted(s.scalars(select(Recipe.recipe_id))) == ["elsewhere", "keep"]
    assert count(engine, "serve_configs") == 2  # the cascade took the pruned recipe's config


def test_prune_does_not_match_sibling_directories_by_prefix(
    engine: Engine, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    write_recipe("a1", directory=tmp_path / "a")
    write_recipe("ab1", directory=tmp_path / "a_b")  # "_" must not act as a LIKE wildcard
    run_ingest(engine, tmp_path / "a", tmp_path / "a_b")
    (tmp_path / "a" / "a1.yaml").unlink()
    write_recipe("a2", directory=tmp_path / "a")
    report = run_ingest(engine, tmp_path / "a", prune=True)
    assert report.removed == ["a1"]
    with Session(engine) as s:
        assert sorted(s.scalars(select(Recipe.recipe_id))) == ["a2", "ab1"]


def test_dry_run_rolls_back(engine: Engine, write_recipe: Callable[..., Path]) -> None:
    path = write_recipe("a")
    recipes, _, _ = load_recipes([path])
    with db.session_factory(engine)() as session:
        report = ingest(session, recipes)
        session.rollback()
    assert report.added == ["a"]
    assert count(engine, "recipes") == 0


def test_moved_file_updates_the_source_path(
    engine: Engine, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_recipe("a")
    run_ingest(engine, path)
    moved = tmp_path / "moved.yaml"
    path.rename(moved)
    report = run_ingest(engine, moved)
    assert report.updated == ["a"]
    with Session(engine) as s:
        assert s.scalars(select(Recipe.source_path)).one() == str(moved.resolve())


def test_large_batch_ingests_in_bulk(
    engine: Engine, tmp_path: Path, write_recipe: Callable[..., Path]
) -> None:
    # More recipes than one IN (...) chunk, so the chunked paths run.
    for i in range(1100):
        write_recipe(
            f"r{i:04d}",
            configs={"vllm": {1: {"enabled": True, "benchmarks": [{"output_throughput": i}]}}},
        )
    report = run_ingest(engine, tmp_path / "recipes")
    assert len(report.added) == 1100
    assert count(engine, "benchmarks") == 1100
    (tmp_path / "recipes" / "r0000.yaml").unlink()
    report = run_ingest(engine, tmp_path / "recipes", prune=True)
    assert (len(report.unchanged), report.removed) == (1099, ["r0000"])


def test_list_recipes_json_is_one_object_per_recipe(
    cli: Callable[..., Any], db_url: str, reference_dir: Path
) -> None:
    cli("ingest", str(reference_dir), db_url=db_url)
    data = json.loads(cli("list-recipes", "--json", db_url=db_url).stdout)
    assert isinstance(data, list)
    assert sorted(r["recipe_id"] for r in data) == sorted(p.stem for p in reference_dir.glob("*.yaml"))
    qwen = next(r for r in data if r["recipe_id"] == "qwen3-32b-mi300x-bf16")
    assert qwen["huggingface_id"] == "Qwen/Qwen3-32B" and len(qwen["configs"]) == 8
    only = json.loads(cli("list-recipes", "--model", "Qwen/Qwen3-32B", "--json", db_url=db_url).stdout)
    assert [r["recipe_id"] for r in only] == ["qwen3-32b-mi300x-bf16"]
    table = cli("list-recipes", db_url=db_url).stdout
    assert "qwen3-32b-mi300x-bf16" in table and "vLLM:1,2,4,8" in table


def test_ingest_summary_and_idempotence(cli: Callable[..., Any], db_url: str, reference_dir: Path) -> None:
    assert (
        cli("ingest", str(reference_dir), db_url=db_url).stdout.strip()
        == "added 4, updated 0, unchanged 0, removed 0"
    )
    assert (
        cli("ingest", str(reference_dir), db_url=db_url).stdout.strip()
        == "added 0, updated 0, unchanged 4, removed 0"
    )


def test_ingest_is_atomic_on_invalid_input(
    cli: Callable[..., Any],
    db_url: str,
    write_recipe: Callable[..., Path],
    engine_for: Callable[[str], Engine],
) -> None:
    first = write_recipe("first")
    cli("ingest", str(first), db_url=db_url)
    before = rows(engine_for(db_url))
    write_recipe("second")
    write_recipe("broken", text_="recipe_id: broken\nmodel_id: x\nvllm_serve:\n  4_gpu: {args: {}}\n")
    write_recipe("worse", text_="a: &x 1\nb: *x\n")
    result = cli("ingest", str(first.parent), "--prune", db_url=db_url, code=4)
    assert "broken.yaml:1:1: missing required field 'huggingface_id'" in result.stderr
    assert "broken.yaml:4:3: vllm_serve.4_gpu: missing required field 'enabled'" in result.stderr
    assert "worse.yaml:1:4: YAML anchors/aliases are not allowed" in result.stderr
    assert rows(engine_for(db_url)) == before


def test_ingest_dry_run_writes_nothing(cli: Callable[..., Any], db_url: str, reference_dir: Path) -> None:
    out = cli("ingest", str(reference_dir), "--dry-run", db_url=db_url).stdout
    assert out.strip() == "added 4, updated 0, unchanged 0, removed 0 (dry run: nothing written)"
    if db_url.startswith("sqlite"):  # not even a file: a read command does not create one
        assert "no catalog at" in cli("list-recipes", "--json", db_url=db_url, code=1).stderr
    else:
        assert json.loads(cli("list-recipes", "--json", db_url=db_url).stdout) == []


def rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
            for t in ("recipes", "serve_configs", "benchmarks")
        }


@pytest.fixture
def engine_for() -> Any:
    from aim_catalog.storage import db

    engines: list[Engine] = []

    def make(url: str) -> Engine:
        engines.append(db.make_engine(url))
        return engines[-1]

    yield make
    for e in engines:
        e.dispose()


def test_two_ingest_processes_at_once(
    db_url: str,
    proc_env: dict[str, str],
    tmp_path: Path,
    write_recipe: Callable[..., Path],
    engine_for: Callable[[str], Engine],
) -> None:
    for i in range(300):
        write_recipe(
            f"c{i:03d}",
            configs={"vllm": {1: {"enabled": True, "benchmarks": [{"output_throughput": i}]}}},
        )
    argv = (str(BIN / "aim-catalog"), "--db", db_url, "ingest", str(tmp_path / "recipes"))
    procs = [
        subprocess.Popen(argv, env=proc_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    summaries = sorted(out.strip() for out, _ in outputs)
    assert summaries == [
        "added 0, updated 0, unchanged 300, removed 0",
        "added 300, updated 0, unchanged 0, removed 0",
    ]
    engine = engine_for(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), count(DISTINCT recipe_id) FROM recipes")).one() == (
            300,
            300,
        )
        assert conn.execute(text("SELECT count(*) FROM benchmarks")).scalar() == 300
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


def test_recipes_are_parsed_and_checked_before_the_write_lock(
    engine: Engine, db_url: str, proc_env: dict[str, str], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    write_recipe("bad", text_="recipe_id: bad\n")  # invalid: reported without waiting for the lock
    with write_lock_held(db_url):
        proc = ingest_process(db_url, tmp_path / "recipes", proc_env)
        try:
            _, err = proc.communicate(timeout=30)  # the old code waited for the lock first
        finally:
            proc.kill()
    assert proc.returncode == 4, err
    assert "missing required field 'model_id'" in err and WAITING not in err


def test_rows_another_writer_changed_between_read_and_lock_are_parsed_then(
    engine: Engine, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    """Ingest reads what the catalog knows, parses without the lock, then locks: a file it
    skipped as unchanged whose row another writer removed meanwhile is parsed under the lock."""
    from sqlalchemy.orm import Session

    from aim_catalog.recipes.files import expand_paths, load_files
    from aim_catalog.recipes.ingest import ingest_files

    write_recipe("keep")
    write_recipe("gone")
    files, _ = expand_paths([tmp_path / "recipes"])
    with Session(engine) as session:
        ingest_files(session, files)
        session.commit()
    calls: list[list[str]] = []

    def load(paths: Any, known: Any) -> Any:
        calls.append(sorted(Path(p).name for p in paths))
        if len(calls) == 1:  # another writer, while this one parses without the lock
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM recipes WHERE recipe_id = 'gone'"))
        return load_files(paths, known=known)

    with Session(engine) as session:
        report = ingest_files(session, files, load=load)
        session.commit()
    assert calls == [["gone.yaml", "keep.yaml"], ["gone.yaml"]]
    assert (report.added, report.unchanged) == (["gone"], ["keep"])
    assert recipes_in(engine.url.render_as_string(hide_password=False)) == 2
