"""``report backtest`` on the default catalog (the bundled InferenceX measurements): a table
with an overall row, strict JSON with --json, a clear exit 3 for a model without rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def strict(output: str) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"not JSON: {constant}")

    return json.loads(output, parse_constant=refuse)


def test_backtest_json_is_strict_and_matches_the_table(cli: Callable[..., Any]) -> None:
    data = strict(cli("report", "backtest", "--json").stdout)
    assert data["model"] is None and data["points"]
    groups = {(g["hardware"], g["backend"]): g for g in data["groups"]}
    assert groups[("MI355X", "sglang")]["n"] > 0 and groups[("MI300X", "sglang")]["n"] > 0
    assert groups[("MI300X", "vllm")]["n"] == 0 and groups[("MI300X", "vllm")]["throughput"] == {
        "n": 0,
        "median_pct": None,
        "p90_pct": None,
    }
    overall = data["groups"][-1]
    assert (overall["hardware"], overall["backend"], overall["n"]) == ("all", "all", len(data["points"]))
    assert set(data["points"][0]) == {"curve", "concurrency", "between", "measured", "predicted", "error_pct"}
    assert strict(cli("report", "backtest", "-f", "json").stdout) == data  # --json is -f json

    result = cli("report", "backtest")
    last = result.stdout.strip().splitlines()[-2]  # the table's last row, above its border
    median = overall["throughput"]["median_pct"]
    assert "all" in last and f"{median:.1f}" in last and str(overall["n"]) in last
    assert "MI300X vllm: no curve has an interior point" in result.stderr  # said, not blank
    csv = cli("report", "backtest", "-f", "csv").stdout.splitlines()
    assert csv[0].startswith("hardware,backend,curves,n,throughput median %,throughput p90 %,TTFT p99")
    assert any(line.startswith("MI300X,vllm,") and line.endswith(",,,,,,") for line in csv)


def test_backtest_of_one_model_and_of_an_unknown_one(cli: Callable[..., Any]) -> None:
    one = strict(cli("report", "backtest", "deepseek-ai/DeepSeek-R1-0528", "--json").stdout)
    assert one["model"] == "deepseek-ai/DeepSeek-R1-0528"
    assert {g["backend"] for g in one["groups"]} == {"sglang", "atom", "all"}
    err = cli("report", "backtest", "org/no-such-model", code=3).stderr  # as report pareto does
    assert len(err.strip().splitlines()) == 1
    assert "no benchmark of org/no-such-model to backtest" in err
    wrong = cli("report", "backtest", "--hardware", "MI355X", code=2).stderr
    assert "report backtest takes MODEL only (--hardware: pareto's options)" in wrong
    both = cli("report", "backtest", "--json", "-f", "csv", code=2).stderr
    assert "--json and --format csv" in both
    assert "choose one of coverage, leaderboard, benchmarks, pareto, backtest" in (
        cli("report", "backtests", code=2).stderr
    )
