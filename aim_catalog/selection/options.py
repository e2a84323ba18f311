"""What a user asks selection for, before this host's GPUs are known: ``SelectionOptions``.

``select``, ``explain`` and ``launch`` share these options (the CLI declares them once, from
this dataclass); ``to_request`` completes them with what sysfs says of the host (its GPU
model, how many GPUs it has or has free) into the domain ``Request``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from aim_catalog import settings
from aim_catalog.backends.registry import DEFAULT_BACKEND
from aim_catalog.notes import Note
from aim_catalog.selection.curves import DEFAULT_PERCENTILE
from aim_catalog.selection.fields import check
from aim_catalog.settings import (
    ANY,
    DEFAULT_METRIC,
    DEFAULT_PRECISION,
)

if TYPE_CHECKING:
    from aim_catalog.selection.request import Request

NO_GPU_NOTE = "no AMD GPU detected: not filtering by hardware (--hardware chooses one)"


@dataclass(frozen=True)
class SelectionOptions:
    """A selection request as the user gave it.

    ``hardware`` None means this host's GPU model (no filter when none is detected), "any"
    no filter; ``backend`` None means the default backend, or the best of the model's
    backends when it has no config of the default one. ``gpus`` None lets every count that
    fits the host compete.
    """

    model: str
    gpus: int | None = None
    precision: str = DEFAULT_PRECISION
    backend: str | None = None
    hardware: str | None = None
    metric: str = DEFAULT_METRIC
    input_len: int | None = None
    output_len: int | None = None
    concurrency: int | None = None
    max_ttft_ms: float | None = None
    max_tpot_ms: float | None = None
    max_e2el_ms: float | None = None
    min_interactivity: float | None = None
    percentile: str = DEFAULT_PERCENTILE
    request_rate: float | None = None
    host_gpus: int | None = None
    goal: str | None = None
    recipe: str | None = None
    current_only: bool = False  # leave out recipes retired upstream

    def __post_init__(self) -> None:
        check(self, optional=("backend",))

    def with_gpus(self, gpus: int | None) -> SelectionOptions:
        return replace(self, gpus=gpus)

    def to_request(self, *, free_gpus: int | None = None, note: Note | None = None) -> Request:
        """The domain request; hardware and the GPU counts that fit come from the host.

        ``free_gpus`` (launch) bounds the competing GPU counts by what is not in use; ``note``
        hears that no GPU was detected (so no hardware filter applies).
        """
        from aim_catalog.host.gpus import detect_gpus, host_model
        from aim_catalog.selection.request import Request

        detected = detect_gpus()
        hardware = self.hardware
        if hardware is not None and hardware.lower() == ANY:
            hardware = None
        elif hardware is None:
            hardware = host_model(detected)
            if hardware is None and note is not None:
                note(NO_GPU_NOTE)
        max_gpus = None
        if self.gpus is None and detected:
            max_gpus = len(detected) if free_gpus is None else free_gpus
        if self.gpus is None and self.host_gpus is not None and free_gpus is None:
            max_gpus = self.host_gpus
        host_gpus = self.host_gpus if self.host_gpus is not None else (len(detected) or None)
        return Request(
            model=self.model,
            gpus=self.gpus,
            precision=self.precision.lower(),
            backend=(self.backend or DEFAULT_BACKEND).lower(),
            backend_defaulted=self.backend is None,
            hardware=hardware,
            hardware_detected=self.hardware is None and hardware is not None,
            metric=self.metric,
            max_gpus=max_gpus,
            host_gpus=host_gpus,
            length_tolerance=settings.length_tolerance(),
            input_len=self.input_len,
            output_len=self.output_len,
            concurrency=self.concurrency,
            max_ttft_ms=self.max_ttft_ms,
            max_tpot_ms=self.max_tpot_ms,
            max_e2el_ms=self.max_e2el_ms,
            min_interactivity=self.min_interactivity,
            percentile=self.percentile,
            request_rate=self.request_rate,
            goal=self.goal,
            recipe=self.recipe,
            current_only=self.current_only,
        )
