"""Benchmark rows in a recipe: an imported row needs its import key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.problems import head, problem_lines
from support.recipes import dedent


def test_an_imported_row_in_a_recipe_needs_its_import_key(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        head()
        + dedent(
            """
            vllm_serve:
              1_gpu:
                enabled: true
                benchmarks:
                  - {output_throughput: 1, origin: import}
                  - {output_throughput: 1, import_key: abc}
            """
        )
    )
    lines = problem_lines(cli("validate", str(path), code=4))
    assert len(lines) == 2 and all("needs an import_key, and only such a row" in line for line in lines), (
        lines
    )
