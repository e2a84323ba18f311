"""Defects a review of the issue 8 hardening found (each test failed before its fix).

1. a config's model flag naming another model than its recipe (validation and launch);
2. ``sql --limit`` beyond any integer; 3. ``launch --timeout`` without an upper bound;
4. a mistyped ``--db`` path creating a catalog; 5. env deny-list gaps; 6. secret-valued
server flags in printed/stored output; 7. ``export --out ""`` and control characters in
single-line fields.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.launch import IMAGE, MODEL, cli, deployments, free_port, set_config, write

from aim_catalog.launch.targets.docker import logs as container_logs

# --------------------------------------------------------------------------- 1: model flags


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("vllm_serve", "--model", "evil/model"),
        ("vllm_serve", "--model=evil/model", "null"),
        ("sglang_serve", "--model-path", "evil/model"),
        ("sglang_serve", "--model", "evil/model"),  # a vLLM name the SGLang launcher translates
    ],
)
def test_a_config_may_not_name_another_model(tmp_path: Path, section: str, key: str, value: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        "recipe_id: r\nmodel_id: org/m\nhuggingface_id: org/m\nhardware: MI300X\nprecision: bf16\n"
        f"{section}:\n  4_gpu:\n    enabled: true\n    args:\n      --dtype: bfloat16\n      {key}: {value}\n"
    )
    err = cli("validate", str(path), code=4).stderr
    assert f"{path}:11:7: {section}.4_gpu.args.{key}: names the model 'evil/model'" in err
    path.write_text(path.read_text().replace("evil/model", "org/m"))
    cli("validate", str(path))  # the recipe's own model may be spelled out


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


# --------------------------------------------------------------------------- 7: control characters


@pytest.mark.parametrize("value", ['"a\\nb"', '"a\\tb"', '"a\\rb"'])
def test_arg_values_are_single_line(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"    args:\n      --dtype: {value}\n")
    err = cli("validate", str(path), code=4).stderr
    assert f"{path}:10:7: vllm_serve.4_gpu.args.--dtype: " in err
    assert "contains the control character U+" in err


# --------------------------------------------------------------------------- 2, 3: number bounds


def test_sql_limit_is_bounded(db_url: str) -> None:
    cli("--db", db_url, "db", "upgrade")
    result = cli("--db", db_url, "sql", "--limit", "99999999999999999999999", "select 1", code=2)
    assert "Invalid value for '--limit'" in result.stderr and "2147483647" in result.stderr
    assert json.loads(
        cli("--db", db_url, "sql", "--limit", "2147483647", "--format", "json", "select 1").stdout
    )


def test_launch_timeout_is_bounded(tmp_path: Path, host: Path) -> None:
    result = cli("launch", MODEL, "1", "--dry-run", "--timeout", "86401", code=2)
    assert "Invalid value for '--timeout'" in result.stderr and "86400" in result.stderr
    cli("launch", MODEL, "1", "--dry-run", "--timeout", "86400")


# --------------------------------------------------------------------------- 5: env deny-list


@pytest.mark.parametrize(
    "name",
    [
        "SGLANG_USE_MODELSCOPE",
        "VLLM_USE_MODELSCOPE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "HOSTALIASES",
        "GCONV_PATH",
        "SSLKEYLOGFILE",
        "BASH_ENV",
        "ENV",
    ],
)
def test_more_redirecting_variables_are_denied(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, f"    env:\n      {name}: /tmp/evil\n")
    err = cli("validate", str(path), code=4).stderr
    assert f"{path}:10:7: vllm_serve.4_gpu.env.{name}: {name} " in err and "a recipe may not set it" in err


# --------------------------------------------------------------------------- 7: empty --out


def test_an_empty_out_directory_is_a_usage_error(
    tmp_path: Path, host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    cli("list-recipes")  # the default catalog exists and holds the seed recipes
    for args in (("export", "--out", ""), ("export", "--out", "  ")):
        assert "--out is empty: name a directory" in cli(*args, code=2).stderr
    kube = ("launch", MODEL, "1", "--target", "kubernetes", "--dry-run", "--out", "")
    assert "--out is empty: name a directory" in cli(*kube, code=2).stderr
    assert list(work.iterdir()) == []


# --------------------------------------------------------------------------- 6: secret-valued flags


def test_a_recipe_may_not_hold_a_server_api_key(tmp_path: Path) -> None:
    path = write(tmp_path, "    args:\n      --dtype: bfloat16\n      --api-key: abc_recipe_key\n")
    result = cli("validate", str(path), code=4)
    assert f"{path}:11:7: vllm_serve.4_gpu.args.--api-key: --api-key takes a secret" in result.stderr
    assert "abc_recipe_key" not in result.stdout + result.stderr
    # a bare --hf-token (use the login's token) holds no secret; --tokenizer is no token
    cli("validate", str(write(tmp_path, "    args:\n      --hf-token: null\n      --tokenizer: org/t\n")))


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


@pytest.mark.docker
def test_an_api_key_reaches_the_container_but_not_the_catalog(docker_env: Any, tmp_path: Path) -> None:
    port = str(free_port())
    cli(
        "launch", MODEL, "1", "--image", IMAGE, "--port", port, "--name", "key", "--arg", "--api-key=k_secret"
    )
    container = docker_env.containers.get("key")
    argv = container.attrs["Config"]["Cmd"]
    assert argv[argv.index("--api-key") + 1] == "k_secret"
    (row,) = deployments(tmp_path)
    assert "k_secret" not in json.dumps(row, default=str)
    assert "--api-key" in json.loads(row["spec"])["command"]
    assert container_logs.container_secrets(container) == ["k_secret"]  # masked in logs


# --------------------------------------------------------------------------- 4: a mistyped --db


def test_a_read_command_does_not_create_a_catalog(tmp_path: Path, reference_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'typo-dir' / 'c.db'}"
    for args in (("list-recipes",), ("sql", "select 1"), ("db", "current"), ("select", MODEL, "1")):
        result = cli("--db", url, *args, code=1)
        expected = f"error: no catalog at {tmp_path / 'typo-dir' / 'c.db'} (create it with `aim-catalog db"
        assert result.stderr.splitlines()[-1].startswith(expected) and "Traceback" not in result.stderr
    (tmp_path / "dir").mkdir()
    in_dir = f"sqlite:///{tmp_path / 'dir' / 'c.db'}"
    cli("--db", in_dir, "list-recipes", code=1)
    cli("--db", in_dir, "ingest", str(reference_dir), "--dry-run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir"] and list((tmp_path / "dir").iterdir()) == []
    cli("--db", url, "db", "upgrade")  # these create it
    assert json.loads(cli("--db", url, "list-recipes", "--json").stdout) == []
    cli("--db", in_dir, "ingest", str(reference_dir))
    assert len(json.loads(cli("--db", in_dir, "list-recipes", "--json").stdout)) == 4


def test_doctor_does_not_create_a_catalog(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'typo-dir' / 'c.db'}"
    result = cli("--db", url, "doctor", "--json", code=None)
    (check,) = [c for c in json.loads(result.stdout)["checks"] if c["name"] == "catalog"]
    assert check["status"] == "fail" and "no catalog at" in check["summary"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hardware", '"MI300X\\t"'),
        ("hardware", '"MI300X\\n"'),
        ("precision", '"bf16\\t"'),
        ("recipe_id", '"r\\n"'),
        ("model_id", '"org/m\\t"'),
        ("huggingface_id", '"org/m\\n"'),
    ],
)
def test_single_line_fields_refuse_tab_and_newline(tmp_path: Path, field: str, value: str) -> None:
    path = write(tmp_path, "    image: rocm/vllm:x\n")
    lines = [
        f"{field}: {value}" if line.startswith(f"{field}:") else line for line in path.read_text().split("\n")
    ]
    path.write_text("\n".join(lines))
    err = cli("validate", str(path), code=4).stderr
    assert f"{path}:" in err and f" {field}: " in err
    for bad in ("\t", "\\n"):
        key = write(tmp_path, f'    image: "rocm/vllm{bad}x"\n')
        assert "vllm_serve.4_gpu.image:" in cli("validate", str(key), code=4).stderr
    key = write(tmp_path, '    args:\n      "--dtype\\t": x\n')
    assert "must start with '-' and have no spaces" in cli("validate", str(key), code=4).stderr
