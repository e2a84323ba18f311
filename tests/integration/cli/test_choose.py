"""``select`` and ``explain`` as users meet them: exit codes, verdicts, the metric fallback,
logs, and the detected hardware.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.host import fake_kfd_sysfs


def test_no_match_exits_3_with_the_supported_configurations(cli: Callable[..., Any]) -> None:
    result = cli("select", "Qwen/Qwen3-32B", "16", "--precision", "fp8", code=3)
    assert "No suitable recipe found for Qwen/Qwen3-32B" in result.stderr
    assert "- 8 GPU, bf16, sglang: ✅ Enabled" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_explain_lists_every_recipe_with_a_verdict(cli: Callable[..., Any]) -> None:
    model = "amd/Llama-3.1-405B-Instruct-FP8-KV"
    data = json.loads(cli("explain", model, "8", "--precision", "fp8", "--json").stdout)
    verdicts = {v["recipe_id"]: v for v in data["verdicts"]}
    assert len(verdicts) == 4
    assert verdicts["llama-3-1-405b-fp8-kv-mi300x-fp8-vllm-2025-06"]["verdict"] == "chosen"
    assert sorted(v["reason"].split(":")[0] for v in verdicts.values() if v["verdict"] == "ranked") == [
        "ranked 2 of 4",
        "ranked 3 of 4",
        "ranked 4 of 4",
    ]
    lost = json.loads(cli("explain", model, "4", "--precision", "fp8", "--json", code=3).stdout)
    assert {v["reason"] for v in lost["verdicts"]} == {"no 4-GPU config (has 8)"}
    table = cli("explain", model, "8", "--precision", "fp8").stdout
    assert "chosen" in table and "ranked 4 of 4" in table


def test_select_human_output_names_the_metric_fallback(cli: Callable[..., Any]) -> None:
    out = cli("select", "amd/Llama-3.1-70B-Instruct-FP8-KV", "8", "-p", "fp8").stdout
    assert out.splitlines()[0] == (
        "Selected llama-3-1-70b-fp8-kv-mi300x-fp8-vllm-2025-06 for amd/Llama-3.1-70B-Instruct-FP8-KV: "
        "8 GPU, fp8, vLLM on MI300X"
    )
    assert "score:  total_token_throughput 16581.5 (the row has no output_throughput)" in out
    assert "image:  rocm/vllm:rocm6.4.1_vllm_0.9.0.1_20250605" in out


def test_verbose_logs_each_match_check(cli: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="aim_catalog")
    cli("-v", "select", "Qwen/Qwen3-32B", "4")
    messages = [r.getMessage() for r in caplog.records]
    start = messages.index("Checking recipe qwen3-32b-mi300x-bf16")
    assert messages[start : start + 6] == [
        "Checking recipe qwen3-32b-mi300x-bf16",
        "Model match: True",
        "Precision match: True",
        "Backend match: True",
        "GPU count match: True",
        "Enabled: True",
    ]
    assert "Selected recipe: qwen3-32b-mi300x-bf16" in messages


def test_detected_hardware_filters_and_bounds_the_gpu_count(
    cli: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    write_recipe: Callable[..., Path],
) -> None:
    fake_kfd_sysfs(tmp_path / "sysfs", 2, target=90500, device_id=0x75A3)  # 2 x MI355X
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(tmp_path / "sysfs"))
    result = cli("select", "Qwen/Qwen3-32B", "4", code=3)  # the seeds are MI300X recipes
    assert "No suitable recipe found" in result.stderr
    assert (
        "hardware MI355X was required" in result.stderr and "--hardware any lifts the filter" in result.stderr
    )
    explained = json.loads(cli("explain", "Qwen/Qwen3-32B", "4", "--json", code=3).stdout)
    assert explained["verdicts"][0]["reason"] == "hardware mismatch: recipe is for MI300X, host has MI355X"
    # More GPUs score better here (per GPU too), but only the counts that fit the 2 detected
    # GPUs compete, with or without the hardware filter.
    scores = {
        n: {"enabled": True, "benchmarks": [{"output_throughput": 100.0 * n * n}]} for n in (1, 2, 4, 8)
    }
    path = write_recipe("scaling", model="org/scaling", configs={"vllm": scores})
    cli("ingest", str(path))
    for hardware in ("any", "MI300X"):
        chosen = json.loads(cli("select", "org/scaling", "--hardware", hardware, "--json").stdout)
        assert (chosen["gpu_count"], chosen["score"]) == (2, 400.0)
        assert (chosen["per_gpu"], chosen["replicas"], chosen["host_gpus"]) == (200.0, 1, 2)
    assert "GPU count: 2 won" in cli("select", "org/scaling", "--hardware", "any").stdout


def test_select_shows_setup_only_when_the_config_has_some(
    cli: Callable[..., Any], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    setup = ["pip install amd-quark", "pip install -U transformers>=4.57,<5"]
    configs = {"vllm": {1: {"enabled": True, "setup": setup}, 2: {"enabled": True}}}
    cli("ingest", str(write_recipe("s", model="org/s", configs=configs).parent))
    out = cli("select", "org/s", "1").stdout
    assert out.splitlines()[-1] == (
        "  setup:  pip install amd-quark; pip install -U transformers>=4.57,<5 "
        "(runs in the container before the server)"
    )
    assert json.loads(cli("select", "org/s", "1", "--json").stdout)["setup"] == setup
    assert "setup" not in cli("select", "org/s", "2").stdout
    assert json.loads(cli("select", "org/s", "2", "--json").stdout)["setup"] == []
    (verdict,) = json.loads(cli("explain", "org/s", "1", "--json").stdout)["verdicts"]
    assert verdict["setup"] == setup
