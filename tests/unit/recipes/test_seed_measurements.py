"""The bundled measurements (seed_recipes/measurements/inferencex.json) are what
scripts/gen_inferencex_measurements.py makes of the real InferenceX results in
../shared/reference/inferencex-results: regenerated here and compared byte for byte, every
row belongs to a bundled serve config and passes the checks a recipe's row passes, and bad
input is left out one line per row."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support.paths import REPO, SHARED
from support.seed import bundled

from aim_catalog.recipes.seed import bundled_rows, checked_rows
from aim_catalog.storage.resources import seed_measurement_files, seed_recipe_dir

RESULTS = SHARED / "reference" / "inferencex-results"
RUN = "run_20609406656.agg_bmk.json"  # DSR1 fp8 SGLang TP8 on MI300X/MI325X/MI355X

# Rows per serve config and dialect, as the research for issue 19 counted them by hand
# (165 agg + 89 API: the 90th AMD API row, ATOM fp4 MTP TP4, has no bundled config).
EXPECTED = {
    ("deepseek-r1-0528-mi300x-fp8", "sglang", 8): 30,
    ("deepseek-r1-0528-mi325x-fp8", "sglang", 8): 24,
    ("deepseek-r1-0528-mi325x-fp8-mtp", "sglang", 8): 6,
    ("deepseek-r1-0528-mi355x-fp8", "sglang", 8): 24,
    ("deepseek-r1-0528-mi355x-fp8", "atom", 8): 6,
    ("deepseek-r1-0528-mi355x-fp8-mtp", "sglang", 8): 6,
    ("deepseek-r1-0528-mi355x-fp8-mtp", "atom", 8): 9,
    ("deepseek-r1-0528-mxfp4-preview-mi355x-mxfp4", "sglang", 4): 34,
    ("deepseek-r1-0528-mxfp4-preview-mi355x-mxfp4", "sglang", 8): 97,
    ("deepseek-r1-0528-mxfp4-preview-mi355x-mxfp4", "atom", 4): 4,
    ("deepseek-r1-0528-mxfp4-preview-mi355x-mxfp4", "atom", 8): 4,
    ("deepseek-r1-0528-mxfp4-mi355x-mxfp4-mtp", "sglang", 8): 4,
    ("deepseek-r1-0528-mxfp4-mi355x-mxfp4-mtp", "atom", 8): 6,
}


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_ixm", REPO / "scripts" / "gen_inferencex_measurements.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def configs() -> dict[tuple[str, str, int], int]:
    keys = [(r.recipe_id, c.backend, c.gpu_count) for r in bundled() for c in r.serve_configs]
    return {key: i for i, key in enumerate(keys, 1)}


def test_the_generator_reproduces_the_committed_file(tmp_path: Path) -> None:
    (committed,) = seed_measurement_files()
    out = tmp_path / "inferencex.json"
    gen = generator()
    assert gen.main(["--results", str(RESULTS), "--recipes", str(seed_recipe_dir()), "--out", str(out)]) == 0
    assert out.read_text() == committed.read_text()


def test_every_bundled_row_belongs_to_a_bundled_config_and_passes_the_checks() -> None:
    rows = bundled_rows()
    assert len(rows) == 254
    found, problems = checked_rows(rows, "inferencex.json", configs())
    assert problems == [] and len(found) == len(rows)
    assert Counter((r["recipe_id"], r["backend"], r["gpu_count"]) for r in rows) == EXPECTED
    for row in rows:
        assert row["origin"] == "import" and row["import_key"].startswith("ix-")
        assert row["source"].startswith(
            (
                "https://github.com/InferenceMAX/InferenceMAX/actions/runs/",
                "https://github.com/SemiAnalysisAI/",
            )
        )
        assert row["measured_at"][:4] in ("2025", "2026") and row["concurrency"] >= 4
    agg = [r for r in rows if "agg_bmk.json artifact" in r["source"]]
    assert len(agg) == 165
    fp8 = next(r for r in agg if f"/actions/runs/{RUN[4:15]} " in r["source"])
    assert fp8["measured_at"] == "2025-12-21/2025-12-31"
    between = "between runs 20413316138 (2025-12-21, InferenceX app API) and 20621824084 (2025-12-31"
    assert between in fp8["source"]
    assert "gminneci/mantile@72ff84eb" in fp8["source"]


def _results(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    (tmp_path / "agg").mkdir(parents=True)
    (tmp_path / "api").mkdir()
    (tmp_path / "agg" / RUN).write_text(json.dumps(rows, indent=2))
    (tmp_path / "agg" / "run_20244442227.agg_bmk.json").write_text("[]")
    shutil.copy(RESULTS / "api" / "benchmarks.528c414.json", tmp_path / "api")  # the date anchors
    return tmp_path


def test_bad_rows_are_left_out_one_line_each(tmp_path: Path) -> None:
    real = next(r for r in json.loads((RESULTS / "agg" / RUN).read_text()) if r["hw"] == "mi355x")
    rows = [
        real,
        dict(real),  # the same measurement twice
        real | {"tp": 2},  # no 2-GPU config
        real | {"ep": 8},  # the bundled configs run EP 1
        real | {"model": "amd/Other-Model"},  # not the recipe's checkpoint
        real | {"hw": "b200"},
    ]
    results = _results(tmp_path / "results", rows)
    gen = generator()
    text, run = gen.generate(results, seed_recipe_dir())
    agg = [json.loads(line.rstrip(",")) for line in text.splitlines()[1:-1]]
    agg = [r for r in agg if "agg_bmk.json artifact" in r["source"]]
    assert len(agg) == 1
    lines = [line for line in run.lines if line.startswith(RUN) and "left out" in line]
    assert [line.split("left out: ", 1)[1].split(":")[0] for line in lines] == [
        "the same measurement as an earlier row (run 20609406656, dsr1-fp8-mi355x-sglang, conc 16)",
        "deepseek-r1-0528-mi355x-fp8 has no sglang 2-GPU serve config (entry dsr1-fp8-mi355x-sglang, TP 2)",
        "the row contradicts deepseek-r1-0528-mi355x-fp8",
        "the row contradicts deepseek-r1-0528-mi355x-fp8",
    ]
    assert "EP 8, DP-attention False" in lines[2] and "model amd/Other-Model" in lines[3]
    assert f"{RUN}:1:1: skipped: 1 row on non-AMD GPUs (b200 x 1)" in run.lines
    assert "run_20244442227.agg_bmk.json: skipped: no rows (an empty array)" in run.lines


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"p99_ttft": float("nan")}, r"p99_ttft: .*must be a non-negative number, got nan"),
        # what bench import refuses (recipes.bounds) stops the generator too: it is no measurement
        ({"tput_per_gpu": 2e6}, r"tput_per_gpu: .*more than 1e\+06 tokens/s per GPU"),
    ],
)
def test_a_malformed_or_impossible_figure_stops_the_generator(
    tmp_path: Path, change: dict[str, float], said: str
) -> None:
    real = next(r for r in json.loads((RESULTS / "agg" / RUN).read_text()) if r["hw"] == "mi355x")
    results = _results(tmp_path / "results", [real | change])
    with pytest.raises(SystemExit, match=said):
        generator().generate(results, seed_recipe_dir())


def test_the_seed_loader_refuses_bad_rows_one_line_each() -> None:
    good = bundled_rows()[0]
    rows: list[Any] = [
        good,
        dict(good),  # duplicate import key
        "not a row",
        good | {"gpu_count": 3},
        good | {"ttft_ms_p99": float("nan")},
        good | {"output_throughput": -5.0},
        good | {"output_throughput": 1e9},
        good | {"origin": "recipe"},
        good | {"import_key": "ix-" + "0" * 40, "tpot_ms_p50": 1e-9},
    ]
    found, problems = checked_rows(rows, "bad.json", configs())
    assert len(found) == 1
    got = [(p.field, p.message) for p in problems]
    assert [field for field, _ in got] == [
        "import_key",
        "",
        "recipe_id",
        "ttft_ms_p99",
        "output_throughput",
        "output_throughput",
        "",
        "tpot_ms_p50",
    ]
    assert got[0][1].startswith("[element 1] ix-") and "given twice" in got[0][1]
    config = f"{good['recipe_id']}/{good['backend']}/3 GPU"
    assert got[2][1] == f"[element 3] no serve config {config} in the bundled recipes"
    assert "must be a finite number" in got[3][1]
    assert "must be a non-negative number" in got[4][1]
    assert "is not a real measurement" in got[5][1] and "is not a real measurement" in got[7][1]
    assert "needs an import_key, and only such a row" in got[6][1]
