"""Reports out: every format, the views that make common questions one-liners, and the
leaderboard of one scenario naming both images.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.bench_results import vllm_result, write_json

MODEL = "org/bench-model"

# --------------------------------------------------------------------------- reports and SQL


def test_reports_in_every_format(cli: Callable[..., Any], bench_catalog: str, tmp_path: Path) -> None:
    path = write_json(tmp_path / "r.json", vllm_result())
    cli(
        "bench", "import", str(path), "--recipe", "bench-b", "-b", "vllm", "--gpus", "4", db_url=bench_catalog
    )
    coverage = json.loads(cli("report", "coverage", "-f", "json", db_url=bench_catalog).stdout)
    assert coverage == [
        {
            "model": MODEL,
            "precision": "bf16",
            "hardware": "MI300X",
            "backend": "vllm",
            "4 GPU": "enabled",
            "8 GPU": "enabled",
        },
        {
            "model": MODEL,
            "precision": "bf16",
            "hardware": "MI300X",
            "backend": "sglang",
            "4 GPU": "enabled",
            "8 GPU": "",
        },
    ]
    board = cli("report", "leaderboard", "-f", "csv", db_url=bench_catalog).stdout.splitlines()
    assert board[0].startswith("model,precision,hardware,gpu_count,recipe_id,backend,throughput,metric")
    assert board[1].startswith(f"{MODEL},bf16,MI300X,4,bench-b,vllm,1999.4,output_throughput,1024,512,64,")
    assert len(board) == 2
    markdown = cli("report", "benchmarks", "-f", "markdown", db_url=bench_catalog).stdout.splitlines()
    assert markdown[0].startswith("| recipe_id | model |") and markdown[1].startswith("|---|")
    assert "| bench-b |" in markdown[2]
    table = cli("report", "coverage", db_url=bench_catalog).stdout
    assert "4 GPU" in table and "enabled" in table
    assert "unknown report 'nope'" in cli("report", "nope", code=2, db_url=bench_catalog).stderr
    assert (
        "unknown format 'xml'" in cli("report", "coverage", "-f", "xml", code=2, db_url=bench_catalog).stderr
    )


def test_views_make_common_questions_one_liners(bench_catalog: str, cli: Callable[..., Any]) -> None:
    names = (
        "SELECT recipe_id, backend, gpu_count, best_throughput, benchmarks "
        "FROM serve_config_scores ORDER BY 1, 2, 3"
    )
    rows = json.loads(cli("sql", names, "-f", "json", db_url=bench_catalog).stdout)
    assert [(r["recipe_id"], r["backend"], r["gpu_count"], r["benchmarks"]) for r in rows] == [
        ("bench-a", "sglang", 4, 0),
        ("bench-a", "vllm", 4, 0),
        ("bench-b", "vllm", 4, 0),
        ("bench-b", "vllm", 8, 0),
    ]


# --------------------------------------------------------------------------- the views agree


def test_the_leaderboard_ranks_one_scenario_and_names_both_images(
    cli: Callable[..., Any], workloads: str
) -> None:
    board = json.loads(cli("report", "leaderboard", "-f", "json", db_url=workloads).stdout)
    by_gpus = {entry["gpu_count"]: entry for entry in board}
    assert set(by_gpus) == {4, 8}
    for gpus, entry in by_gpus.items():
        chosen = json.loads(
            cli(
                "select", "org/w", str(gpus), "-b", "any", "--hardware", "any", "--json", db_url=workloads
            ).stdout
        )
        assert (entry["recipe_id"], entry["backend"], entry["throughput"]) == (
            chosen["recipe_id"],
            chosen["backend"],
            chosen["score"],
        )
        assert (entry["scenario_input_len"], entry["scenario_output_len"]) == (1024, 1024)
    assert by_gpus[4]["backend"] == "sglang"  # not vLLM's 9,000 of the 1024/128 workload
    entry = by_gpus[4]
    assert (entry["request_rate"], entry["failed"], entry["benchmark_image"], entry["config_image"]) == (
        None,
        0,
        None,
        None,
    )
