"""Ingest: atomic, idempotent, updates in place, prunes, and leaves the catalog alone on errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aim_catalog.storage.resources import seed_recipe_dir


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


def test_a_recipe_id_belongs_to_one_file_while_it_exists(
    cli: Callable[..., Any], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    first = write_recipe("shared-id", directory=tmp_path / "a")
    second = write_recipe("shared-id", directory=tmp_path / "b")
    cli("--db", url, "ingest", str(first.parent))
    result = cli("--db", url, "ingest", str(second.parent), code=4)
    assert f"is already in the catalog from {first.resolve()}, which still exists" in result.stderr
    first.unlink()  # now the id can move
    assert cli("--db", url, "ingest", str(second.parent)).stdout.startswith("added 0, updated 1")


def test_a_users_file_replaces_a_bundled_seed_recipe(cli: Callable[..., Any], reference_dir: Path) -> None:
    cli("list-recipes")  # creates and seeds the default catalog
    out = cli("ingest", str(reference_dir / "qwen3-32b-mi300x-bf16.yaml")).stdout
    assert out.strip() == "added 0, updated 1, unchanged 0, removed 0"
    (qwen,) = json.loads(cli("list-recipes", "--model", "Qwen/Qwen3-32B", "--json").stdout)
    assert qwen["source_path"] == str(reference_dir / "qwen3-32b-mi300x-bf16.yaml")
    assert str(seed_recipe_dir()) not in qwen["source_path"]


def test_dry_run_ingest_creates_no_catalog(
    cli: Callable[..., Any], reference_dir: Path, tmp_path: Path
) -> None:
    out = cli("ingest", str(reference_dir), "--dry-run").stdout
    assert out.strip() == "added 4, updated 0, unchanged 0, removed 0 (dry run: nothing written)"
    assert not (tmp_path / "data" / "aim-catalog").exists()
