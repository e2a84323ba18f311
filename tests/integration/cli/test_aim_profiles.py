"""AMD AIM runtime profiles in the catalog.

The profiles tree is ../shared/reference/aim-build (amd-enterprise-ai/aim-build 2be2cf8, tag
0.9); the hand-written profiles below follow that format (schemas/general_profile_schema.json
and model_profile_schema.json of the same commit) to control type, goal and manual selection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.launch import cli


def test_two_backends_of_one_recipe_name_the_backend(cli: Callable[..., Any]) -> None:
    """gpt-oss-120b on MI355X: ATOM and vLLM configs of one recipe, no benchmark: the
    backend decided, not the recipe_id they share. (DeepSeek-R1 was the example until its
    bundled InferenceX measurements decided it.)"""
    gptoss = ("openai/gpt-oss-120b", "8", "-p", "mxfp4", "-b", "any", "--hardware", "MI355X")
    verdicts = json.loads(cli("explain", *gptoss, "--json").stdout)["verdicts"]
    first, second = verdicts[0], verdicts[1]
    assert first["recipe_id"] == second["recipe_id"] and first["backend"] != second["backend"]
    assert f"before {first['recipe_id']} (vLLM 8 GPU) by backend" in first["reason"]
    assert "tie; backend after" in second["reason"]


def test_an_aim_profile_may_not_name_other_weights(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    body = (
        "aim_id: org/m\nmodel_id: org/m-fp8\nmetadata:\n  engine: vllm\n  gpu: MI300X\n  gpu_count: 1\n"
        "  manual_selection_only: false\n  metric: latency\n  precision: fp8\n  type: optimized\n"
        "engine_args:\n  tensor-parallel-size: 1\n  model: MODEL\nenv_vars: {}\n"
    )
    path.write_text(body.replace("MODEL", "evil/model"))
    err = cli("validate", str(path), code=4).stderr
    assert f"{path}:13:3: engine_args.model: names the model 'evil/model'" in err
    path.write_text(body.replace("MODEL", "org/m-fp8"))  # the profile's own weights (its model_id)
    cli("validate", str(path))
