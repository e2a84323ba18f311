"""The bundled catalog's published figures pick the image per scenario."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def test_published_figures_pick_the_image_per_scenario(cli: Callable[..., Any]) -> None:
    """AMD's 405B figures: the Sept 2025 image wins at 2048/2048, June 2025 at 128/2048."""
    model = "amd/Llama-3.1-405B-Instruct-FP8-KV"
    long = json.loads(
        cli("select", model, "8", "-p", "fp8", "--input-len", "2048", "--output-len", "2048", "--json").stdout
    )
    short = json.loads(
        cli("select", model, "8", "-p", "fp8", "--input-len", "128", "--output-len", "2048", "--json").stdout
    )
    assert (long["recipe_id"], long["score"]) == ("llama-3-1-405b-fp8-kv-mi300x-fp8-vllm-2025-09", 2214.2)
    assert (short["recipe_id"], short["score"]) == ("llama-3-1-405b-fp8-kv-mi300x-fp8-vllm-2025-06", 4275.0)
