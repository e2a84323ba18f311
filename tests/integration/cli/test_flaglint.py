"""Flag lint: server flags checked against the option names of the version in each config's
image (data/flags.json: every recorded vLLM, SGLang and ATOM version, as
scripts/gen_flag_lists.py read them from each tool's own argument definitions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def test_bundled_catalog_passes_strict(cli: Callable[..., Any]) -> None:
    from aim_catalog.storage.resources import seed_recipe_dir

    result = cli("validate", "--strict", str(seed_recipe_dir()))
    assert "warning" not in result.stderr
