"""What the figure of an answer stands on, said with it: the measured row (its source, when,
on which image), or nothing; and whether it is stale, i.e. measured on another image than
the one the config launches now (its own, else its backend's default for the hardware).

Interpolated evidence (between two named measurements) comes with operating points on
curves (issue 19, point 3). Reads ``backends.images`` only for a config without an image of
its own, never on the select path itself. Imports nothing of selection (a ``Candidate`` is
read by its attributes).
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


def evidence_of(candidate: Any) -> Evidence:
    """The evidence of a ranked config (``selection.request.Candidate``)."""
    row = candidate.benchmark
    if candidate.score is None or not row:
        return Evidence("none")
    launch = candidate.image
    if launch is None:  # images.json is read only for a config without an image of its own
        from aim_catalog.backends import images

        launch = images.default_image(candidate.backend, candidate.hardware)
    measured = row.get("image")
    stale = None if measured is None or launch is None else measured != launch
    return Evidence("measured", row.get("source"), row.get("measured_at"), measured, launch, stale)
