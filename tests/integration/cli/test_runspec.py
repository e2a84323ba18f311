"""The run spec refuses what an older catalog row may hold (another model's flag, an API key)
and masks an API key given at launch.
"""

from __future__ import annotations

import json
from pathlib import Path

from support.launch import MODEL, cli, set_config


def test_launch_refuses_an_older_row_naming_another_model(tmp_path: Path, host: Path) -> None:
    for args in ({"--model": "evil/model"}, {"--model=evil/model": None}):
        set_config(tmp_path, args=args)
        result = cli("launch", MODEL, "1", "--dry-run", "--json", code=4)
        expected = "names the model 'evil/model', not the recipe's huggingface_id 'Qwen/Qwen3-32B'"
        assert expected in result.stderr
        assert "evil" not in result.stdout
    set_config(tmp_path, args={"--model": MODEL, "--dtype": "bfloat16"})
    spec = json.loads(cli("launch", MODEL, "1", "--dry-run", "--json").stdout)
    assert spec["command"][:3] == ["vllm", "serve", MODEL] and "--model" not in spec["command"]
    err = cli("launch", MODEL, "1", "--dry-run", "--arg", "--model=evil/model", code=2).stderr
    assert "--arg --model: the model served is the MODEL argument's" in err


def test_launch_refuses_an_older_row_holding_an_api_key(tmp_path: Path, host: Path) -> None:
    set_config(tmp_path, args={"--api-key": "abc_row_key"})
    result = cli("launch", MODEL, "1", "--dry-run", "--json", code=4)
    assert "args: --api-key takes a secret; a recipe may not hold one" in result.stderr
    assert "abc_row_key" not in result.stdout + result.stderr


def test_an_api_key_given_at_launch_is_masked_in_a_dry_run(host: Path) -> None:
    for given in (("--arg", "--api-key=op_key_value"), ("--arg", "--admin-api-key=op_key_value")):
        result = cli("launch", MODEL, "1", "--dry-run", "--json", *given)
        spec = json.loads(result.stdout)
        flag = given[1].split("=")[0]
        assert spec["command"][spec["command"].index(flag) + 1] == "***"
        assert f"{flag} '***'" in spec["docker_run"]
        assert "op_key_value" not in result.stdout + result.stderr
        human = cli("launch", MODEL, "1", "--dry-run", *given)
        assert "op_key_value" not in human.stdout + human.stderr and f"{flag} ***" in human.stdout
