"""A selected config (``Candidate``) as the launch modules take it, for tests without a catalog."""

from __future__ import annotations

from aim_catalog.selection.request import Candidate

# Recipe r serving Org/Model (MI300X, bf16) with vLLM on 4 GPUs: no flags, env, image or benchmark.
BASE = Candidate(
    recipe_id="r",
    model_id="Org/Model",
    huggingface_id="Org/Model",
    hardware="MI300X",
    precision="bf16",
    backend="vllm",
    gpu_count=4,
    enabled=True,
    args={},
    env={},
    image=None,
    metric=None,
    score=None,
    benchmark=None,
)
