"""What the figure of an answer stands on, said with it: the measured row (its source, when,
on which image), or nothing; and whether it is stale, i.e. measured on another image than
the one the config launches now (its own, else its backend's default for the hardware).

Interpolated evidence (between two named measurements) comes with operating points on
curves (issue 19, point 3). ``launch_image`` (shared with ``explaining``) reads
``backends.images`` only for a config without an image of its own, never on the select
path. Imports nothing of selection (a ``Candidate`` is read by its attributes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Evidence:
    kind: Literal["measured", "none"]
    source: str | None = None
    measured_at: str | None = None
    measured_image: str | None = None  # None: the row does not say
    launch_image: str | None = None  # what a launch of the config runs now
    stale: bool | None = None  # None: unknown (the row names no image, or nothing launches)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sentence(self) -> str | None:
        """The evidence in one line (None: no measurement to speak of)."""
        if self.kind == "none":
            return None
        when = f" ({self.measured_at})" if self.measured_at else " (date not recorded)"
        if self.measured_image is None:
            return f"measured on an image the row does not name{when}: it may not be what this config runs"
        said = f"measured on {self.measured_image}{when}"
        if self.stale:
            return f"{said}; this config now runs {self.launch_image}: the figure may be out of date"
        return said + ("; the image this config runs" if self.stale is False else "")


def launch_image(config: Any) -> str | None:
    """What a launch of ``config`` (a ranked row: ``image``, ``backend``, ``hardware``) runs:
    its own image, else the default for its backend on the recipe's GPUs (images.json is
    read only then)."""
    if config.image:
        return str(config.image)
    from aim_catalog.backends import images

    return images.default_image(config.backend, config.hardware)


def evidence_of(candidate: Any) -> Evidence:
    """The evidence of a ranked config (``selection.request.Candidate``)."""
    row = candidate.benchmark
    if candidate.score is None or not row:
        return Evidence("none")
    launch = launch_image(candidate)
    measured = row.get("image")
    stale = None if measured is None or launch is None else measured != launch
    return Evidence("measured", row.get("source"), row.get("measured_at"), measured, launch, stale)
