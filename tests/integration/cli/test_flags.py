"""Flag keys with an equals sign are split: at validation, and by the launcher for rows of older
catalogs.
"""

from __future__ import annotations

import json
from pathlib import Path

from support.launch import MODEL, cli, set_config, write

# --------------------------------------------------------------------------- flags, escapes


def test_flag_keys_with_an_equals_sign_are_split_at_validation(tmp_path: Path, host: Path) -> None:
    from aim_catalog.recipes.files import parse_file

    path = write(tmp_path, "    args:\n      --port=9999: null\n      --max-model-len=8192: true\n")
    recipe, problems = parse_file(path)
    assert problems == [] and recipe is not None
    assert recipe.serve_configs[0].args == {"--port": "9999", "--max-model-len": "8192"}
    tp = write(tmp_path, "    args:\n      --tensor-parallel-size=64:\n")
    err = cli("validate", str(tp), code=4).stderr
    assert f"{tp}:10:7: vllm_serve.4_gpu.args.--tensor-parallel-size=64: tensor x pipeline" in err
    both = write(tmp_path, "    args:\n      --model=other/model: org/m\n")
    err = cli("validate", str(both), code=4).stderr
    assert (
        f"{both}:10:7: vllm_serve.4_gpu.args.--model=other/model: '--model=other/model' carries a value"
        in err
    )


def test_the_launcher_splits_flag_keys_of_older_catalog_rows(tmp_path: Path, host: Path) -> None:
    set_config(tmp_path, args={"--port=9999": None, f"--model={MODEL}": None, "--dtype": "bfloat16"})
    spec = json.loads(cli("launch", MODEL, "1", "--dry-run", "--json").stdout)
    assert spec["command"] == [
        "vllm", "serve", MODEL, "--dtype", "bfloat16", "--tensor-parallel-size", "1",
        "--host", "0.0.0.0", "--port", "8000",
    ]  # fmt: skip
    set_config(tmp_path, args={"--tensor-parallel-size=64": None})
    assert "64 x 1 = 64 needs more than the 1 GPU(s)" in cli("launch", MODEL, "1", "--dry-run", code=2).stderr
