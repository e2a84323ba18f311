"""``validate`` refuses what a recipe may not hold: a flag naming another model, multi-line
values, a server API key, tabs and newlines in single-line fields.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.launch import cli, write

# --------------------------------------------------------------------------- model flags


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


# --------------------------------------------------------------------------- control characters


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ('"{% for m in messages %}\\n{{ m.content }}{% endfor %}"', "a line break U+000A"),
        ('"a\\tb"', "the control character U+0009"),
    ],
)
def test_arg_values_are_single_line(tmp_path: Path, value: str, said: str) -> None:
    """As vLLM's and SGLang's help say of --chat-template: a file path or a single-line
    template. The README said newlines were allowed in flag values (issue 18, point 11)."""
    path = write(tmp_path, f"    args:\n      --chat-template: {value}\n")
    err = cli("validate", str(path), code=4).stderr.strip()
    assert err.splitlines()[-1] == (
        f"{path}:10:7: vllm_serve.4_gpu.args.--chat-template: value contains {said}: a flag value is "
        "one line (a chat template goes in as a file path or in single-line form, as vLLM and SGLang take it)"
    )


def test_env_values_are_free_text_where_newlines_are_allowed(tmp_path: Path) -> None:
    """What the README names as free text: an env value may hold tab and newline."""
    cli("validate", str(write(tmp_path, '    env:\n      NOTE: "first\\n\\tsecond"\n')))


# --------------------------------------------------------------------------- secret-valued flags


def test_a_recipe_may_not_hold_a_server_api_key(tmp_path: Path) -> None:
    path = write(tmp_path, "    args:\n      --dtype: bfloat16\n      --api-key: abc_recipe_key\n")
    result = cli("validate", str(path), code=4)
    assert f"{path}:11:7: vllm_serve.4_gpu.args.--api-key: --api-key takes a secret" in result.stderr
    assert "abc_recipe_key" not in result.stdout + result.stderr
    # a bare --hf-token (use the login's token) holds no secret; --tokenizer is no token
    cli("validate", str(write(tmp_path, "    args:\n      --hf-token: null\n      --tokenizer: org/t\n")))


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
