"""``aim-catalog plan`` as operators meet it, over the bundled catalog (DeepSeek-R1-0528 FP8
rows of InferenceX, 8192/1024): the table, its evidence lines and the launch line, JSON, the
chart, prices from the command line or a file, and one-line refusals."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

MODEL = "deepseek-ai/DeepSeek-R1-0528"
SCOPE = (
    "--input-len",
    "8192",
    "--output-len",
    "1024",
    "-p",
    "fp8",
    "--hardware",
    "MI300X,MI355X",
    "-b",
    "sglang",
)


def test_the_table_names_the_evidence_and_the_launch_line(cli: Callable[..., Any]) -> None:
    out = cli("plan", MODEL, "--tokens-per-s", "10000", *SCOPE, "--gpus", "8", "--max-tpot-ms", "110").stdout
    lines = out.splitlines()
    assert lines[0] == (
        "Plan for deepseek-ai/DeepSeek-R1-0528: 10000 output tokens/s, tpot p99 <= 110 ms, "
        "scenario input_len 8192, output_len 1024"
    )
    first = next(line for line in lines if line.startswith("│ 1 "))  # the table's first row: 6 x 8 GPUs
    assert "deepseek-r1-0528-mi355x-fp8-mtp" in first and "│ 48 " in first
    assert "1. evidence: measured on lmsysorg/sglang:v0.5.12-rocm700-mi35x (2026-" in out
    assert (
        "Launch the best: aim-catalog launch deepseek-ai/DeepSeek-R1-0528 8 -p fp8 -b sglang "
        "--hardware MI355X --recipe deepseek-r1-0528-mi355x-fp8-mtp --target kubernetes --replicas 6"
    ) in out


def test_json_is_the_whole_plan(cli: Callable[..., Any]) -> None:
    data = json.loads(cli("plan", MODEL, "--users", "64", *SCOPE, "--max-tpot-ms", "110", "--json").stdout)
    assert data["target"] == {"kind": "users", "value": 64.0}
    assert data["ranked_by"] == "gpus"
    best = data["plans"][0]
    assert best["replicas"] == math.ceil(64 / best["concurrency"])
    assert best["evidence"]["kind"] in ("measured", "interpolated") and best["evidence_sentence"]
    assert data["launch"].startswith("aim-catalog launch deepseek-ai/DeepSeek-R1-0528 ")
    assert any("disaggregated" in n for n in data["notes"])


def test_prices_from_a_file_rank_by_cost(cli: Callable[..., Any], tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("MI300X: 1.0\nmi355x: 3.0\n")
    data = json.loads(
        cli(
            "plan", MODEL, "--rate", "5", *SCOPE, "--gpus", "8", "--gpu-hour-cost", str(prices), "--json"
        ).stdout
    )
    assert data["ranked_by"] == "cost"
    costs = [p["cost_per_hour"] for p in data["plans"]]
    assert costs == sorted(costs) and all(c > 0 for c in costs)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "plan needs one target: --rate R, --tokens-per-s T or --users N"),
        (("--rate", "1", "--users", "4"), "plan needs one target"),
        (("--rate", "0"), "the target must be above 0, got 0"),
        (("--rate", "1", "--gpus", "eight"), "--gpus takes GPU counts from 1 to 1024, got 'eight'"),
        (
            ("--rate", "1", "--gpu-hour-cost", "MI300X=cheap"),
            "MI300X: the price must be a finite number >= 0",
        ),
        (
            ("--rate", "1", "--gpu-hour-cost", "/no/such/prices.yaml"),
            "not NAME=PRICE pairs, and not a readable",
        ),
        (("--rate", "1", "--plot", "chart.pdf"), "--plot writes PNG or SVG"),
        (("--rate", "1", "--gpu-hour-cost", "a=1,b"), "--gpu-hour-cost: 'b' is not NAME=PRICE"),
        (("--rate", "1", "--gpu-hour-cost", "MI355X=1,mi355x=100"), "MI355X is priced twice"),
        (
            ("--rate", "1", "--power-cost", "0.1"),
            "--power-cost adds the energy to --gpu-hour-cost: give both",
        ),
    ],
)
def test_bad_arguments_are_one_line_exit_2(
    cli: Callable[..., Any], args: tuple[str, ...], message: str
) -> None:
    result = cli("plan", MODEL, *args, code=2)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_slo_nothing_meets_exits_3_naming_what_binds(cli: Callable[..., Any]) -> None:
    result = cli("plan", MODEL, "--rate", "1", *SCOPE, "--max-tpot-ms", "5", code=3)
    assert (
        "No plan for 1 requests/s: no config of deepseek-ai/DeepSeek-R1-0528 meets tpot p99 <= 5 ms"
        in result.stderr
    )
    assert "it binds first; the best reached is" in result.stderr


def test_plot_draws_every_plan_and_the_target(cli: Callable[..., Any], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plot extra: pip install 'aim-catalog[plot]'")
    chart = tmp_path / "plan.svg"
    result = cli(
        "plan", MODEL, "--tokens-per-s", "10000", *SCOPE, "--gpus", "8", "--plot", str(chart), "--top", "3"
    )
    assert f"chart written to {chart}" in result.stderr
    svg = chart.read_text()
    for gid in ("plan-0", "plan-1", "plan-2", "at-target-0", "target-line"):
        assert f'id="{gid}"' in svg, gid
    assert "plan-3" not in svg and "target: 10000 output tokens/s" in svg


def test_prices_for_some_hardware_only_rank_by_gpus_and_say_so(cli: Callable[..., Any]) -> None:
    data = json.loads(
        cli(
            "plan", MODEL, "--rate", "5", *SCOPE, "--gpus", "8", "--gpu-hour-cost", "MI355X=3", "--json"
        ).stdout
    )
    assert data["ranked_by"] == "gpus"
    assert "no GPU-hour price for MI300X: ranked by GPUs, not by cost" in data["notes"]
    gpus = [p["gpus"] for p in data["plans"]]
    assert gpus == sorted(gpus)


def test_a_price_file_must_map_names_to_numbers(cli: Callable[..., Any], tmp_path: Path) -> None:
    for text, message in (
        ("- MI300X\n", "give a mapping of GPU model to price"),
        ("MI300X: true\n", "MI300X: the price must be a finite number >= 0, got True"),
        ("MI300X: {a: 1}\n", "the price must be a finite number"),
    ):
        prices = tmp_path / "prices.yaml"
        prices.write_text(text)
        result = cli("plan", MODEL, "--rate", "1", "--gpu-hour-cost", str(prices), code=2)
        assert message in result.stderr, text


def test_targets_beyond_a_billion_are_refused(cli: Callable[..., Any]) -> None:
    """click's range check, as every bounded option of the CLI (exit 2)."""
    result = cli("plan", MODEL, "--users", "2000000000", code=2)
    assert "2000000000 is not in the range 1<=x<=1000000000" in result.stderr
