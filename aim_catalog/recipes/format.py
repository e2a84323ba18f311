"""The recipe format: its fields, limits and name patterns, and the parsed form.

A recipe file is checked by ``validate`` and loaded by ``files``; both build the
frozen ``RecipeDoc`` / ``ServeConfigSpec`` defined here, which ``ingest`` writes.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from aim_catalog.errors import Problem
from aim_catalog.settings import ENERGY_FIELDS, METRIC_FIELDS, SMOKE_ORIGIN

MAX_BYTES = 1 << 20
MAX_FLOAT = sys.float_info.max  # metric columns are SQL double precision

PRECISIONS = ("fp32", "fp16", "bf16", "fp8", "int8", "int4", "mxfp4")
REQUIRED_FIELDS = ("recipe_id", "model_id", "huggingface_id", "hardware", "precision")
# goal/profile_type/manual_selection_only: AMD AIM profile metadata (aim_profiles.py)
GOALS = ("latency", "throughput")
PROFILE_TYPES = ("optimized", "preview", "unoptimized", "general")  # AIM's selection order
CONFIG_FIELDS = (
    "enabled", "args", "image", "env", "benchmarks", "goal", "profile_type", "manual_selection_only",
    "setup",
)  # fmt: skip
# Whether the recipe still describes what its upstream runs (``status.py`` checks these).
STATUSES = ("current", "retired")
STATUS_FIELDS = ("status", "retired_reason", "retired_on")
SCENARIO_FIELDS = ("input_len", "output_len", "concurrency")
PROVENANCE_FIELDS = ("source", "measured_at", "image")
PROVENANCE_LIMITS = {"source": 1000, "measured_at": 40, "image": 300}  # the column sizes
BENCHMARK_FIELDS = SCENARIO_FIELDS + METRIC_FIELDS + ENERGY_FIELDS + PROVENANCE_FIELDS
# Rows `bench import` brought in carry where they came from and their dedup key, so an
# exported catalog re-ingests them as imported rows (re-importing the file adds nothing).
ORIGIN_FIELDS = ("origin", "import_key")
TP_FLAGS = ("--tensor-parallel-size", "--tp", "--tp-size", "-tp")
PP_FLAGS = ("--pipeline-parallel-size", "--pp", "--pp-size", "-pp")

RECIPE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")
MODEL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
HARDWARE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

Scalar = str | int | float | bool | None


class Origin(str, Enum):
    """Where a benchmark row came from (the ``benchmarks.origin`` column's values)."""

    RECIPE = "recipe"  # written in the recipe file: replaced when the file changes
    IMPORT = "import"  # `bench import`: kept across re-ingests, deduplicated by import_key
    SMOKE = SMOKE_ORIGIN  # `aim-catalog test --save`: never ranks by default
    MEASURED = "measured"  # `bench run` / `bench sweep`: measured by this tool, ranks like an import


@dataclass(frozen=True)
class ServeConfigSpec:
    backend: str
    gpu_count: int
    enabled: bool
    args: dict[str, Scalar]
    env: dict[str, str]
    image: str | None
    benchmarks: list[dict[str, Any]]
    goal: str | None = None  # latency | throughput: what an AIM profile was tuned for
    profile_type: str | None = None  # optimized | preview | unoptimized | general
    manual_only: bool = False  # chosen only when pinned (--recipe)
    # ``pip install`` lines the container runs before the server (``setup.py`` checks them)
    setup: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecipeDoc:
    recipe_id: str
    model_id: str
    huggingface_id: str
    hardware: str
    precision: str
    serve_configs: list[ServeConfigSpec]
    document: dict[str, Any]
    path: str
    sha256: str
    line: int = 1
    col: int = 1
    general: bool = False  # a general AIM profile: a fallback for models no recipe names
    status: str = "current"  # current | retired: upstream no longer runs it
    retired_reason: str | None = None
    retired_on: date | None = None  # when upstream retired it, where known

    def id_problem(self, message: str) -> Problem:
        """A problem with this recipe's ``recipe_id``, located where the file sets it."""
        return Problem(self.path, self.line, self.col, "recipe_id", message)
