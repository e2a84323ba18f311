"""Reading recipe files: the original AIM Engine files, size limits, special files, names, the
directories searched, duplicate ids across files, expand_paths.

Every rejection is checked for where it points (line, col, field) and what it says.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from support.paths import REFERENCE_RECIPES
from support.recipe_checks import HEAD, assert_problem, only_problem

from aim_catalog.errors import Problem
from aim_catalog.recipes.files import expand_paths, load_recipes, parse_file
from aim_catalog.recipes.format import MAX_BYTES

REFERENCE_DIR = REFERENCE_RECIPES

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
    recipes, problems, seen = load_recipes([REFERENCE_DIR], progress=lambda _path: ticks.append(None))
    assert problems == []
    assert seen == 4
    assert len(ticks) == 4
    assert sorted(r.recipe_id for r in recipes) == sorted(p.stem for p in reference_files())


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
    recipes, problems, seen = load_recipes([root], progress=lambda _path: ticks.append(None))
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


def test_an_invalid_file_is_reported_beside_the_valid_ones(
    write_recipe: Callable[..., Path],
) -> None:
    good = write_recipe("good")
    write_recipe("bad", text_="recipe_id: bad\nprecision: [\n")
    _, problems, files = load_recipes([good.parent])
    assert files == 2 and len(problems) == 1
    assert problems[0].path.endswith("bad.yaml") and problems[0].line == 3


def test_duplicate_recipe_id_across_files_is_reported_with_both_places(
    write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    first = write_recipe("dup")
    write_recipe("dup", directory=tmp_path / "other")
    _, problems, _ = load_recipes([first.parent, tmp_path / "other"])
    (problem,) = problems
    assert problem.field == "recipe_id" and "duplicate recipe_id 'dup'" in problem.message
    assert str(first) in problem.message or str(first) in problem.path


def test_special_files_are_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    _, problems = parse_file(fifo)  # must not wait for a writer
    assert problems[0].message == "not a regular file"
    _, problems = parse_file(Path("/dev/zero"))
    assert problems[0].message == "not a regular file"


def test_a_file_name_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (Path(os.fsdecode(bytes(folder) + b"/bad-\xff.yaml"))).write_text("recipe_id: x\n")
    _, problems, files = load_recipes([folder])
    assert files == 1
    assert problems[0].message == "file name is not valid UTF-8; rename the file"
    assert "\ufffd" in problems[0].path


def test_hidden_folders_and_files_are_skipped(write_recipe: Callable[..., Path], tmp_path: Path) -> None:
    good = write_recipe("visible")
    (good.parent / ".github" / "workflows").mkdir(parents=True)
    (good.parent / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n")
    (good.parent / ".pre-commit-config.yaml").write_text("repos: []\n")
    recipes, problems, files = load_recipes([good.parent])
    assert (files, problems, [r.recipe_id for r in recipes]) == (1, [], ["visible"])
    # Named explicitly, a hidden file is read like any other.
    _, problems, _ = load_recipes([good.parent / ".pre-commit-config.yaml"])
    assert problems and "unknown top-level key 'repos'" in problems[0].message
