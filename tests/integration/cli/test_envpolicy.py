"""What a recipe's env may set (``backends/envpolicy.py``) and how secret-named variables are
masked, through ``validate`` and ``launch --dry-run`` (no Docker engine needed).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from support.launch import MODEL, RECIPE, cli, set_config, write

# --------------------------------------------------------------------------- recipe env


@pytest.mark.parametrize(
    "name",
    [
        "HF_ENDPOINT",
        "HTTPS_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "PATH",
        "PYTHONPATH",
        "PIP_INDEX_URL",  # where a recipe's setup steps would install from
        "PIP_EXTRA_INDEX_URL",
        "PIP_CONFIG_FILE",
        "UV_INDEX_URL",
    ],
)
def test_recipes_may_not_redirect_traffic_or_the_loader(tmp_path: Path, host: Path, name: str) -> None:
    path = write(tmp_path, f"    env:\n      VLLM_ROCM_USE_AITER: '1'\n      {name}: http://evil.example\n")
    result = cli("validate", str(path), code=4)
    assert f"{path}:11:7: vllm_serve.4_gpu.env.{name}: {name} " in result.stderr
    assert "a recipe may not set it" in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_named_variables_are_refused_in_recipes_but_tokenizers_is_not(
    tmp_path: Path, host: Path
) -> None:
    path = write(tmp_path, "    env:\n      HUGGING_FACE_HUB_TOKEN: x\n      VLLM_API_KEY: y\n")
    err = cli("validate", str(path), code=4).stderr
    assert "env.HUGGING_FACE_HUB_TOKEN: HUGGING_FACE_HUB_TOKEN looks like a secret" in err
    assert "env.VLLM_API_KEY: VLLM_API_KEY looks like a secret" in err
    cli("validate", str(write(tmp_path, "    env:\n      TOKENIZERS_PARALLELISM: 'false'\n")))


def test_a_catalog_row_with_a_denied_variable_is_not_launched(tmp_path: Path, host: Path) -> None:
    set_config(tmp_path, env={"HF_ENDPOINT": "https://evil.example"})
    result = cli("launch", MODEL, "1", "--dry-run", code=4)
    assert "env.HF_ENDPOINT: HF_ENDPOINT redirects model downloads" in result.stderr
    assert RECIPE in result.stderr and "docker run" not in result.stdout


# --------------------------------------------------------------------------- secrets


def test_every_secret_named_variable_is_masked_in_a_dry_run(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = ("--env", "HUGGING_FACE_HUB_TOKEN=hf_hub_secret_value", "--env", "PLAIN=1")
    result = cli("launch", MODEL, "1", "--dry-run", "--json", *given)
    spec = json.loads(result.stdout)
    assert spec["env"]["HUGGING_FACE_HUB_TOKEN"] == "***" and spec["env"]["PLAIN"] == "1"
    argv = shlex.split(spec["docker_run"])
    assert argv[argv.index("HUGGING_FACE_HUB_TOKEN") - 1] == "-e" and "PLAIN=1" in argv
    assert "hf_hub_secret_value" not in result.stdout + result.stderr
    human = cli("launch", MODEL, "1", "--dry-run", "--env", "DB_PASSWORD=pw_secret_value")
    assert "pw_secret_value" not in human.stdout + human.stderr and "DB_PASSWORD=***" in human.stdout
    # --env NAME passes NAME from this environment: the value never is on a command line
    monkeypatch.setenv("VLLM_API_KEY", "vk_from_the_environment")
    result = cli("launch", MODEL, "1", "--dry-run", "--json", "--env", "VLLM_API_KEY")
    assert json.loads(result.stdout)["env"]["VLLM_API_KEY"] == "***"
    assert "vk_from_the_environment" not in result.stdout + result.stderr


# --------------------------------------------------------------------------- env deny-list


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
