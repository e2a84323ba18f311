"""``launch`` names the image's registry and warns outside the trusted ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.launch import MODEL, cli


def test_launch_names_the_registry_and_warns_outside_the_trusted_ones(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = json.loads(cli("launch", MODEL, "1", "--dry-run", "--json").stdout)
    assert (spec["registry"], spec["trusted_registry"]) == ("docker.io/rocm", True)
    result = cli("launch", MODEL, "1", "--dry-run", "--image", "ghcr.io/someone/vllm:1")
    assert "(registry ghcr.io/someone: NOT a trusted registry)" in result.stdout
    assert "warning: image ghcr.io/someone/vllm:1 comes from ghcr.io/someone" in result.stderr
    monkeypatch.setenv("AIM_CATALOG_TRUSTED_REGISTRIES", "ghcr.io/someone, rocm")
    result = cli("launch", MODEL, "1", "--dry-run", "--image", "ghcr.io/someone/vllm:1")
    assert "warning" not in result.stderr and "(registry ghcr.io/someone: trusted)" in result.stdout
    result = cli("launch", MODEL, "1", "--dry-run", "--image", "vllm/vllm-openai:v0.11.0")
    assert "warning: image vllm/vllm-openai:v0.11.0 comes from docker.io/vllm" in result.stderr
