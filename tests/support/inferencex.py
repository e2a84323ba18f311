"""An InferenceX checkout built from the reference copies in ../shared (never copied into
the project), and what the tests of ``catalog sync inferencex`` compare.

``reference/inferencex/`` is not laid out as a checkout; ``build_checkout`` lays its files
out where an InferenceX checkout at commit 843c6254 has them:

- ``amd-master.yaml`` (top of the folder) -> ``configs/amd-master.yaml``;
- ``configs/amd-*.yaml`` -> ``configs/deprecated/amd-*.yaml``, except the dated
  ``amd-master.2025-11-03_17d5e204f.yaml`` (the older ``.github/configs/amd-master.yaml``);
- the scripts ``scripts/SOURCES.md`` maps to a path at commit 843c6254 -> that path
  (``benchmark_lib.sh`` -> ``benchmarks/benchmark_lib.sh``); the Oct 2025 ones are left out.

It has no ``MODELS.md`` and no ``.git``: the checkout records no commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from aim_catalog.storage import db
from aim_catalog.storage.models import Recipe
from support.paths import REFERENCE_INFERENCEX
from support.services import missing_service

REFERENCE = REFERENCE_INFERENCEX
COMMIT = "843c6254ff69b567f772f6a5fd97675af3d04431"
MASTER = "configs/amd-master.yaml"
_OLD_MASTER = "amd-master.2025-11-03_17d5e204f.yaml"
_FIXED = "benchmarks/single_node/fixed_seq_len/"

# The recipes the reference tree gives serve configs for, and the script that makes each:
# 9 configs from the six launch scripts the reference folder copies at 843c6254.
PRODUCED = {
    "deepseek-r1-0528-mi300x-fp8": {("sglang", 8): _FIXED + "dsr1_fp8_mi300x.sh"},
    "deepseek-r1-0528-mi355x-fp8": {("sglang", n): _FIXED + "dsr1_fp8_mi355x.sh" for n in (4, 8)},
    "qwen3-5-397b-a17b-fp8-mi325x-fp8": {("sglang", 8): _FIXED + "qwen3.5_fp8_mi325x.sh"},
    "deepseek-v4-pro-mi300x-fp8": {("vllm", 8): _FIXED + "dsv4_fp8_mi300x.sh"},
    "gpt-oss-120b-mi355x-mxfp4": {("vllm", n): _FIXED + "deprecated/gptoss_fp4_mi355x.sh" for n in (1, 4, 8)},
    "kimi-k2-5-mi325x-int4": {("vllm", 8): _FIXED + "deprecated/kimik2.5_int4_mi325x.sh"},
}
# Of those, the recipes some of whose entries have no script in the reference (an ATOM
# entry each): produced from what could be read, then, once in a catalog, left as it is.
PARTIAL = {
    "deepseek-r1-0528-mi355x-fp8": "dsr1-fp8-mi355x-atom",
    "gpt-oss-120b-mi355x-mxfp4": "gptoss-fp4-mi355x-atom",
}
# Those whose every entry is archived (configs/deprecated/): retired.
ARCHIVED = {"gpt-oss-120b-mi355x-mxfp4", "kimi-k2-5-mi325x-int4"}


def script_sources(reference: Path = REFERENCE) -> dict[str, str]:
    """SOURCES.md's rows at the checkout's commit: file here -> path in the checkout."""
    out: dict[str, str] = {}
    for line in (reference / "scripts" / "SOURCES.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[2] == COMMIT:
            # "benchmarks/benchmark_lib.sh (client: ...)": the path is the first word
            out[cells[0]] = cells[1].split()[0]
    return out


def build_checkout(root: Path, reference: Path = REFERENCE) -> Path:
    """Lay the reference folder out as an InferenceX checkout under ``root``; return ``root``.
    The files are written (not linked, nor copied with their read-only mode): tests edit them.
    Skips loudly (fails under CI) when ../shared has no reference folder."""
    if not (reference / "scripts" / "SOURCES.md").is_file():
        missing_service(f"InferenceX reference folder not found at {reference}")
    files = {MASTER: reference / "amd-master.yaml"}
    for path in sorted((reference / "configs").glob("amd-*.yaml")):
        if path.name != _OLD_MASTER:
            files[f"configs/deprecated/{path.name}"] = path
    for name, target in script_sources(reference).items():
        files[target] = reference / "scripts" / name
    for target, source in files.items():
        dest = root / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(source.read_bytes())
    return root


def edit_configs(root: Path, path: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Edit a master config of the checkout as a maintainer would (a missing file starts empty)."""
    target = root / path
    entries = yaml.safe_load(target.read_text()) if target.exists() else {}
    change(entries)
    target.write_text(yaml.safe_dump(entries, sort_keys=False))


def sync(cli: Callable[..., Any], url: str, root: Path, *options: str, code: int = 0) -> dict[str, Any]:
    """``aim-catalog catalog sync inferencex ROOT --json`` on the catalog at ``url``: its plan."""
    result = cli("catalog", "sync", "inferencex", str(root), "--json", *options, db_url=url, code=code)
    assert result.stderr == ""  # --json: the progress lines are not printed
    return dict(json.loads(result.stdout))


def catalog_state(url: str) -> dict[str, dict[str, Any]]:
    """What a sync may change, per recipe: its status and, per config, what the plan compares
    (enabled, image, args, env, setup) and its benchmark count."""
    engine: Engine = db.make_engine(url)
    out: dict[str, dict[str, Any]] = {}
    with Session(engine) as session:
        for recipe in session.scalars(select(Recipe).options(selectinload(Recipe.serve_configs))):
            retired_on = recipe.retired_on.isoformat() if recipe.retired_on else None
            out[recipe.recipe_id] = {
                "status": (recipe.status, retired_on, recipe.retired_reason),
                "configs": {
                    (c.backend, c.gpu_count): (c.enabled, c.image, c.args, c.env, c.setup, len(c.benchmarks))
                    for c in recipe.serve_configs
                },
            }
    engine.dispose()
    return out


# A MODELS.md in the shape of InferenceX's at commit 843c6254 (2026-08-22): its "Scenarios"
# table and its "Model support matrix" (`| Model architecture class | Prefix | Date added |
# Active scenarios | Deprecated scenarios |`, prefixes in backticks, a retired model's active
# cell "None (retired DATE, [#PR](url))"); rows cut to the models the tests use, cells as
# upstream wrote them (some shortened).
PR = "https://github.com/SemiAnalysisAI/InferenceX/pull/"


def _pr(number: int) -> str:
    return f"[#{number}]({PR}{number})"


def _table(*rows: tuple[str, ...]) -> str:
    head, *body = rows
    lines = [head, tuple("---" for _ in head), *body]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


_SCENARIOS = _table(
    ("Scenario", "ISL/OSL", "Status"),
    ("Single-turn 8k1k", "8192 / 1024", "Active. This is the primary fixed-sequence-length scenario."),
    (
        "Single-turn 1k1k",
        "1024 / 1024",
        f"**Deprecated for all models** since 2026-07-17 ({_pr(2263)}), to save GPU cluster time.",
    ),
)
_MATRIX = _table(
    ("Model architecture class", "Prefix", "Date added", "Active scenarios", "Deprecated scenarios"),
    (
        "MiniMax-M3",
        "`minimaxm3`",
        f"2026-06-12 ({_pr(1724)})",
        "Agentic coding",
        f"Single-turn 1k1k, Single-turn 8k1k (removed 2026-08-04, {_pr(2493)})",
    ),
    (
        "DeepSeek-V4-Pro",
        "`dsv4`",
        f"2026-04-24 ({_pr(1130)})",
        "Single-turn 8k1k, Agentic coding",
        "Single-turn 1k1k",
    ),
    (
        "GLM-5 / GLM-5.1",
        "`glm5`, `glm5.1`",
        f"2026-03-06 ({_pr(762)})",
        f"None (retired 2026-07-18, {_pr(2276)})",
        "Single-turn 1k1k, Single-turn 8k1k",
    ),
    (
        "Kimi-K2.5/2.6/2.7-Code",
        "`kimik2.5`",
        f"2026-02-17 ({_pr(734)})",
        f"None (fully retired 2026-08-07, {_pr(2527)})",
        f"Single-turn 1k1k, Single-turn 8k1k (removed 2026-08-07, {_pr(2527)})",
    ),
    (
        "Qwen3.5-397B-A17B",
        "`qwen3.5`",
        f"2026-02-16 ({_pr(704)})",
        "Single-turn 8k1k and Agentic coding, both limited to fp8/fp4",
        f"Single-turn 1k1k, Single-turn 1k8k, all bf16 recipes (removed 2026-08-04, {_pr(2493)})",
    ),
    (
        "gpt-oss-120b",
        "`gptoss`",
        "2025-09-09",
        f"None (retired 2026-07-06, {_pr(2101)})",
        "Single-turn 1k1k, Single-turn 1k8k, Single-turn 8k1k",
    ),
    ("DeepSeek-R1-0528", "`dsr1`", "2025-08-13", "Single-turn 8k1k", "Single-turn 1k1k, Single-turn 1k8k"),
)
MODELS_MD = f"""# Models

## Scenarios

{_SCENARIOS}

## Model support matrix

{_MATRIX}

## Notes

- The `Prefix` column is the canonical `model-prefix` used in `configs/*-master.yaml`.
"""
