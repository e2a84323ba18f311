"""Recipe status as users meet it: a recipe retired upstream still competes (``select`` says
so), ``--current-only`` leaves it out (``explain`` says why), and every listing shows it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

MODEL = "openai/gpt-oss-120b"
# The bundled gpt-oss-120b-mi300x-mxfp4 is retired (InferenceX MODELS.md: 2026-07-06, PR #2101)
# and has one row, 1752 tok/s total at concurrency 4 (InferenceX PR 1092).
CURRENT = """\
recipe_id: mine-gpt-oss-mi300x
model_id: openai/gpt-oss-120b
huggingface_id: openai/gpt-oss-120b
hardware: MI300X
precision: mxfp4
vllm_serve:
  8_gpu:
    enabled: true
    image: vllm/vllm-openai-rocm:v0.17.0
    args: {--tensor-parallel-size: 8}
    benchmarks:
      - {input_len: 1024, output_len: 1024, concurrency: 4, total_token_throughput: 1500.0,
         source: "a run of ours, https://example.org/run/1", measured_at: "2026-12-01",
         image: "vllm/vllm-openai-rocm:v0.17.0"}
"""


def _with_current(cli: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(CURRENT)
    cli("ingest", str(tmp_path / "mine.yaml"))


def test_a_retired_winner_is_chosen_and_says_so(cli: Callable[..., Any], tmp_path: Path) -> None:
    _with_current(cli, tmp_path)
    args = ("select", MODEL, "8", "-p", "mxfp4", "--hardware", "MI300X")
    out = cli(*args).stdout
    assert out.splitlines()[0].startswith("Selected gpt-oss-120b-mi300x-mxfp4 ")
    assert "status: retired upstream on 2026-07-06: InferenceX retired gpt-oss-120b" in out
    chosen = json.loads(cli(*args, "--json").stdout)
    assert (chosen["status"], chosen["retired_on"]) == ("retired", "2026-07-06")
    assert chosen["retired"].startswith("retired upstream on 2026-07-06: ")
    assert "pull/2101" in chosen["retired_reason"]


def test_current_only_leaves_retired_recipes_out_and_explain_says_why(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    _with_current(cli, tmp_path)
    args = ("-p", "mxfp4", "--hardware", "MI300X", "--current-only")
    chosen = json.loads(cli("select", MODEL, "8", *args, "--json").stdout)
    assert (chosen["recipe_id"], chosen["status"], chosen["retired"]) == (
        "mine-gpt-oss-mi300x",
        "current",
        None,
    )
    verdicts = json.loads(cli("explain", MODEL, "8", *args, "--json").stdout)["verdicts"]
    by_recipe = {v["recipe_id"]: v for v in verdicts}
    assert by_recipe["mine-gpt-oss-mi300x"]["verdict"] == "chosen"
    retired = by_recipe["gpt-oss-120b-mi300x-mxfp4"]
    assert retired["verdict"] == "rejected"
    assert retired["reason"].startswith("retired upstream on 2026-07-06 (--current-only): InferenceX retired")
    # without the flag the retired recipe ranks, and its verdict carries the status
    verdicts = json.loads(cli("explain", MODEL, "8", "-p", "mxfp4", "--hardware", "MI300X", "--json").stdout)
    ranked = {v["recipe_id"]: v for v in verdicts["verdicts"]}
    assert ranked["gpt-oss-120b-mi300x-mxfp4"]["verdict"] == "chosen"
    assert ranked["gpt-oss-120b-mi300x-mxfp4"]["retired"].startswith("retired upstream on 2026-07-06")
    assert ranked["mine-gpt-oss-mi300x"]["retired"] is None


def test_current_only_with_nothing_current_exits_3(cli: Callable[..., Any]) -> None:
    result = cli("select", MODEL, "8", "-p", "mxfp4", "--current-only", code=3)
    assert "No suitable recipe found for openai/gpt-oss-120b" in result.stderr
    assert "(retired upstream)" in result.stderr


def test_listings_show_the_status(cli: Callable[..., Any], tmp_path: Path) -> None:
    _with_current(cli, tmp_path)
    listed = {r["recipe_id"]: r for r in json.loads(cli("list-recipes", "--model", MODEL, "--json").stdout)}
    assert (
        listed["gpt-oss-120b-mi355x-mxfp4"]["status"],
        listed["gpt-oss-120b-mi355x-mxfp4"]["retired_on"],
    ) == (
        "retired",
        "2026-07-06",
    )
    assert listed["mine-gpt-oss-mi300x"]["status"] == "current"
    assert listed["mine-gpt-oss-mi300x"]["retired_reason"] is None
    table = cli("list-recipes", "--model", MODEL).stdout
    assert "retired 2026-07-06" in table and "current" in table
    configs = json.loads(cli("show-configurations", MODEL, "--json").stdout)
    assert {
        (c["recipe_id"], c["status"]) for c in configs if c["gpu_count"] == 8 and c["backend"] == "vllm"
    } >= {
        ("gpt-oss-120b-mi300x-mxfp4", "retired"),
        ("mine-gpt-oss-mi300x", "current"),
    }
    lines = cli("show-configurations", MODEL).stdout
    assert "- 8 GPU, mxfp4, vLLM: ✅ Enabled\n" in lines  # a current recipe has it
    assert "- 1 GPU, mxfp4, vLLM: ✅ Enabled (retired upstream)" in lines


def test_launch_of_a_retired_recipe_says_so_before_it_runs(cli: Callable[..., Any]) -> None:
    """The bundled Kimi-K2.5 MXFP4 recipe is retired (InferenceX PR 2527) and carries the
    `pip install amd-quark` its InferenceX script runs before the server."""
    args = (
        "launch",
        "amd/Kimi-K2.5-MXFP4",
        "8",
        "-p",
        "mxfp4",
        "-b",
        "vllm",
        "--hardware",
        "MI355X",
        "--dry-run",
    )
    result = cli(*args)
    assert "kimi-k2-5-mxfp4-mi355x-mxfp4: retired upstream on 2026-08-07: InferenceX retired" in result.stderr
    assert "1. pip install amd-quark" in result.stdout
    planned = json.loads(cli(*args, "--json").stdout)
    assert planned["status"] == "retired" and planned["retired"].startswith("retired upstream on 2026-08-07")
    assert planned["setup"] == ["pip install amd-quark"]
