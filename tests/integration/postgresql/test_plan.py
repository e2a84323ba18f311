"""``launch --gpus`` indexes are range-checked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.problems import MODEL


def test_launch_gpu_indexes_are_range_checked(
    cli: Callable[..., Any], db_url: str, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    write_recipe("n1", model=MODEL)
    cli("ingest", str(tmp_path / "recipes"), db_url=db_url)
    for value in ("99999999999999999999", "0," + "9" * 5000):
        result = cli("launch", MODEL, "1", "--dry-run", "--gpus", value, code=2, db_url=db_url)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: --gpus takes"), result.stderr
        assert len(lines[0]) < 200  # the value is quoted cut short
