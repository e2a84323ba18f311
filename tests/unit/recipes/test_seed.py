"""The bundled catalog (seed_recipes/) parses, its ids are unique, every recipe says where it
comes from, and the generator reproduces the committed InferenceX recipes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.seed import bundled, generated

from aim_catalog.backends.registry import BACKENDS
from aim_catalog.recipes.files import load_recipes, parse_file
from aim_catalog.storage.resources import seed_recipe_dir

SEED_DIR = seed_recipe_dir()

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
    assert (first["input_len"], first["output_len"]) == (128, 2048)
    assert "concurrency" not in first  # an offline run: 3200 prompts at max-num-seqs 3200, said in its source
    assert "3200 prompts at max-num-seqs 3200, not a serving concurrency" in first["source"]
    assert first["total_token_throughput"] == pytest.approx(13279.6)
    assert "Nov 2025" in first["source"]


def test_load_recipes_on_seed_dir_has_unique_ids() -> None:
    recipes, problems, seen = load_recipes([SEED_DIR])
    assert problems == []
    assert seen == len(seed_files()) == len(recipes)
    assert len({r.recipe_id for r in recipes}) == len(recipes)


def test_every_bundled_recipe_is_valid_and_names_its_source() -> None:
    recipes = bundled()
    assert len(recipes) >= 60
    for recipe in recipes:
        source = recipe.document.get("source")
        assert isinstance(source, dict) and source.get("repository"), recipe.path
        if generated(recipe):
            assert source["repository"] == "https://github.com/SemiAnalysisAI/InferenceX"
            assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
            assert source["entries"] and source["files"] and source["notes"]
            # each config says for which scenario its ISL/concurrency-dependent flags were resolved
            for config in recipe.serve_configs:
                tag = f"{config.backend} TP{config.gpu_count}: "
                assert any(n.startswith(tag) and "headline scenario ISL" in n for n in source["notes"])
                assert config.image, (recipe.recipe_id, config.backend)
    # the original design note's three examples are still there
    ids = {r.recipe_id for r in recipes}
    assert {"qwen3-32b-mi300x-bf16", "llama-3-8b-mi300x-fp16", "mistral-7b-mi300x-bf16"} <= ids


def test_benchmark_rows_only_with_a_published_url() -> None:
    """Every bundled row, hand-made or generated, names the URL its number was published at
    in its own source (a recipe-level URL does not say where one row's number comes from)."""
    rows = 0
    for recipe in bundled():
        for config in recipe.serve_configs:
            for row in config.benchmarks:
                assert re.search(r"https://\S+", row.get("source") or ""), (recipe.recipe_id, row)
                rows += 1
    assert rows >= 32  # the 8 Llama-3.1 recipes alone hold 32


def inferencex_entries(reference_dir: Path) -> list[dict[str, Any]]:
    """The single-node vLLM/SGLang/ATOM fixed-seq-len AMD entries of the current master."""
    data = yaml.safe_load((reference_dir.parent / "inferencex" / "amd-master.yaml").read_text())
    out = []
    for name, entry in data.items():
        hw = re.search(r"mi3(?:00|25|55)x", entry["runner"])
        fixed = (entry.get("scenarios") or {}).get("fixed-seq-len")
        if hw and fixed and not entry.get("multinode") and entry["framework"] in BACKENDS:
            out.append({"name": name, "hardware": hw.group(0).upper(), **entry})
    return out


def test_every_current_inferencex_entry_has_its_configs(reference_dir: Path) -> None:
    by_source: dict[tuple[str, str, str], list[Any]] = {}
    for recipe in bundled():
        by_source.setdefault((recipe.huggingface_id, recipe.hardware, recipe.precision), []).append(recipe)
    entries = inferencex_entries(reference_dir)
    assert len(entries) >= 20
    for entry in entries:
        precision = {"fp4": "mxfp4"}.get(entry["precision"], entry["precision"])
        recipes = by_source.get((entry["model"], entry["hardware"], precision), [])
        mine = [r for r in recipes if entry["name"] in r.document["source"]["entries"]]
        assert mine, entry["name"]
        configs = [c for r in mine for c in r.serve_configs if c.backend == entry["framework"]]
        tps = {row["tp"] for s in entry["scenarios"]["fixed-seq-len"] for row in s["search-space"]}
        assert {c.gpu_count for c in configs} == tps, entry["name"]
        assert {c.image for c in configs} == {entry["image"]}, entry["name"]


IMAGE_REF = re.compile(r"[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?")


def test_generated_configs_hold_what_the_server_gets_on_a_current_host() -> None:
    """The InferenceX scripts (e.g. gptoss_fp4_mi355x.sh at 843c6254ff69) export
    HSA_NO_SCRATCH_RECLAIM=1 only when `rocm-smi --showfw` reports a MEC firmware older than 177,
    and EVAL_CONCURRENT_REQUESTS for lm-eval (benchmark_lib.sh run_eval), not for the server;
    70b_fp8_*_docker.sh (c198b20ebe3b) pass `--config config.yaml` with a file they write."""
    recipes = {r.recipe_id: r for r in bundled() if generated(r)}
    for recipe in recipes.values():
        for config in recipe.serve_configs:
            assert "HSA_NO_SCRATCH_RECLAIM" not in config.env, recipe.recipe_id
            assert not [k for k in config.env if k.startswith("EVAL_")], recipe.recipe_id
            assert "--config" not in config.args, recipe.recipe_id
    notes = " ".join(recipes["gpt-oss-120b-mi355x-mxfp4"].document["source"]["notes"])
    assert "MEC firmware (rocm-smi --showfw) is older than 177" in notes
    assert "--env HSA_NO_SCRATCH_RECLAIM=1" in notes
    for hw in ("mi300x", "mi325x", "mi355x"):
        llama = recipes[f"llama-3-3-70b-instruct-fp8-kv-{hw}-fp8"]
        for config in llama.serve_configs:
            custom = json.loads(config.args["--compilation-config"])
            assert custom == {"custom_ops": ["-rms_norm", "-quant_fp8", "-silu_and_mul"]}


def test_benchmark_rows_name_the_image_they_were_measured_with() -> None:
    """A row's image is an image reference or absent; a row measured on another image than
    its config's says so (InferenceX issue #890: DSR1 MI325X on SGLang v0.5.9); a PR's date is
    not a measurement date."""
    rows = [(r, c, row) for r in bundled() for c in r.serve_configs for row in c.benchmarks]
    for recipe, _, row in rows:
        if row.get("image") is not None:
            assert IMAGE_REF.fullmatch(row["image"]), (recipe.recipe_id, row["image"])
    dsr1 = [
        (c, row)
        for r, c, row in rows
        if r.recipe_id == "deepseek-r1-0528-mi325x-fp8" and c.backend == "sglang"
    ]
    assert dsr1
    for config, row in dsr1:
        assert row["image"] == "lmsysorg/sglang:v0.5.9-rocm700-mi30x" != config.image
        assert "measured with lmsysorg/sglang:v0.5.9-rocm700-mi30x" in row["source"]
        assert "issues/890" in row["source"]
    gptoss = [row for r, _, row in rows if r.recipe_id.startswith("gpt-oss-120b")]
    assert gptoss
    for row in gptoss:
        assert "measured_at" not in row and "run date not stated" in row["source"]


def test_every_bundled_row_names_its_image_date_and_source_or_says_why_not() -> None:
    """Each bundled benchmark row (recipe rows and seed_recipes/measurements) has an image, a
    measurement date and a source URL; a recipe whose rows cannot have one says which and why in
    its source notes (AMD's offline tables give only the container's release date; PR 1092 gives
    no run date)."""
    from aim_catalog.recipes.seed import bundled_rows

    checked = 0
    for recipe in bundled():
        notes = " ".join(recipe.document.get("source", {}).get("notes", []))
        for config in recipe.serve_configs:
            for row in config.benchmarks:
                assert re.search(r"https://\S+", row.get("source") or ""), (recipe.recipe_id, row)
                for field in ("image", "measured_at"):
                    if row.get(field) is None:
                        assert f"no {field}" in notes, (recipe.recipe_id, field)
                checked += 1
    recipes = {r.recipe_id: r for r in bundled()}
    for row in bundled_rows():
        assert re.search(r"https://\S+", row.get("source") or ""), row.get("import_key")
        notes = " ".join(recipes[row["recipe_id"]].document["source"]["notes"])
        for field in ("image", "measured_at"):
            if not row.get(field):  # the InferenceX API row of run 18268966303 has "image": null
                assert f"{row['import_key']} has no {field}" in notes, row["import_key"]
        checked += 1
    assert checked >= 32


def test_no_bundled_config_sets_a_shell_only_variable_and_setup_steps_are_kept() -> None:
    """InferenceX's MiniMax-M3 ATOM scripts (843c6254) export MAX_NUM_SEQS/MAX_NUM_BATCHED_TOKENS
    only to write --max-num-seqs/--max-num-batched-tokens: no server reads them. The Kimi-K2.5
    MXFP4 vLLM script runs `pip install amd-quark` and the GLM-5/5.1 ATOM and MXFP4 scripts
    `pip install -U transformers` before the server: the recipes keep them as setup."""
    from aim_catalog.sync.inferencex.capture import RUNTIME_PREFIXES

    recipes = {r.recipe_id: r for r in bundled()}
    for recipe in recipes.values():
        for config in recipe.serve_configs:
            assert not {"MAX_NUM_SEQS", "MAX_NUM_BATCHED_TOKENS"} & set(config.env), recipe.recipe_id
            if generated(recipe):
                assert all(name.startswith(RUNTIME_PREFIXES) for name in config.env), recipe.recipe_id
    kimi = recipes["kimi-k2-5-mxfp4-mi355x-mxfp4"]
    assert {c.setup for c in kimi.serve_configs if c.backend == "vllm"} == {("pip install amd-quark",)}
    glm = [
        c
        for rid in ("glm-5-fp8-mi355x-fp8", "glm-5-1-mxfp4-mi355x-mxfp4")
        for c in recipes[rid].serve_configs
        if c.backend == "atom" or rid.startswith("glm-5-1")
    ]
    assert glm and all(c.setup == ("pip install -U transformers",) for c in glm)


def test_retired_recipes_say_when_and_why() -> None:
    """Recipes from InferenceX's configs/deprecated/ (and Llama-3.3-70B) are retired with
    MODELS.md's date and reason; those of configs/amd-master.yaml are current."""
    for recipe in bundled():
        if not generated(recipe):
            continue
        files = " ".join(recipe.document["source"]["files"])
        if "configs/deprecated/" in files or "70b-tmpl.yml" in files:
            assert recipe.status == "retired" and recipe.retired_on is not None, recipe.recipe_id
            assert "InferenceX" in (recipe.retired_reason or "") and "/pull/" in (recipe.retired_reason or "")
        else:
            assert recipe.status == "current", recipe.recipe_id
