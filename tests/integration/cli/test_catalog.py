"""Catalog commands as users meet them: ``show-configurations``, ``validate`` without a database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def test_show_configurations_prints_the_seed_format(cli: Callable[..., Any]) -> None:
    result = cli("show-configurations", "Qwen/Qwen3-32B")
    assert result.stdout.splitlines() == [
        "Qwen/Qwen3-32B supported configurations:",
        "- 1 GPU, bf16, vLLM: ✅ Enabled",
        "- 2 GPU, bf16, vLLM: ✅ Enabled",
        "- 4 GPU, bf16, vLLM: ✅ Enabled",
        "- 8 GPU, bf16, vLLM: ✅ Enabled",
        "- 1 GPU, bf16, sglang: ✅ Enabled",
        "- 2 GPU, bf16, sglang: ✅ Enabled",
        "- 4 GPU, bf16, sglang: ✅ Enabled",
        "- 8 GPU, bf16, sglang: ✅ Enabled",
    ]
    missing = cli("show-configurations", "nobody/none", code=3)
    assert "No recipe found for nobody/none" in missing.stderr


def test_validate_needs_no_database(
    cli: Callable[..., Any], reference_dir: Path, write_recipe: Callable[..., Path]
) -> None:
    env = {"AIM_CATALOG_DB_URL": "postgresql://nobody:secret@127.0.0.1:1/none"}
    assert cli("validate", str(reference_dir), env=env).stdout.strip() == "4 file(s) valid, 4 recipe(s)"
    bad = write_recipe("bad", text_="recipe_id: bad\nrecipe_id: again\n")
    result = cli("validate", str(bad), code=4)
    assert f"{bad.resolve()}:2:1: duplicate key 'recipe_id' (first defined on line 1)" in result.stderr
    missing = cli("validate", "/no/such/dir", code=4)
    assert "/no/such/dir: no such file or directory" in missing.stderr
