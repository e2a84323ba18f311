"""Keep the bundled catalog honest (issue 10): it validates and ingests whole, every recipe
says where it comes from, and a new user gets the tuned InferenceX configs with the image of
the right GPU generation for every model and AMD GPU the InferenceX entries list.

The InferenceX recipes are the output of scripts/gen_inferencex_recipes.py run on
SemiAnalysisAI/InferenceX 843c6254ff69 (and c198b20ebe3b for Llama-3.3-70B); these tests
check the committed output against the reference copy in ../shared/reference/inferencex.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.host import fake_kfd_sysfs
from support.paths import REPO

from aim_catalog.backends import images
from aim_catalog.backends.registry import BACKENDS
from aim_catalog.recipes.files import load_recipes
from aim_catalog.storage.resources import seed_recipe_dir

DSR1 = "deepseek-ai/DeepSeek-R1-0528"
GENERATIONS = {"MI300X": "gfx942", "MI325X": "gfx942", "MI355X": "gfx950"}


def generated(recipe: Any) -> bool:
    return bool(recipe.document["source"].get("generated_by") == "scripts/gen_inferencex_recipes.py")


def bundled() -> list[Any]:
    recipes, problems, files = load_recipes([seed_recipe_dir()])
    assert problems == [] and len(recipes) == files
    return recipes


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


@pytest.mark.parametrize("hardware", sorted(GENERATIONS))
def test_explain_dsr1_fp8_8_gpus_per_generation(cli: Callable[..., Any], hardware: str) -> None:
    result = cli("explain", DSR1, "8", "-p", "fp8", "-b", "any", "--hardware", hardware, "--json")
    verdicts = json.loads(result.stdout)
    verdicts = verdicts["verdicts"] if isinstance(verdicts, dict) else verdicts
    chosen = [v for v in verdicts if v.get("verdict") == "chosen"]
    assert len(chosen) == 1
    assert chosen[0]["recipe_id"].startswith(f"deepseek-r1-0528-{hardware.lower()}-fp8")
    # every config says the image it would launch with, built for this generation
    configured = [v for v in verdicts if v["verdict"] in ("chosen", "ranked")]
    assert configured and all(v["image"] for v in configured)
    assert {images.image_architecture(v["image"]) for v in configured} <= {None, GENERATIONS[hardware]}
    suffix = "-mi30x" if GENERATIONS[hardware] == "gfx942" else "-mi35x"
    assert any(suffix in v["image"] for v in configured if v["backend"] == "sglang")
    table = cli("explain", DSR1, "8", "-p", "fp8", "-b", "any", "--hardware", hardware).stdout
    assert chosen[0]["image"].rsplit(":", 1)[-1][:12] in table.replace("\n", "")
    picked = json.loads(
        cli("select", DSR1, "8", "-p", "fp8", "-b", "any", "--hardware", hardware, "--json").stdout
    )
    assert picked["hardware"] == hardware and picked["gpu_count"] == 8
    # the image is the InferenceX one, built for this generation
    assert images.image_architecture(picked["image"]) in (None, GENERATIONS[hardware])
    sglang = json.loads(
        cli("select", DSR1, "8", "-p", "fp8", "-b", "sglang", "--hardware", hardware, "--json").stdout
    )
    assert sglang["image"].startswith("lmsysorg/sglang") and suffix in sglang["image"]


def test_launch_dry_run_for_every_inferencex_model_and_gpu(cli: Callable[..., Any]) -> None:
    """What a new user on a fresh clone gets: the tuned image, flags and env, per recipe."""
    seen = 0
    recipes = {r.recipe_id: r for r in bundled()}
    for recipe in recipes.values():
        if not generated(recipe):
            continue
        config = max(recipe.serve_configs, key=lambda c: (c.gpu_count, c.backend))
        spec = json.loads(
            cli(
                "launch", recipe.huggingface_id, str(config.gpu_count), "-p", recipe.precision,
                "-b", config.backend, "--hardware", recipe.hardware, "--dry-run", "--json",
            ).stdout
        )  # fmt: skip
        # an -mtp sibling with the same config loses the recipe_id tie-break to the plain one
        chosen = recipes[spec["recipe_id"]]
        assert chosen.recipe_id in (recipe.recipe_id, recipe.recipe_id.removesuffix("-mtp"))
        (expected,) = [
            c for c in chosen.serve_configs if (c.backend, c.gpu_count) == (config.backend, config.gpu_count)
        ]
        assert spec["image"] == expected.image, recipe.recipe_id
        assert spec["gpu_count"] == config.gpu_count
        for name, value in expected.env.items():
            assert spec["env"][name] == value
        seen += 1
    assert seen >= 40


def test_images_are_per_generation_and_mismatches_are_refused(cli: Callable[..., Any]) -> None:
    listed = json.loads(cli("images", "--json").stdout)
    table = {(row["backend"], row["architecture"]): row["image"] for row in listed}
    assert table[("sglang", "gfx942")].endswith("-mi30x") or "-mi30x-" in table[("sglang", "gfx942")]
    assert "-mi35x" in table[("sglang", "gfx950")]
    assert images.default_image("sglang", "MI355X") == table[("sglang", "gfx950")]
    # a gfx942 build on a gfx950 GPU: refused unless the user names the image
    with pytest.raises(Exception, match="built for gfx942, but MI355X is gfx950"):
        images.choose_image("sglang", "MI355X", "lmsysorg/sglang:v0.5.12-rocm700-mi30x", None)
    assert (
        images.choose_image("sglang", "MI355X", "lmsysorg/sglang:v0.5.12-rocm700-mi30x", "mine:1") == "mine:1"
    )
    with pytest.raises(Exception, match="no default atom image for MI300X"):
        images.choose_image("atom", "MI300X", None, None)


@pytest.mark.usefixtures("db_url")
def test_whole_bundled_catalog_ingests(cli: Callable[..., Any], db_url: str) -> None:
    result = cli("--db", db_url, "ingest", str(seed_recipe_dir()), "--json")
    report = json.loads(result.stdout)
    assert len(report["added"]) == len(bundled())
    listed = json.loads(cli("--db", db_url, "list-recipes", "--model", DSR1, "--json").stdout)
    assert {r["hardware"] for r in listed} >= {"MI300X", "MI325X", "MI355X"}


def test_the_generator_reproduces_the_committed_recipes(reference_dir: Path, tmp_path: Path) -> None:
    """scripts/gen_inferencex_recipes.py, run on the launch scripts copied into the reference
    folder (scripts/SOURCES.md), writes the same image, flags and env as the committed
    recipes (which were generated from the full InferenceX history): one command refreshes."""
    import subprocess
    import sys

    script = REPO / "scripts" / "gen_inferencex_recipes.py"
    if not script.exists():
        pytest.skip("scripts/ is not part of an installed package")
    out = tmp_path / "generated"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            "--reference",
            str(reference_dir.parent / "inferencex"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    generated = sorted(out.glob("*.yaml"))
    assert len(generated) >= 5
    for path in generated:
        mine = yaml.safe_load(path.read_text())
        committed = yaml.safe_load((seed_recipe_dir() / path.name).read_text())
        for key, section in mine.items():
            if not key.endswith("_serve"):
                continue
            for gpus, config in section.items():
                theirs = committed[key][gpus]
                for field in ("image", "args", "env"):
                    assert config.get(field) == theirs.get(field), (path.name, key, gpus, field)


def test_an_image_built_for_another_gpu_generation_is_refused(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an MI355X host (gfx950, a fake sysfs), the MI300X recipe's -mi30x SGLang image is
    refused unless the user names an image; the MI355X recipe's -mi35x one runs."""
    fake_kfd_sysfs(tmp_path / "sysfs", 8, target=90500, device_id=0x75A3)  # 8 x MI355X (gfx950)
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(tmp_path / "sysfs"))
    base = ("launch", DSR1, "8", "-p", "fp8", "-b", "sglang", "--dry-run", "--json")
    refused = cli(*base, "--hardware", "MI300X", code=2)
    assert "built for gfx942, but MI355X is gfx950" in refused.stderr and "--image" in refused.stderr
    named = json.loads(cli(*base, "--hardware", "MI300X", "--image", "lmsysorg/sglang:mine").stdout)
    assert named["image"] == "lmsysorg/sglang:mine"
    native = json.loads(cli(*base).stdout)  # the detected MI355X picks its own recipe
    assert native["recipe_id"] == "deepseek-r1-0528-mi355x-fp8" and "-mi35x" in native["image"]


@pytest.mark.parametrize("hardware", sorted(GENERATIONS))
def test_the_issues_command_answers_without_a_backend(cli: Callable[..., Any], hardware: str) -> None:
    """`aim-catalog launch deepseek-ai/DeepSeek-R1-0528 8 -p fp8` answered "no recipe" while the
    default backend (vLLM) has no DeepSeek-R1 config: with --backend not given, the best of the
    backends the model has is chosen, and the output says why."""
    result = cli("launch", DSR1, "8", "-p", "fp8", "--hardware", hardware, "--dry-run", "--json")
    plan = json.loads(result.stdout)
    assert plan["backend"] in ("sglang", "atom") and plan["gpu_count"] == 8
    assert plan["recipe_id"].startswith(f"deepseek-r1-0528-{hardware.lower()}-fp8")
    assert "has no vLLM config; --backend picks one" in result.stderr
    cli("launch", DSR1, "8", "-p", "fp8", "-b", "vllm", "--hardware", hardware, "--dry-run", code=3)


def test_gpt_oss_mi355x_dotted_compilation_args_keep_their_values(cli: Callable[..., Any]) -> None:
    """gptoss_fp4_mi355x.sh passes ``-cc.pass_config.fuse_rope_kvcache=True`` (and
    ``-cc.use_inductor_graph_partition=True``); as bare flags, vLLM's parser would read the
    second as the first one's value."""
    spec = json.loads(
        cli(
            "launch", "openai/gpt-oss-120b", "1", "--hardware", "MI355X", "-p", "mxfp4",
            "-b", "vllm", "--dry-run", "--json",
        ).stdout
    )  # fmt: skip
    argv = spec["command"]
    assert spec["recipe_id"] == "gpt-oss-120b-mi355x-mxfp4"
    assert "-cc.pass_config.fuse_rope_kvcache=True" in argv
    assert "-cc.use_inductor_graph_partition=True" in argv
    assert not [a for a in argv if a.startswith("-") and "." in a and "=" not in a]


def test_an_mi350x_host_gets_the_gfx950_default_images(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MI350X is gfx950 like MI355X (hardware.py, by device id 0x75a0): default images are
    resolved by architecture, so a config without its own image launches with the gfx950
    default on an MI350X host, and a gfx942 build is refused there."""
    fake_kfd_sysfs(tmp_path / "sysfs", 2, target=90500, device_id=0x75A0)  # 2 x MI350X (gfx950)
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(tmp_path / "sysfs"))
    assert images.architecture("MI350X") == "gfx950"
    # the seed Mistral recipe's SGLang configs name no image: the host's generation decides
    base = ("launch", "mistralai/Mistral-7B-Instruct-v0.3", "1", "-p", "bf16", "-b", "sglang")
    plan = json.loads(cli(*base, "--hardware", "MI300X", "--dry-run", "--json").stdout)
    assert plan["image"] == images.default_image("sglang", "MI355X") and "-mi35x" in plan["image"]
    with pytest.raises(Exception, match="built for gfx942, but MI350X is gfx950"):
        images.choose_image("sglang", "MI350X", "lmsysorg/sglang:v0.5.12-rocm700-mi30x", None)
    listed = json.loads(cli("images", "--json").stdout)
    assert any("MI350X" in row["hardware"] for row in listed if row["architecture"] == "gfx950")


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
