"""The InferenceX readers on real files (../shared/reference/inferencex-results, read in
place, never copied): the app's API rows (BenchmarkRow), the agg_bmk.json artifacts, and a
newer agg writer generation built in a tmp dir from a real row."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from support.paths import SHARED

from aim_catalog.measurements.importers import inferencex_api, parse_results, read_result_file

RESULTS = SHARED / "reference" / "inferencex-results"
API = RESULTS / "api" / "benchmarks.528c414.json"
AGG_FP8 = RESULTS / "agg" / "run_20609406656.agg_bmk.json"  # DSR1 fp8 SGLang MI300X/MI325X/MI355X
AGG_NVIDIA = RESULTS / "agg" / "run_20356790608.agg_bmk.json"


def test_api_rows_of_the_real_fixture() -> None:
    parsed = read_result_file(API)
    assert parsed.problems == []
    # 435 rows: 90 AMD single-node read, 30 mori-sglang (disaggregated, one line each),
    # 315 on NVIDIA GPUs in one summary line.
    assert len(parsed.runs) == 90
    assert {run.tool for run in parsed.runs} == {"inferencex-api"}
    messages = [p.message.split("] ", 1)[-1] for p in parsed.skipped]
    assert len(messages) == 31
    assert (
        messages.count(
            "skipped: a multi-node/disaggregated row (framework 'mori-sglang'): prefill and decode "
            "workers, not one serve config"
        )
        == 30
    )
    assert messages[-1] == (
        "skipped: 315 rows on non-AMD GPUs "
        "(b200 x 100, gb200 x 50, gb300 x 50, h200 x 50, b300 x 40, h100 x 25)"
    )
    assert {(r.model, r.precision, r.spec_decoding) for r in parsed.runs} == {
        ("deepseek-ai/DeepSeek-R1-0528", "fp8", "none"),
        ("deepseek-ai/DeepSeek-R1-0528", "fp8", "mtp"),
        ("amd/DeepSeek-R1-0528-MXFP4-Preview", "mxfp4", "none"),
        ("amd/DeepSeek-R1-0528-MXFP4", "mxfp4", "mtp"),
    }


def test_one_api_row_checked_by_hand() -> None:
    """Element 30: mi355x sglang fp8 TP8 1024/1024 conc 4, 2026-05-27, with power. Its
    figures, read off the JSON: tput_per_gpu 92.52648660357187, output_tput_per_gpu
    46.0381256588167, p90_ttft 1.6482687692856417 s, p99.9_tpot 0.012945570580454903 s,
    mean_e2el 9.662590102606918 s, median_ttft 0.11508698936086148 s, avg_power_w 508.061."""
    (run,) = [r for r in read_result_file(API).runs if r.element == 30]
    assert (run.model, run.backend, run.tensor_parallel, run.hardware) == (
        "deepseek-ai/DeepSeek-R1-0528",
        "sglang",
        8,
        "MI355X",
    )
    row = run.row
    assert row["total_token_throughput"] == pytest.approx(740.2118928285750)
    assert row["output_throughput"] == pytest.approx(368.3050052705336)
    assert row["ttft_ms_p90"] == pytest.approx(1648.2687692856417)
    assert row["tpot_ms_p999"] == pytest.approx(12.945570580454903)
    assert row["e2el_ms_mean"] == pytest.approx(9662.590102606918)
    assert row["ttft_ms_p50"] == pytest.approx(115.08698936086148)
    assert (row["power_w_per_gpu"], row["joules_per_output_token"], row["joules_per_total_token"]) == (
        508.061,
        11.035653,
        5.490977,
    )
    assert (row["concurrency"], row["nominal_input_len"], row["nominal_output_len"]) == (4, 1024, 1024)
    assert row["image"] == "lmsysorg/sglang:v0.5.12-rocm700-mi35x"
    assert row["measured_at"] == "2026-05-27"
    assert row["source"] == "https://github.com/SemiAnalysisAI/InferenceX/actions/runs/26486957776/attempts/1"


def test_api_rows_with_no_image_keep_no_image() -> None:
    no_image = [r for r in read_result_file(API).runs if "image" not in r.row]
    assert len(no_image) == 2  # mi355x sglang fp4 TP4 1k/8k, 2025-10-06: also no output_tput_per_gpu
    assert all("output_throughput" not in r.row and r.row["measured_at"] == "2025-10-06" for r in no_image)


def _api_row(**metrics: Any) -> dict[str, Any]:
    row = json.loads(API.read_text())[30]
    row["metrics"].update(metrics)
    return row


def test_api_reader_refuses_bad_figures_and_skips_unknown_model_keys() -> None:
    bad = [_api_row(tput_per_gpu=float("nan")), _api_row(p99_ttft=-1.0)]
    unknown = json.loads(API.read_text())[30] | {"model": "llama70b"}
    data = json.dumps([*bad, unknown]).encode()  # Python writes NaN, as InferenceX would
    parsed = parse_results(data, "api.json")
    assert parsed.runs == []
    assert [(p.field, p.message.split("] ")[-1]) for p in parsed.problems] == [
        ("tput_per_gpu", "must be a non-negative number, got nan"),
        ("p99_ttft", "must be a non-negative number, got -1.0"),
    ]
    (skipped,) = parsed.skipped
    assert "model key 'llama70b' (fp8 precision, spec none) has no Hugging Face id" in skipped.message


def test_model_keys_resolve_by_precision_and_speculative_method() -> None:
    assert inferencex_api.hugging_face_id("dsr1", "fp8", "mtp") == "deepseek-ai/DeepSeek-R1-0528"
    assert inferencex_api.hugging_face_id("dsr1", "fp4", "none") == "amd/DeepSeek-R1-0528-MXFP4-Preview"
    assert inferencex_api.hugging_face_id("dsr1", "fp4", "mtp") == "amd/DeepSeek-R1-0528-MXFP4"
    assert inferencex_api.hugging_face_id("qwen3.5", "fp8", "none") is None


def test_agg_file_says_its_nvidia_rows_in_one_line() -> None:
    parsed = read_result_file(AGG_NVIDIA)
    assert parsed.runs == [] and parsed.problems == []
    (summary,) = parsed.skipped
    assert summary.message.startswith("skipped: ") and "rows on non-AMD GPUs (" in summary.message
    total = len(json.loads(AGG_NVIDIA.read_text()))
    assert summary.message.startswith(f"skipped: {total} rows on non-AMD GPUs")


def _generation_2(row: dict[str, Any], **over: Any) -> dict[str, Any]:
    """The real row as InferenceX utils/process_result.py @843c6254 (with
    utils/aggregate_power.py) writes it: ``pp``/``dcp_size``/``pcp_size``,
    ``recipe_fingerprint``, p90 and p99.9 of every latency (seconds) and interactivity, the
    runner's name as ``hw``, and the power keys with ``power_valid`` and schema version 2."""
    new = dict(row)
    new.update(
        {
            "hw": "mi355x-amd_0",
            "pp": 1,
            "dcp_size": 1,
            "pcp_size": 1,
            "recipe_fingerprint": "abc123",
            "power_valid": 1,
            "power_metric_schema_version": 2,
            "avg_power_w": 812.5,
            "avg_total_gpu_power_w": 6500.0,
            "joules_per_output_token": 6.9652,
            "joules_per_total_token": 3.4766,
        }
    )
    for name in ("ttft", "tpot", "itl", "e2el"):
        new[f"p90_{name}"] = row[f"p99_{name}"] * 0.8
        new[f"p99.9_{name}"] = row[f"p99_{name}"] * 1.1
    new["p90_intvty"] = 1000.0 / (new["p90_tpot"] * 1000.0)
    new["p99.9_intvty"] = 1000.0 / (new["p99.9_tpot"] * 1000.0)
    new.update(over)
    return new


def test_newer_agg_generation_p90_p999_and_power(tmp_path: Path) -> None:
    real = next(r for r in json.loads(AGG_FP8.read_text()) if r["hw"] == "mi355x")
    rows = [_generation_2(real), _generation_2(real, conc=32, power_valid=0)]
    path = tmp_path / "agg_bmk.json"
    path.write_text(json.dumps(rows, indent=2))
    parsed = read_result_file(path)
    assert parsed.problems == [] and parsed.skipped == []
    first, invalid = parsed.runs
    assert first.hardware == "MI355X" and first.tensor_parallel == 8
    row = first.row
    assert row["ttft_ms_p90"] == pytest.approx(real["p99_ttft"] * 800.0)
    assert row["e2el_ms_p999"] == pytest.approx(real["p99_e2el"] * 1100.0)
    assert row["tpot_ms_mean"] == pytest.approx(real["mean_tpot"] * 1000.0)
    assert row["total_token_throughput"] == pytest.approx(real["tput_per_gpu"] * 8)
    assert (row["power_w_per_gpu"], row["joules_per_output_token"], row["joules_per_total_token"]) == (
        812.5,
        6.9652,
        3.4766,
    )
    # power_valid 0: the writer says its samples are not to be trusted, so no power at all
    assert not {"power_w_per_gpu", "joules_per_output_token", "joules_per_total_token"} & set(invalid.row)
    assert math.isclose(invalid.row["ttft_ms_p90"], row["ttft_ms_p90"])
