"""Recipe parsing and validation: the original files, the seeds, hostile input, the rules.

Every rejection is checked for where it points (line, col, field) and what it says, and
every hostile input must come back as a Problem, never as an exception.
"""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.paths import REFERENCE_RECIPES

from aim_catalog.errors import Problem
from aim_catalog.recipes import safe_yaml
from aim_catalog.recipes.files import expand_paths, load_recipes, parse_bytes, parse_file
from aim_catalog.recipes.format import MAX_BYTES, RecipeDoc
from aim_catalog.recipes.safe_yaml import MAX_DEPTH
from aim_catalog.storage.resources import seed_recipe_dir

REFERENCE_DIR = REFERENCE_RECIPES
SEED_DIR = seed_recipe_dir()

# Five lines: a serve section added after it starts on line 6.
HEAD = """\
recipe_id: demo-mi300x-bf16
model_id: Org/Model
huggingface_id: Org/Model
hardware: MI300X
precision: bf16
"""


def serve(body: str, gpus: str = "4_gpu", backend: str = "vllm") -> str:
    """HEAD plus one serve config: ``{backend}_serve`` on line 6, ``{gpus}`` on line 7 col 3,
    and ``body`` from line 8, indented to col 5."""
    return HEAD + f"{backend}_serve:\n  {gpus}:\n" + textwrap.indent(textwrap.dedent(body), "    ")


def parse(text: str | bytes, path: str = "t.yaml") -> tuple[RecipeDoc | None, list[Problem]]:
    return parse_bytes(text.encode() if isinstance(text, str) else text, path)


def parse_ok(text: str | bytes) -> RecipeDoc:
    doc, problems = parse(text)
    assert problems == []
    assert doc is not None
    return doc


def only_problem(text: str | bytes, path: str = "t.yaml") -> Problem:
    doc, problems = parse(text, path)
    assert doc is None
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def assert_problem(p: Problem, line: int, col: int, field: str, fragment: str) -> None:
    assert (p.line, p.col, p.field) == (line, col, field), str(p)
    assert fragment in p.message, str(p)


# ---------------------------------------------------------------------------------------
# The original AIM Engine files, unchanged


def reference_files() -> list[Path]:
    return sorted(REFERENCE_DIR.glob("*.yaml")) if REFERENCE_DIR.is_dir() else []


needs_reference = pytest.mark.usefixtures("reference_dir")  # conftest: skip, or fail in CI


@needs_reference
def test_reference_dir_has_the_four_original_files() -> None:
    assert [p.name for p in reference_files()] == [
        "deepseek-r1-0528-mi300x-fp16.yaml",
        "llama-3-1-405b-fp8-kv-mi300x-fp8.yaml",
        "llama-4-maverick-17b-mi300x-fp8.yaml",
        "qwen3-32b-mi300x-bf16.yaml",
    ]


@needs_reference
@pytest.mark.parametrize("path", reference_files(), ids=lambda p: p.stem)
def test_reference_file_parses_without_problem(path: Path) -> None:
    doc, problems = parse_file(path)
    assert problems == []
    assert doc is not None
    assert doc.recipe_id == path.stem
    assert doc.path == str(path)
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert doc.hardware == "MI300X"
    assert (doc.line, doc.col) == (1, 1)
    assert len(doc.serve_configs) == 8


@needs_reference
def test_reference_qwen3_values() -> None:
    doc, _ = parse_file(REFERENCE_DIR / "qwen3-32b-mi300x-bf16.yaml")
    assert doc is not None
    assert (doc.model_id, doc.huggingface_id, doc.precision) == (
        "Qwen/Qwen3-32B",
        "Qwen/Qwen3-32B",
        "bf16",
    )
    assert [(c.backend, c.gpu_count) for c in doc.serve_configs] == [
        ("vllm", 1),
        ("vllm", 2),
        ("vllm", 4),
        ("vllm", 8),
        ("sglang", 1),
        ("sglang", 2),
        ("sglang", 4),
        ("sglang", 8),
    ]
    assert all(c.enabled for c in doc.serve_configs)
    vllm4 = doc.serve_configs[2]
    # Values stay the strings the original files hold; nothing is coerced.
    assert vllm4.args["--tensor-parallel-size"] == "4"
    assert vllm4.args["--trust-remote-code"] == "true"
    assert vllm4.args["--gpu-memory-utilization"] == "0.9"
    assert all(isinstance(v, str) for c in doc.serve_configs for v in c.args.values())
    assert (vllm4.env, vllm4.image, vllm4.benchmarks) == ({}, None, [])
    assert doc.serve_configs[4].args["--port"] == "8001"


@needs_reference
def test_reference_405b_single_gpu_has_no_tensor_parallel_arg() -> None:
    doc, _ = parse_file(REFERENCE_DIR / "llama-3-1-405b-fp8-kv-mi300x-fp8.yaml")
    assert doc is not None
    assert doc.precision == "fp8"
    by_key = {(c.backend, c.gpu_count): c for c in doc.serve_configs}
    assert "--tensor-parallel-size" not in by_key["vllm", 1].args
    assert by_key["vllm", 1].args["--dtype"] == "float8_e4m3"
    assert by_key["vllm", 8].args["--tensor-parallel-size"] == "8"
    assert by_key["sglang", 2].args["--tensor-parallel-size"] == "2"


@needs_reference
def test_reference_deepseek_disabled_config_without_args() -> None:
    doc, _ = parse_file(REFERENCE_DIR / "deepseek-r1-0528-mi300x-fp16.yaml")
    assert doc is not None
    one = next(c for c in doc.serve_configs if (c.backend, c.gpu_count) == ("vllm", 1))
    assert one.enabled is False
    assert one.args == {}


@needs_reference
def test_load_recipes_on_reference_dir() -> None:
    ticks: list[None] = []
    recipes, problems, seen = load_recipes([REFERENCE_DIR], progress=lambda: ticks.append(None))
    assert problems == []
    assert seen == 4
    assert len(ticks) == 4
    assert sorted(r.recipe_id for r in recipes) == sorted(p.stem for p in reference_files())


# ---------------------------------------------------------------------------------------
# Bundled seeds


def seed_files() -> list[Path]:
    return sorted(SEED_DIR.glob("*.yaml"))


def test_seed_dir_is_not_empty() -> None:
    assert seed_files(), f"no seed recipes in {SEED_DIR}"


@pytest.mark.parametrize("path", seed_files(), ids=lambda p: p.stem)
def test_seed_recipe_parses(path: Path) -> None:
    doc, problems = parse_file(path)
    assert problems == [], [str(p) for p in problems]
    assert doc is not None
    assert doc.recipe_id == path.stem
    assert doc.serve_configs
    if path.name.startswith(("llama-3-1-70b", "llama-3-1-405b")):
        rows = [row for c in doc.serve_configs for row in c.benchmarks]
        assert rows, f"{path.name} carries no benchmark rows"
        for row in rows:
            assert isinstance(row.get("source"), str) and row["source"].strip()
            assert isinstance(row["total_token_throughput"], float)
            assert row["total_token_throughput"] > 0


def test_seed_70b_nov_2025_carries_the_published_figure() -> None:
    path = SEED_DIR / "llama-3-1-70b-fp8-kv-mi300x-fp8-vllm-2025-11.yaml"
    doc, problems = parse_file(path)
    assert problems == []
    assert doc is not None
    (config,) = doc.serve_configs
    assert (config.backend, config.gpu_count, config.enabled) == ("vllm", 8, True)
    assert config.image == "rocm/vllm:rocm7.0.0_vllm_0.11.1_20251103"
    first = config.benchmarks[0]
    assert (first["input_len"], first["output_len"], first["concurrency"]) == (128, 2048, 3200)
    assert first["total_token_throughput"] == pytest.approx(13279.6)
    assert "Nov 2025" in first["source"]


def test_load_recipes_on_seed_dir_has_unique_ids() -> None:
    recipes, problems, seen = load_recipes([SEED_DIR])
    assert problems == []
    assert seen == len(seed_files()) == len(recipes)
    assert len({r.recipe_id for r in recipes}) == len(recipes)


# ---------------------------------------------------------------------------------------
# Hostile input: one clear Problem, never an exception

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def block_nesting(levels: int) -> str:
    """``levels`` nested block mappings: mapping k (1-based) starts on line k, col 2k-1."""
    lines = [f"{'  ' * i}k{i}:" for i in range(levels - 1)]
    return "\n".join([*lines, f"{'  ' * (levels - 1)}leaf: v"]) + "\n"


HOSTILE = [
    # (id, data, line, col, message fragment); field is "" for every load-time rejection
    ("billion-laughs", BILLION_LAUGHS, 1, 4, "YAML anchors/aliases are not allowed (&a)"),
    (
        "anchor-and-alias",
        HEAD.replace("model_id: Org/Model", "model_id: &m Org/Model").replace(
            "huggingface_id: Org/Model", "huggingface_id: *m"
        ),
        2,
        11,
        "anchors/aliases are not allowed (&m)",
    ),
    ("alias-without-anchor", "x: *undefined\n", 1, 4, "YAML aliases are not allowed (*undefined)"),
    ("anchor-on-key", "&k x: 1\n", 1, 1, "anchors/aliases are not allowed (&k)"),
    (
        "block-nesting-33",
        block_nesting(MAX_DEPTH + 1),
        MAX_DEPTH + 1,
        2 * MAX_DEPTH + 1,
        f"nesting deeper than {MAX_DEPTH} levels",
    ),
    (
        "flow-nesting-33",
        # the root mapping is level 1, so the 32nd '[' (col 35) opens level 33
        "x: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n",
        1,
        35,
        f"nesting deeper than {MAX_DEPTH} levels",
    ),
    (
        "duplicate-top-level-key",
        HEAD + "recipe_id: other\n",
        6,
        1,
        "duplicate key 'recipe_id' (first defined on line 1)",
    ),
    (
        "duplicate-nested-key",
        serve("enabled: true\nargs: {--model: a}\nenabled: false\n"),
        10,
        5,
        "duplicate key 'enabled' (first defined on line 8)",
    ),
    (
        "duplicate-flow-key",
        serve("enabled: true\nargs: {--model: a, --model: b}\n"),
        9,
        24,
        "duplicate key '--model' (first defined on line 9)",
    ),
    (
        "python-name-tag",
        "x: !!python/name:os.system\n",
        1,
        4,
        "YAML tag !!python/name:os.system is not allowed",
    ),
    (
        "python-object-mapping-tag",
        "x: !!python/object:collections.OrderedDict {a: 1}\n",
        1,
        4,
        "YAML tag !!python/object:collections.OrderedDict is not allowed",
    ),
    ("binary-tag", "x: !!binary aGVsbG8=\n", 1, 4, "YAML tag !!binary is not allowed"),
    ("set-tag", "x: !!set {a, b}\n", 1, 4, "YAML tag !!set is not allowed"),
    ("omap-tag", "x: !!omap [a: 1]\n", 1, 4, "YAML tag !!omap is not allowed"),
    ("merge-key", "x: {<<: {a: 1}}\n", 1, 5, "YAML tag !!merge is not allowed"),
    ("local-tag", "x: !custom 1\n", 1, 4, "YAML tag !custom is not allowed"),
    ("complex-key", "? [a, b]\n: 1\n", 1, 3, "only plain scalar mapping keys are allowed"),
    ("non-utf8", b"recipe_id: r\nmodel_id: caf\xe9\n", 2, 14, "not valid UTF-8 (byte 0xe9)"),
    ("empty-file", b"", 1, 1, "empty file: no YAML document"),
    ("comment-only", "# nothing here\n\n# still nothing\n", 1, 1, "empty file: no YAML document"),
    ("whitespace-only", "  \n\n   \n", 1, 1, "empty file: no YAML document"),
    ("list-at-top", "- recipe_id: r\n- model_id: m\n", 1, 1, "must be a mapping, got a list"),
    ("scalar-at-top", "just a string\n", 1, 1, "must be a mapping, got str"),
    ("null-document", "---\n...\n", 2, 1, "must be a mapping, got null"),
    ("two-documents", HEAD + "---\n" + HEAD, 6, 1, "more than one YAML document in the file"),
    (
        "syntax-error-unclosed-flow",
        "recipe_id: r\nmodel_id: [a, b\nhardware: x\n",
        3,
        9,
        "YAML syntax error: did not find expected ',' or ']'",
    ),
    ("syntax-error-tab-indent", "a:\n\tb: 1\n", 2, 1, "YAML syntax error: found character"),
    (
        "nan-metric",
        serve("enabled: true\nbenchmarks:\n  - {output_throughput: .nan}\n"),
        10,
        29,
        "non-finite number '.nan'",
    ),
    (
        "negative-inf-metric",
        serve("enabled: true\nbenchmarks:\n  - {output_throughput: -.inf}\n"),
        10,
        29,
        "non-finite number '-.inf'",
    ),
    (
        "overflowing-float",
        serve("enabled: true\nbenchmarks:\n  - {output_throughput: 1.0e+400}\n"),
        10,
        29,
        "non-finite number '1.0e+400'",
    ),
    ("bad-explicit-int", "x: !!int twelve\n", 1, 4, "bad int value 'twelve'"),
    ("bad-explicit-timestamp", "x: !!timestamp 2025-13-45\n", 1, 4, "bad timestamp value"),
]


@pytest.mark.parametrize(
    ("data", "line", "col", "fragment"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_hostile_input_is_one_located_problem(data: str | bytes, line: int, col: int, fragment: str) -> None:
    p = only_problem(data, "hostile.yaml")
    assert_problem(p, line, col, "", fragment)
    assert p.path == "hostile.yaml"
    assert str(p) == f"hostile.yaml:{line}:{col}: {p.message}"


def test_python_object_apply_tag_is_refused_and_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    p = only_problem(f"x: !!python/object/apply:os.system ['touch {marker}']\n")
    assert_problem(p, 1, 4, "", "YAML tag !!python/object/apply:os.system is not allowed")
    assert not marker.exists()


def test_flow_nesting_ten_thousand_deep_is_refused_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"[" * 10_000 + b"]" * 10_000
    events: list[Any] = []
    real_events = safe_yaml._events

    def counted(loader: Any) -> Iterator[Any]:
        for event in real_events(loader):
            events.append(event)
            yield event

    monkeypatch.setattr(safe_yaml, "_events", counted)
    p = only_problem(data)
    # libyaml's own depth guard may fire first (its scanner reads flow collections
    # ahead, up to its limit of 1000 levels); either way the refusal names nesting.
    assert (p.line, p.field) == (1, "")
    assert "nesting" in p.message, str(p)
    # Work, not time, guards against a recursive or quadratic blow-up: the parse stops
    # within the first 1000 of 20,000 brackets, after at most MAX_DEPTH levels of events.
    assert p.col <= 1_001, str(p)
    assert len(events) <= MAX_DEPTH + 3, [type(e).__name__ for e in events]


def test_nesting_exactly_max_depth_is_not_a_nesting_problem() -> None:
    # Root mapping plus 31 sequences is 32 levels: allowed by the loader; the validator then
    # reports the unknown key (and the missing fields), nothing about nesting.
    doc, problems = parse("x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n")
    assert doc is None
    assert problems[0].field == "x"
    assert "unknown top-level key 'x'" in problems[0].message
    assert not any("nesting" in p.message for p in problems)


def test_file_over_one_mib_is_refused_by_parse_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(HEAD.encode() + b"#" * MAX_BYTES + b"\n")
    size = path.stat().st_size
    doc, problems = parse_file(path)
    assert doc is None
    assert problems == [
        Problem(str(path), 0, 0, "", f"file is {size} bytes; the limit is {MAX_BYTES} (1 MiB)")
    ]
    assert str(problems[0]) == f"{path}: file is {size} bytes; the limit is {MAX_BYTES} (1 MiB)"


def test_bytes_over_one_mib_are_refused_by_parse_bytes() -> None:
    p = only_problem(b"#" * (MAX_BYTES + 1), "big.yaml")
    assert_problem(p, 0, 0, "", "1 MiB")
    assert f"{MAX_BYTES + 1} bytes" in p.message


def test_file_of_exactly_one_mib_is_accepted(tmp_path: Path) -> None:
    head = HEAD.encode()
    path = tmp_path / "exact.yaml"
    path.write_bytes(head + b"#" * (MAX_BYTES - len(head) - 1) + b"\n")
    assert path.stat().st_size == MAX_BYTES
    doc, problems = parse_file(path)
    assert problems == []
    assert doc is not None


def test_parse_file_on_a_directory_is_a_problem(tmp_path: Path) -> None:
    folder = tmp_path / "looks-like.yaml"
    folder.mkdir()
    doc, problems = parse_file(folder)
    assert doc is None
    assert len(problems) == 1
    assert_problem(problems[0], 0, 0, "", "cannot read")


def test_parse_file_on_a_missing_file_is_a_problem(tmp_path: Path) -> None:
    doc, problems = parse_file(tmp_path / "absent.yaml")
    assert doc is None
    assert len(problems) == 1
    assert_problem(problems[0], 0, 0, "", "cannot read")


# Known bugs: each of these escapes parse_bytes as an exception today.
@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ("x: !!bool maybe\n", "bool"),
        ("x: !!int ''\n", "int"),
        ("x: !!float ''\n", "float"),
        ("x: !!timestamp yesterday\n", "timestamp"),
    ],
    ids=["bool", "empty-int", "empty-float", "timestamp"],
)
def test_malformed_explicitly_tagged_scalar_is_a_problem(data: str, kind: str) -> None:
    p = only_problem(data)
    assert_problem(p, 1, 4, "", f"bad {kind} value")


def test_control_character_is_located() -> None:
    p = only_problem("a: 1\nb: 2\nc: \x07\n")
    assert_problem(p, 3, 4, "", "control characters are not allowed")


def test_control_character_is_a_problem_not_an_exception() -> None:
    p = only_problem("a: 1\nb: 2\nc: \x07\n")
    assert p.field == ""
    assert "unacceptable character #x0007" in p.message


def test_invalid_byte_after_bom_is_named_correctly() -> None:
    p = only_problem(b"\xef\xbb\xbfrecipe_id: \xff\n")
    assert p.line == 1
    assert "byte 0xff" in p.message, str(p)


# ---------------------------------------------------------------------------------------
# Validation rules

RULES = [
    # (id, text, line, col, field, message fragment)
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


def test_utf8_bom_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + HEAD.encode()
    doc, problems = parse_bytes(data, "bom.yaml")
    assert problems == []
    assert doc is not None
    assert doc.recipe_id == "demo-mi300x-bf16"
    assert doc.sha256 == hashlib.sha256(data).hexdigest()


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


def test_explicit_document_markers_and_comments_are_fine() -> None:
    doc = parse_ok("# a comment\n---\n" + HEAD + "...\n")
    assert doc.line == 3  # recipe_id's position in the file


def test_quoted_gpu_key_and_large_n_are_accepted() -> None:
    doc = parse_ok(serve("enabled: true\n", gpus='"9999_gpu"'))
    assert doc.serve_configs[0].gpu_count == 9999


# ---------------------------------------------------------------------------------------
# Files: expand_paths and load_recipes


def write_recipe(path: Path, recipe_id: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEAD.replace("demo-mi300x-bf16", recipe_id))
    return path


def test_duplicate_recipe_id_across_files_names_both(tmp_path: Path) -> None:
    first = write_recipe(tmp_path / "a.yaml", "same-id")
    second = write_recipe(tmp_path / "b.yaml", "same-id")
    recipes, problems, seen = load_recipes([first, second])
    assert seen == 2
    assert [r.path for r in recipes] == [str(first)]
    (p,) = problems
    assert (p.path, p.line, p.col, p.field) == (str(second), 1, 1, "recipe_id")
    assert f"duplicate recipe_id 'same-id'; also in {first}:1:1" in p.message


def test_directory_is_searched_recursively_for_yaml_and_yml(tmp_path: Path) -> None:
    root = tmp_path / "recipes"
    write_recipe(root / "top.yaml", "top")
    write_recipe(root / "sub" / "deeper" / "nested.yml", "nested")
    (root / "README.md").write_text("# not a recipe\n")
    (root / "sub" / "notes.txt").write_text("recipe_id: nope\n")
    (root / "dir.yaml").mkdir()  # a directory with a recipe-like name is not a file
    ticks: list[None] = []
    recipes, problems, seen = load_recipes([root], progress=lambda: ticks.append(None))
    assert problems == []
    assert seen == 2
    assert len(ticks) == 2
    assert sorted(r.recipe_id for r in recipes) == ["nested", "top"]


def test_missing_path_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    good = write_recipe(tmp_path / "good.yaml", "good")
    missing = tmp_path / "missing.yaml"
    recipes, problems, seen = load_recipes([missing, good])
    assert [r.recipe_id for r in recipes] == ["good"]
    assert problems == [Problem(str(missing), 0, 0, "", "no such file or directory")]
    assert seen == 1


def test_invalid_file_problems_are_collected_with_valid_ones(tmp_path: Path) -> None:
    good = write_recipe(tmp_path / "good.yaml", "good")
    bad = tmp_path / "bad.yaml"
    bad.write_text("x: &a 1\n")
    recipes, problems, seen = load_recipes([tmp_path])
    assert seen == 2
    assert [r.path for r in recipes] == [str(good)]
    (p,) = problems
    assert (p.path, p.line, p.col) == (str(bad), 1, 4)
    assert "anchors/aliases" in p.message


def test_expand_paths_deduplicates_files_named_twice(tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path / "one.yaml", "one")
    files, problems = expand_paths([recipe, tmp_path, tmp_path / "." / "one.yaml"])
    assert problems == []
    assert files == [recipe.resolve()]


def test_expand_paths_keeps_a_named_file_whatever_its_suffix(tmp_path: Path) -> None:
    odd = write_recipe(tmp_path / "recipe.txt", "odd")
    files, problems = expand_paths([odd])
    assert (files, problems) == ([odd.resolve()], [])


def test_scenario_values_must_fit_an_sql_integer() -> None:
    text = (
        HEAD
        + "vllm_serve:\n  1_gpu:\n    enabled: true\n    benchmarks:\n"
        + "      - {concurrency: 4294967296, output_throughput: 1}\n"
    )
    p = only_problem(text)
    assert p.field == "vllm_serve.1_gpu.benchmarks[0].concurrency"
    assert "must be an integer from 1 to 2147483647" in p.message
