"""Default images per backend and GPU architecture, from ``data/images.json``.

A config's own image wins; otherwise the default for the backend on the recipe's GPU
architecture (gfx942: MI300X, MI308X, MI325X; gfx950: MI350X, MI355X; ``host/gpus.py`` knows
which product is which). An image whose tag says which
architecture it was built for (SGLang's ``-mi30x``/``-mi35x``) is refused on another one
unless the user names the image with ``--image``. ``image_version`` reads the release of
the server an image's tag names, by the backend's ``image_version_patterns``
(``data/backends.json``): the one place a tag is parsed for a version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from aim_catalog.errors import UsageProblem

DATA = Path(__file__).resolve().parent / "data" / "images.json"


@cache
def _data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return loaded


def architecture(hardware: str | None) -> str | None:
    """gfx942 / gfx950 for a GPU model name (MI300X, MI350X...), as ``host/gpus.py`` knows it
    (the architecture, not a product list, decides the image); a gfx name passes through."""
    from aim_catalog.host.gpus import ARCHITECTURES

    if not hardware:
        return None
    name = hardware.upper()
    if name in ARCHITECTURES:
        return ARCHITECTURES[name]
    return hardware.lower() if hardware.lower() in ARCHITECTURES.values() else None


def image_architecture(image: str) -> str | None:
    """The architecture an image's tag says it was built for, if it says."""
    tag = image.rsplit("/", 1)[-1]
    for marker, arch in _data()["image_markers"].items():
        if marker in tag:
            return str(arch)
    return None


def image_version(backend: str, image: str) -> str | None:
    """The release of ``backend`` that ``image``'s tag names (``vllm/vllm-openai-rocm:v0.17.0``
    -> ``0.17.0``), or None: a tag that names none (``nightly-<sha>``), no tag, or a backend
    whose data gives no patterns."""
    from aim_catalog.backends import registry

    try:
        patterns = registry.get(backend).image_version_patterns
    except KeyError:
        return None
    name = image.partition("@")[0].rsplit("/", 1)[-1]  # a digest is no tag; a registry port is no tag
    _, colon, tag = name.partition(":")
    if not colon:
        return None
    for pattern in patterns:
        found = re.search(pattern, tag)
        if found:
            return found.group("version")
    return None


@dataclass(frozen=True)
class DefaultImage:
    backend: str
    architecture: str
    hardware: tuple[str, ...]
    image: str
    evidence: str


def defaults() -> list[DefaultImage]:
    from aim_catalog.host.gpus import ARCHITECTURES

    data = _data()
    out = []
    for backend, per_arch in data["defaults"].items():
        for arch, entry in per_arch.items():
            out.append(
                DefaultImage(
                    backend,
                    arch,
                    tuple(p for p, a in ARCHITECTURES.items() if a == arch),
                    entry["image"],
                    entry["evidence"],
                )
            )
    return out


def default_image(backend: str, hardware: str | None) -> str | None:
    arch = architecture(hardware)
    entry = _data()["defaults"].get(backend, {}).get(arch) if arch else None
    return str(entry["image"]) if entry else None


def choose_image(backend: str, hardware: str | None, config_image: str | None, override: str | None) -> str:
    """The image to run: ``--image``, else the config's, else the default for the hardware.

    Refuses (UsageProblem) an image built for another GPU architecture, and a backend with
    no default image for this hardware, each time suggesting ``--image``.
    """
    if override:
        return override
    arch = architecture(hardware)
    image = config_image or default_image(backend, hardware)
    if image is None:
        where = f"{hardware} ({arch})" if arch else (hardware or "unknown hardware")
        raise UsageProblem(f"no default {backend} image for {where}; name one with --image")
    built_for = image_architecture(image)
    if arch and built_for and built_for != arch:
        raise UsageProblem(
            f"image {image} is built for {built_for}, but {hardware} is {arch}; "
            "pass --image to run it anyway or pick an image for this GPU (aim-catalog images)"
        )
    return image
