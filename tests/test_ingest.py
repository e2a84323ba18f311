"""Ingest: atomic, idempotent, updates in place, prunes, and leaves the catalog alone on errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

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


def test_an_invalid_file_is_reported_beside_the_valid_ones(
    write_recipe: Callable[..., Path],
) -> None:
    good = write_recipe("good")
    write_recipe("bad", text_="recipe_id: bad\nprecision: [\n")
    _, problems, files = load_recipes([good.parent])
    assert files == 2 and len(problems) == 1
    assert problems[0].path.endswith("bad.yaml") and problems[0].line == 3


def test_duplicate_recipe_id_across_files_is_reported_with_both_places(
    write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    first = write_recipe("dup")
    write_recipe("dup", directory=tmp_path / "other")
    _, problems, _ = load_recipes([first.parent, tmp_path / "other"])
    (problem,) = problems
    assert problem.field == "recipe_id" and "duplicate recipe_id 'dup'" in problem.message
    assert str(first) in problem.message or str(first) in problem.path


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


@pytest.mark.parametrize("secret_name", ["HF_TOKEN", "MY_API_KEY", "DB_PASSWORD"])
def test_secrets_in_recipe_env_are_refused(write_recipe: Callable[..., Path], secret_name: str) -> None:
    path = write_recipe("s", configs={"vllm": {1: {"enabled": True, "env": {secret_name: "hunter2"}}}})
    recipes, problems, _ = load_recipes([path])
    assert recipes == []
    assert "looks like a secret" in problems[0].message
    assert "hunter2" not in str(problems[0])


def test_unchanged_files_are_not_parsed_again(
    write_recipe: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-ingest reads and hashes files but parses only new or changed ones (the CLI path)."""
    from typer.testing import CliRunner

    import aim_catalog.recipes.files as recipe_module
    from aim_catalog.cli import app

    for i in range(5):
        write_recipe(f"p{i}")
    parsed: list[str] = []
    real = recipe_module.parse_bytes

    def counting(data: bytes, path: str) -> Any:
        parsed.append(Path(path).name)
        return real(data, path)

    monkeypatch.setattr(recipe_module, "parse_bytes", counting)
    url = f"sqlite:///{tmp_path / 'c.db'}"

    def ingest_cli(*extra: str) -> str:
        result = CliRunner().invoke(app, ["--db", url, "ingest", str(tmp_path / "recipes"), *extra])
        assert result.exit_code == 0, result.stderr
        return result.stdout.strip()

    assert ingest_cli() == "added 5, updated 0, unchanged 0, removed 0"
    assert len(parsed) == 5
    parsed.clear()
    write_recipe("p1", configs={"vllm": {2: {"enabled": True}}})  # changed
    (tmp_path / "recipes" / "p4.yaml").unlink()
    assert ingest_cli("--prune") == "added 0, updated 1, unchanged 3, removed 1"
    assert parsed == ["p1.yaml"]
