"""`bench import` with the default catalog: InferenceX rows matched to the MTP recipes, a run
that fits several configs, a huge integer refused without quoting it. Result shapes are the
writers' own (``support/bench_results.py`` names each source).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support import bench_results as fx
from support.bench_results import benchmark_rows, dsr1
from support.problems import head, problem_lines

from aim_catalog.settings import default_db_url

# --------------------------------------------------------------------------- bundled catalog


def test_inferencex_rows_go_to_the_mtp_recipe_and_unmatched_rows_are_skipped(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    qwen = fx.inferencex_agg(model="Qwen/Qwen3-32B", precision="bf16", tp=8)  # no MI355X Qwen3-32B recipe
    path = tmp_path / "agg_bmk.json"
    path.write_text(json.dumps([dsr1("none"), dsr1("mtp", tput_per_gpu=2600.0), qwen], indent=2))
    out = cli("bench", "import", str(path))
    assert "imported 2 run(s)" in out.stdout, out
    (skip,) = [line for line in out.stderr.splitlines() if "skipped" in line]
    assert "[element 2] skipped: no serve config matches (model Qwen/Qwen3-32B" in skip
    stored = {r["recipe_id"]: r["total_token_throughput"] for r in _imported(default_db_url())}
    assert stored == {
        "deepseek-r1-0528-mi355x-fp8": 16000.0,
        "deepseek-r1-0528-mi355x-fp8-mtp": 20800.0,
    }


def test_a_single_run_that_fits_several_configs_is_still_an_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    old = dsr1("none")
    del old["spec_decoding"]  # files before the key: plain and MTP recipes both fit
    path = tmp_path / "agg_run.json"
    path.write_text(json.dumps(old))
    err = cli("bench", "import", str(path), code=4).stderr
    assert "2 serve configs match" in err
    assert "deepseek-r1-0528-mi355x-fp8/sglang/8 GPU; deepseek-r1-0528-mi355x-fp8-mtp/sglang/8 GPU" in err
    assert _imported(default_db_url()) == []


def _imported(url: str) -> list[dict[str, Any]]:
    """Rows `bench import` added (not the bundled InferenceX measurements: ``ix-`` keys)."""
    rows = benchmark_rows(url)
    return [r for r in rows if r["origin"] == "import" and not r["import_key"].startswith("ix-")]


def test_an_mtp_row_is_not_stored_under_a_plain_recipe(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "agg_run.json"
    path.write_text(json.dumps(dsr1("mtp")))
    err = cli("bench", "import", str(path), "--recipe", "deepseek-r1-0528-mi355x-fp8", code=4).stderr
    assert (
        "spec_decoding: the file says spec_decoding mtp, but --recipe deepseek-r1-0528-mi355x-fp8 is a" in err
    )
    cli("bench", "import", str(path), "--recipe", "deepseek-r1-0528-mi355x-fp8-mtp", "-b", "sglang")


def test_a_5000_digit_integer_is_refused_without_quoting_it(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(
        head() + "vllm_serve:\n  1_gpu:\n    enabled: true\n    args: {--max-model-len: " + "7" * 5000 + "}\n"
    )
    (line,) = problem_lines(cli("validate", str(path), code=4))
    assert line.startswith(f"{path}:9:") and "bad int value" in line and len(line) < 300, line
