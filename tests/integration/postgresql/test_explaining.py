"""``explain`` and its wording: a config whose rows are of another scenario does not compare,
and the hardware asked for is not said to be the host's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support import bench_results as fx


def test_explain_says_a_config_with_rows_of_another_scenario_does_not_compare(
    cli: Callable[..., Any], workloads: str, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    write_recipe("w-c", model="org/w", configs={"sglang": {8: {"enabled": True}}})
    cli("ingest", str(tmp_path / "recipes"), db_url=workloads)
    short = fx.vllm_bench_serve(model_id="org/w", tensor_parallel_size="8", total_output_tokens=640 * 2048)
    short["backend"] = short["endpoint_type"] = "sglang"
    path = tmp_path / "short.json"
    path.write_text(json.dumps(short))
    cli("bench", "import", str(path), "--recipe", "w-c", db_url=workloads)
    explained = json.loads(
        cli("explain", "org/w", "8", "-b", "any", "--hardware", "any", "--json", db_url=workloads).stdout
    )
    reasons = {v["recipe_id"]: (v["verdict"], v["reason"]) for v in explained["verdicts"]}
    assert reasons["w-a"][0] == "chosen" and "output_throughput 8000" in reasons["w-a"][1]  # at 1024/1024
    assert "no comparable benchmark (1 of other lengths)" in reasons["w-c"][1], reasons


def test_hardware_asked_is_not_said_to_be_the_hosts(cli: Callable[..., Any], workloads: str) -> None:
    explained = json.loads(
        cli("explain", "org/w", "4", "--hardware", "MI355X", "--json", code=3, db_url=workloads).stdout
    )
    assert (
        explained["verdicts"][0]["reason"]
        == "hardware mismatch: recipe is for MI300X, --hardware asks for MI355X"
    )
    # No GPU detected and no --host-gpus: the count did not win "among the counts that fit".
    human = cli("select", "org/w", "-b", "any", "--hardware", "any", db_url=workloads).stdout
    assert "won among every count (host GPUs unknown), per GPU" in human
