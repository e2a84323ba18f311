"""AMD AIM runtime profiles in the catalog.

The profiles tree is ../shared/reference/aim-build (amd-enterprise-ai/aim-build 2be2cf8, tag
0.9); the hand-written profiles below follow that format (schemas/general_profile_schema.json
and model_profile_schema.json of the same commit) to control type, goal and manual selection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aim_catalog.storage.resources import seed_recipe_dir

MODEL = "example-org/Example-8B"


def profile(
    *,
    gpu: str = "MI300X",
    count: int = 1,
    precision: str = "fp16",
    metric: str = "latency",
    kind: str = "optimized",
    manual: bool = False,
    model: str | None = MODEL,
    extra: str = "",
) -> str:
    head = f"aim_id: {model}\nmodel_id: {model}\n" if model else ""
    return (
        "# Copyright © Advanced Micro Devices, Inc., or its affiliates.\n#\n"
        "# SPDX-License-Identifier: MIT\n\n"
        + head
        + f"metadata:\n  engine: vllm\n  gpu: {gpu}\n  gpu_count: {count}\n"
        f"  manual_selection_only: {str(manual).lower()}\n  metric: {metric}\n  precision: {precision}\n"
        f"  type: {kind}\n"
        f"engine_args:\n  gpu-memory-utilization: 0.9\n  no-enable-prefix-caching: null\n"
        f"  tensor-parallel-size: {count}\n{extra}"
        "env_vars:\n  VLLM_ROCM_USE_AITER: '1'\n"
    )


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "profiles" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "profiles"


def aim_build(reference_dir: Path) -> Path:
    return reference_dir.parent / "aim-build" / "profiles"


def test_the_aim_build_tree_validates_and_ingests(
    cli: Callable[..., Any], reference_dir: Path, db_url: str
) -> None:
    profiles = aim_build(reference_dir)
    files = sorted(profiles.rglob("*.yaml"))
    assert "valid" in cli("validate", str(profiles)).stdout
    report = json.loads(cli("--db", db_url, "ingest", str(profiles), "--json").stdout)
    assert len(report["added"]) == len(files)
    rows = json.loads(
        cli(
            "--db", db_url, "sql", "--format", "json",
            "SELECT r.recipe_id, r.hardware, r.precision, r.general, c.gpu_count, c.goal, c.profile_type,"
            " c.manual_only, c.args FROM recipes r JOIN serve_configs c ON c.recipe_pk = r.id",
        ).stdout
    )  # fmt: skip
    by_id = {row["recipe_id"]: row for row in rows}
    # both the latency and the throughput profile of one engine/GPU/precision/TP are kept
    base = "aim-meta-llama-llama-3.1-8b-instruct-vllm-mi300x-fp8-tp1-"
    latency, throughput = by_id[base + "latency"], by_id[base + "throughput"]
    assert (latency["goal"], throughput["goal"]) == ("latency", "throughput")
    assert latency["profile_type"] == "optimized" and not latency["manual_only"]
    args = latency["args"] if isinstance(latency["args"], dict) else json.loads(latency["args"])
    assert args["--model"] == "amd/Llama-3.1-8B-Instruct-FP8-KV"  # the weights AIM serves
    assert args["--no-enable-prefix-caching"] is True  # null: a bare flag
    assert "--distributed-executor-backend" in args  # AIM's underscore spelling, normalised
    general = [row for row in rows if row["recipe_id"].startswith("aim-general-")]
    assert general and all(row["general"] for row in general)
    assert {row["goal"] for row in general} == {"latency", "throughput"}
    assert any(row["manual_only"] for row in rows)
    assert {row["precision"] for row in rows} >= {"fp16", "fp8", "mxfp4"}  # AIM's fp4 is MXFP4


def test_a_bad_profile_is_located_and_nothing_is_written(
    cli: Callable[..., Any], tmp_path: Path, db_url: str
) -> None:
    good = profile()
    bad = profile(metric="fastest").replace("VLLM_ROCM_USE_AITER: '1'", "HF_TOKEN: hf_x")
    root = tree(tmp_path, {"example-org/Example-8B/ok.yaml": good, "example-org/Example-8B/bad.yaml": bad})
    result = cli("--db", db_url, "ingest", str(root), code=4)
    lines = result.stderr.splitlines()
    bad_path = root / "example-org/Example-8B/bad.yaml"
    metric = next(x for x in lines if "metadata.metric" in x)
    assert f"{bad_path}:12:" in metric and "latency, throughput" in metric
    assert "hf_x" not in result.stderr
    assert json.loads(cli("--db", db_url, "list-recipes", "--json").stdout) == []


def select(cli: Callable[..., Any], db_url: str, *args: str, code: int = 0) -> Any:
    result = cli("--db", db_url, "select", *args, "--hardware", "MI300X", "--json", code=code)
    return json.loads(result.stdout) if code == 0 else result


def test_goal_type_ranking_manual_selection_and_pin(
    cli: Callable[..., Any], tmp_path: Path, db_url: str
) -> None:
    root = tree(
        tmp_path,
        {
            "example-org/Example-8B/vllm-mi300x-fp16-tp1-latency.yaml": profile(kind="preview"),
            "example-org/Example-8B/vllm-mi300x-fp16-tp1-throughput.yaml": profile(
                metric="throughput", kind="unoptimized"
            ),
            "example-org/Example-8B/vllm-mi300x-fp16-tp2-latency.yaml": profile(count=2, kind="optimized"),
            "example-org/Example-8B/vllm-mi300x-fp16-tp4-latency.yaml": profile(count=4, manual=True),
        },
    )
    cli("--db", db_url, "ingest", str(root))
    prefix = "aim-example-org-example-8b-vllm-mi300x-fp16-"
    # without benchmarks: preview above unoptimized; the goal picks the config made for it
    chosen = select(cli, db_url, MODEL, "1", "-p", "fp16")
    assert (chosen["recipe_id"], chosen["goal"], chosen["fallback"]) == (
        prefix + "tp1-latency",
        "latency",
        False,
    )
    chosen = select(cli, db_url, MODEL, "1", "-p", "fp16", "--goal", "throughput")
    assert (chosen["recipe_id"], chosen["goal"]) == (prefix + "tp1-throughput", "throughput")
    # optimized above preview, when every count competes (per GPU, no scores)
    assert select(cli, db_url, MODEL, "-p", "fp16", "--host-gpus", "2")["recipe_id"] == prefix + "tp2-latency"
    # manual_selection_only: never chosen automatically, chosen when pinned
    select(cli, db_url, MODEL, "4", "-p", "fp16", code=3)
    explained = cli(
        "--db", db_url, "explain", MODEL, "4", "-p", "fp16", "--hardware", "MI300X", code=3
    ).stdout
    assert "manual selection only" in explained
    pinned = select(cli, db_url, MODEL, "4", "--recipe", prefix + "tp4-latency")  # precision not needed
    assert pinned["recipe_id"] == prefix + "tp4-latency"
    spec = json.loads(
        cli(
            "--db", db_url, "launch", MODEL, "4", "--recipe", prefix + "tp4-latency",
            "--hardware", "MI300X", "--dry-run", "--json",
        ).stdout
    )  # fmt: skip
    assert spec["recipe_id"] == prefix + "tp4-latency" and spec["command"][:3] == ["vllm", "serve", MODEL]
    select(cli, db_url, MODEL, "4", "--recipe", "no-such-recipe", code=3)
    bad_goal = cli("--db", db_url, "select", MODEL, "1", "--goal", "fastest", code=2)
    assert "unknown goal 'fastest'" in bad_goal.stderr


def test_general_profiles_only_when_no_recipe_names_the_model(
    cli: Callable[..., Any], tmp_path: Path, db_url: str
) -> None:
    root = tree(
        tmp_path,
        {
            "general/vllm-mi300x-fp16-tp4-latency.yaml": profile(model=None, count=4, kind="general"),
            "general/vllm-mi300x-fp16-tp4-throughput.yaml": profile(
                model=None, count=4, kind="general", metric="throughput"
            ),
            "example-org/Example-8B/vllm-mi300x-fp16-tp1-latency.yaml": profile(),
        },
    )
    cli("--db", db_url, "ingest", str(root))
    other = "other-org/Other-70B"
    chosen = select(cli, db_url, other, "4", "-p", "fp16", "--goal", "throughput")
    assert chosen["fallback"] is True and chosen["huggingface_id"] == other
    assert (chosen["recipe_id"], chosen["goal"]) == (
        "aim-general-vllm-mi300x-fp16-tp4-throughput",
        "throughput",
    )
    explained = cli("--db", db_url, "explain", other, "4", "-p", "fp16", "--hardware", "MI300X").stdout
    assert "general AIM profile, a fallback: no recipe names other-org/Other-70B" in " ".join(
        explained.split()
    )
    spec = json.loads(
        cli(
            "--db", db_url, "launch", other, "4", "-p", "fp16", "--hardware", "MI300X", "--dry-run", "--json"
        ).stdout
    )
    assert spec["command"][:3] == ["vllm", "serve", other]
    # a model some recipe names gets no fallback, even when none of its configs fits
    select(cli, db_url, MODEL, "4", "-p", "fp16", code=3)


def test_reasons_name_the_key_that_decided(cli: Callable[..., Any], reference_dir: Path, db_url: str) -> None:
    """Without benchmarks the goal, then the AIM profile type decide, and explain says which
    (it said "ties broken by recipe_id" whatever decided)."""
    cli("--db", db_url, "ingest", str(aim_build(reference_dir)))
    llama = "meta-llama/Llama-3.1-8B-Instruct"
    args = ("explain", llama, "--hardware", "MI300X", "-p", "fp16", "--goal", "throughput", "--json")
    verdicts = json.loads(cli("--db", db_url, *args).stdout)["verdicts"]
    ranked = [v for v in verdicts if v["verdict"] in ("chosen", "ranked")]
    text = " ".join(v["reason"] for v in ranked)
    assert "ties broken by recipe_id" not in text
    chosen = ranked[0]
    assert chosen["recipe_id"].endswith("-throughput")
    assert "by AIM profile type (optimized" in chosen["reason"]
    latency = next(v for v in ranked if v["recipe_id"].endswith("-latency"))
    assert "which is tuned for the goal throughput" in latency["reason"]
    picked = cli("--db", db_url, "select", *args[1:-1])
    assert "order: goal throughput, then benchmark per GPU, then AIM profile type" in picked.stdout


def test_general_is_not_a_model(cli: Callable[..., Any], tmp_path: Path, db_url: str) -> None:
    root = tree(tmp_path, {"general/vllm-mi325x-fp16-tp1-latency.yaml": profile(model=None, gpu="MI325X")})
    cli("--db", db_url, "ingest", str(root))
    for command in (["select"], ["explain"], ["launch", "--dry-run"]):
        asked = [*command, "aim-general", "1", "--hardware", "MI325X", "-p", "fp16"]
        refused = cli("--db", db_url, *asked, code=2)
        assert "aim-general is not a model" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


def test_unknown_recipe_goal_nobody_declares_and_manual_only_lines(
    cli: Callable[..., Any], tmp_path: Path, db_url: str
) -> None:
    root = tree(
        tmp_path,
        {
            "example-org/Example-8B/vllm-mi300x-fp16-tp1-latency.yaml": profile(),
            "example-org/Example-8B/vllm-mi300x-fp16-tp4-latency.yaml": profile(count=4, manual=True),
        },
    )
    cli("--db", db_url, "ingest", str(root), str(seed_recipe_dir()))
    missing = select(cli, db_url, MODEL, "1", "--recipe", "nonexist", code=3)
    assert "no such recipe: nonexist" in missing.stderr and "is not one of" not in missing.stderr
    other = select(cli, db_url, MODEL, "1", "--recipe", "mistral-7b-mi300x-bf16", code=3)
    assert "is one of mistralai/Mistral-7B-Instruct-v0.3's" in other.stderr
    # the seed recipes declare no goal: --goal is not silently ignored
    mistral = ("mistralai/Mistral-7B-Instruct-v0.3", "1", "-p", "bf16", "--goal", "latency")
    result = cli("--db", db_url, "select", *mistral, "--hardware", "MI300X")
    assert "no candidate config declares the goal latency" in result.stderr
    lines = cli("--db", db_url, "show-configurations", MODEL).stdout.splitlines()
    assert "- 1 GPU, fp16, vLLM: ✅ Enabled" in lines
    assert "- 4 GPU, fp16, vLLM: ✅ Enabled (only with --recipe)" in lines
