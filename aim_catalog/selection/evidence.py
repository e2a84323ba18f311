"""What the figure of an answer stands on, said with it: measured (one named row),
interpolated (between two named rows of one curve, at which concurrencies), or nothing;
with the source, when and on which image, and whether it is stale, i.e. measured on another
image than the one the config launches now (its own, else its backend's default for the
hardware).

``launch_image`` (shared with ``compare`` and ``explaining``) reads ``backends.images`` only
for a config without an image of its own. Imports nothing of selection (a ``Candidate`` is
read by its attributes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Evidence:
    kind: Literal["measured", "interpolated", "none"]
    source: str | None = None
    measured_at: str | None = None
    measured_image: str | None = None  # None: the row does not say
    launch_image: str | None = None  # what a launch of the config runs now
    stale: bool | None = None  # None: unknown (the row names no image, or nothing launches)
    # Interpolated: the two measured concurrencies and the rows (source, date) it lies between.
    between: list[dict[str, Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sentence(self) -> str | None:
        """The evidence in one line (None: no measurement to speak of)."""
        if self.kind == "none":
            return None
        if self.between:
            low, high = self.between
            dates = sorted({str(r["measured_at"]) for r in self.between if r.get("measured_at")})
            when = f" ({', '.join(dates)})" if dates else " (date not recorded)"
            span = f"{low['concurrency']:g} and {high['concurrency']:g}"
            what = f"interpolated between concurrency {span}, measured"
        else:
            when = f" ({self.measured_at})" if self.measured_at else " (date not recorded)"
            what = "measured"
        if self.measured_image is None:
            return f"{what} on an image the row does not name{when}: it may not be what this config runs"
        said = f"{what} on {self.measured_image}{when}"
        if self.stale:
            return f"{said}; this config now runs {self.launch_image}: the figure may be out of date"
        return said + ("; the image this config runs" if self.stale is False else "")


# What an answer shows of each row a figure stands on.
ROW_KEYS = ("id", "concurrency", "source", "measured_at", "image")


def row_summaries(rows: Any) -> list[dict[str, Any]]:
    """The rows a point stands on, as answers show them (``ROW_KEYS``)."""
    return [{k: row.get(k) for k in ROW_KEYS} for row in rows]


def of_rows(
    kind: Literal["measured", "interpolated"],
    rows: list[dict[str, Any]],
    measured: str | None,
    launch: str | None,
) -> Evidence:
    """The evidence of a figure read off a curve: the measured row, or the two it lies
    between (``row_summaries``), measured on ``measured``, launched as ``launch``."""
    dates = [str(r["measured_at"]) for r in rows if r.get("measured_at")]
    stale = None if measured is None or launch is None else measured != launch
    sources = [r["source"] for r in rows if r.get("source")]
    source = sources[0] if len(set(sources)) == 1 else (" and ".join(sources) or None)
    between = rows if kind == "interpolated" else None
    return Evidence(kind, source, max(dates) if dates else None, measured, launch, stale, between=between)


def launch_image(config: Any) -> str | None:
    """What a launch of ``config`` (a ranked row: ``image``, ``backend``, ``hardware``) runs:
    its own image, else the default for its backend on the recipe's GPUs (images.json is
    read only then)."""
    if config.image:
        return str(config.image)
    from aim_catalog.backends import images

    return images.default_image(config.backend, config.hardware)


def evidence_of(candidate: Any) -> Evidence:
    """The evidence of a ranked config (``selection.request.Candidate``): its operating
    point's rows where configs were compared on curves, else its best row."""
    row = candidate.benchmark
    if candidate.score is None or not row:
        return Evidence("none")
    launch = launch_image(candidate)
    point = candidate.operating_point
    if point is not None and point["kind"] == "interpolated":
        return of_rows("interpolated", point["rows"], point["image"], launch)
    measured = row.get("image")
    stale = None if measured is None or launch is None else measured != launch
    return Evidence("measured", row.get("source"), row.get("measured_at"), measured, launch, stale)
