"""Keep the bundled catalog honest: it validates and ingests whole, every recipe
says where it comes from, and a new user gets the tuned InferenceX configs with the image of
the right GPU generation for every model and AMD GPU the InferenceX entries list.

The InferenceX recipes are the output of scripts/gen_inferencex_recipes.py run on
SemiAnalysisAI/InferenceX 843c6254ff69 (and c198b20ebe3b for Llama-3.3-70B); these tests
check the committed output against the reference copy in ../shared/reference/inferencex.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.host import fake_kfd_sysfs
from support.seed import DSR1, GENERATIONS, bundled, generated

from aim_catalog.backends import images


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
        # an -mtp sibling with the same config competes with the plain one: the measured
        # throughput decides (the bundled DeepSeek-R1 rows), else the recipe_id tie-break
        chosen = recipes[spec["recipe_id"]]
        assert chosen.recipe_id.removesuffix("-mtp") == recipe.recipe_id.removesuffix("-mtp")
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
    assert native["recipe_id"].startswith("deepseek-r1-0528-mi355x-fp8") and "-mi35x" in native["image"]


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
