"""Flag lint: server flags checked against the option names of vLLM (0.10.1 and
0.27.1 wheels), SGLang (0.5.17 wheel) and ATOM (ROCm/ATOM ffdf3bb5ddf8) as
scripts/gen_flag_lists.py read them from each tool's own argument definitions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def test_bundled_catalog_passes_strict(cli: Callable[..., Any]) -> None:
    from aim_catalog.storage.resources import seed_recipe_dir

    result = cli("validate", "--strict", str(seed_recipe_dir()))
    assert "warning" not in result.stderr
