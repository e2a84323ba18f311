"""A dry run of replicas on a host without GPUs shows disjoint placeholder GPUs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------- dry-run replicas


def test_dry_run_replicas_without_gpus_show_disjoint_placeholders(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    # The cli fixture points sysfs at an empty directory: no GPU is detected.
    out = cli("launch", "Qwen/Qwen3-32B", "4", "--replicas", "3", "--dry-run", "--json").stdout
    specs = json.loads(out)
    shown = [[int(i) for i in s["labels"]["aim-catalog.gpus"].split(",")] for s in specs]
    assert [len(gpus) for gpus in shown] == [4, 4, 4]
    assert len({i for gpus in shown for i in gpus}) == 12, shown  # no GPU shown for two copies
