"""``images.image_version``: the release an image's tag names, read by the patterns of
data/backends.json (the tags are those of the bundled recipes and default images)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from aim_catalog.backends import images, registry

ATOM = "rocm/atom:rocm7.2.4_ubuntu24.04_py3.12_pytorch_release_2.10.0_atom"


@pytest.mark.parametrize(
    ("backend", "image", "version"),
    [
        ("vllm", "vllm/vllm-openai-rocm:v0.17.0", "0.17.0"),
        ("vllm", "rocm/vllm:rocm6.4.1_vllm_0.9.0.1_20250605", "0.9.0.1"),
        ("vllm", "rocm/vllm:rocm7.0.0_vllm_0.11.1_20251103", "0.11.1"),
        ("vllm", "rocm/7.0:rocm7.0_ubuntu_22.04_vllm_0.10.1_instinct_20250927_rc1", "0.10.1"),
        ("sglang", "lmsysorg/sglang:v0.5.9-rocm700-mi30x", "0.5.9"),
        ("sglang", "lmsysorg/sglang-rocm:v0.5.12.post1-rocm720-mi35x-20260529", "0.5.12.post1"),
        ("atom", ATOM + "0.1.2.post", "0.1.2.post"),
        ("atom", ATOM + "0.1.4_202607091539", "0.1.4"),
        # tags that name no release
        ("vllm", "vllm/vllm-openai-rocm:nightly-09663abde0f50944a8d5ea30120666024b503faa", None),
        ("vllm", "vllm/vllm-openai-rocm:minimax-m3", None),
        ("atom", ATOM + "20260511", None),  # a date
        ("atom", "rocm/atom-dev:nightly_202607011530", None),
        # no tag: a registry's port or a digest is not one
        ("vllm", "localhost:5000/vllm/vllm-openai-rocm", None),
        ("vllm", "vllm/vllm-openai-rocm@sha256:" + "0" * 64, None),
        ("nosuch", "x:v1.0", None),
    ],
)
def test_image_version_reads_the_release_a_tag_names(backend: str, image: str, version: str | None) -> None:
    assert images.image_version(backend, image) == version


def test_a_backends_tag_patterns_are_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new backend's tags are read by its patterns in the data, not by code naming it."""
    assert images.image_version("atom", "example/server:release-2.3") is None
    changed = replace(registry.get("atom"), image_version_patterns=(r"^release-(?P<version>[\d.]+)$",))
    monkeypatch.setitem(registry._BACKENDS, "atom", changed)
    assert images.image_version("atom", "example/server:release-2.3") == "2.3"
