"""Control characters in a recipe are refused with file, line and field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.problems import head, problem_lines, tables_with_rows

# --------------------------------------------------------------------------- strings


@pytest.mark.parametrize(
    ("body", "line_no", "field"),
    [
        ('    image: "rocm/vllm:x\\0"\n', 9, "vllm_serve.1_gpu.image"),
        ('    env: {VLLM_X: "a\\0b"}\n', 9, "vllm_serve.1_gpu.env.VLLM_X"),
        ('    args: {--served-model-name: "x\\e[31m"}\n', 9, "vllm_serve.1_gpu.args.--served-model-name"),
        (
            '    benchmarks:\n      - {output_throughput: 1, source: "a\\0"}\n',
            10,
            "vllm_serve.1_gpu.benchmarks[0].source",
        ),
        (
            '    benchmarks:\n      - {output_throughput: 1, measured_at: "\\x9b2J"}\n',
            10,
            "vllm_serve.1_gpu.benchmarks[0].measured_at",
        ),
    ],
    ids=["nul-image", "nul-env", "esc-arg", "nul-source", "csi-measured-at"],
)
def test_control_characters_are_refused_with_file_line_and_field(
    cli: Callable[..., Any], db_url: str, tmp_path: Path, body: str, line_no: int, field: str
) -> None:
    path = tmp_path / "ctl.yaml"
    path.write_text(head() + "vllm_serve:\n  1_gpu:\n    enabled: true\n" + body)
    result = cli("ingest", str(path), code=4, db_url=db_url)
    (line,) = problem_lines(result)
    assert line.startswith(f"{path}:{line_no}:") and f" {field}: " in line, line
    assert "control character U+00" in line and "\x1b" not in result.stderr and "\x00" not in result.stderr
    assert "recipes" not in tables_with_rows(db_url)
