"""Flag lint: server flags checked against the option names of the version in each config's
image (data/flags.json: every recorded vLLM, SGLang and ATOM version, as
scripts/gen_flag_lists.py read them from each tool's own argument definitions)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any


def test_original_aim_engine_recipes_warn_and_fail_strict(
    cli: Callable[..., Any], reference_dir: Path, tmp_path: Path, db_url: str
) -> None:
    """The original AIM Engine files put vLLM flags in SGLang sections: a warning with the
    file, line and field; --strict makes it an error and nothing is written."""
    original = reference_dir / "qwen3-32b-mi300x-bf16.yaml"
    result = cli("validate", str(original))
    line = next(x for x in result.stderr.splitlines() if "--gpu-memory-utilization" in x)
    assert (
        f"{original.resolve()}:" in line
        and "sglang_serve." in line
        and "vLLM flag in an SGLang section" in line
    )
    assert "valid" in result.stdout
    strict = cli("validate", "--strict", str(original), code=4)
    assert "--gpu-memory-utilization" in strict.stderr
    copy = tmp_path / "recipes"
    copy.mkdir()
    shutil.copy(original, copy)
    cli("--db", db_url, "ingest", "--strict", str(copy), code=4)
    listed = json.loads(cli("--db", db_url, "list-recipes", "--json").stdout)
    assert listed == []
    cli("--db", db_url, "ingest", str(copy))  # without --strict: warned, written
    assert [r["recipe_id"] for r in json.loads(cli("--db", db_url, "list-recipes", "--json").stdout)] == [
        "qwen3-32b-mi300x-bf16"
    ]
