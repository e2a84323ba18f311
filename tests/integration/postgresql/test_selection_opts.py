"""Numbers on the command line (GPUs, lengths, SLOs, timeouts) are range-checked in one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.problems import MODEL, usage_error


@pytest.mark.parametrize(
    "argv",
    [
        ("select", MODEL, "99999999999999999999"),
        ("select", MODEL, "1", "--input-len", "99999999999999999999"),
        ("explain", MODEL, "1", "--output-len", "3000000000"),
        ("select", MODEL, "1", "--concurrency", "9" * 5000),
        ("select", MODEL, "1", "--max-ttft-ms", "nan"),
        ("explain", MODEL, "1", "--max-e2el-ms", "inf"),
        ("launch", MODEL, "1", "--dry-run", "--timeout", "nan"),
        ("bench", "import", "x.json", "--recipe", "n1", "-b", "vllm", "--gpus", "99999999999999999999"),
    ],
    ids=[
        "gpus",
        "input-len",
        "output-len",
        "5000-digit-concurrency",
        "nan-slo",
        "inf-slo",
        "nan-timeout",
        "bench-gpus",
    ],
)
def test_numbers_on_the_command_line_are_range_checked(
    cli: Callable[..., Any],
    db_url: str,
    write_recipe: Callable[..., Path],
    tmp_path: Path,
    argv: tuple[str, ...],
) -> None:
    write_recipe("n1", model=MODEL)
    cli("ingest", str(tmp_path / "recipes"), db_url=db_url)
    line = usage_error(cli(*argv, code=2, db_url=db_url))
    assert "Invalid value" in line and ("range" in line or "finite" in line or "valid integer" in line), line
