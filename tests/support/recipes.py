"""Recipe documents for tests, and the recipe sets of the catalogs the tests build.

A recipe set maps recipe_id -> keyword arguments of ``recipe_yaml`` (model, hardware,
precision, configs); the ``make_catalog`` fixture (tests/conftest.py) writes and ingests one.
"""

from __future__ import annotations

import textwrap
from typing import Any

import yaml


def recipe_yaml(
    recipe_id: str,
    *,
    model: str = "org/model-a",
    hardware: str = "MI300X",
    precision: str = "bf16",
    configs: dict[str, dict[int, dict[str, Any]]] | None = None,
) -> str:
    """A recipe document. ``configs`` maps backend -> GPU count -> config body."""
    if configs is None:
        configs = {"vllm": {1: {"enabled": True}}}
    doc: dict[str, Any] = {
        "recipe_id": recipe_id,
        "model_id": model,
        "huggingface_id": model,
        "hardware": hardware,
        "precision": precision,
    }
    for backend, by_gpus in configs.items():
        doc[f"{backend}_serve"] = {f"{n}_gpu": body for n, body in by_gpus.items()}
    return yaml.safe_dump(doc, sort_keys=False)


def dedent(text_: str) -> str:
    return textwrap.dedent(text_).lstrip("\n")
