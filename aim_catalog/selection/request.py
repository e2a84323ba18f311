"""What selection is asked and what it answers: frozen values, no SQL.

``Request`` is the question (model, GPUs, precision, backend, hardware, scenario, SLOs, AIM
goal or pinned recipe), validated on construction; ``Candidate`` is a config as selection
ranked it, ``Verdict`` one line of ``explain``, ``ConfigLine`` one config a model has.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, Union

from aim_catalog.backends.registry import BACKENDS, DEFAULT_BACKEND
from aim_catalog.errors import InvalidArgument
from aim_catalog.selection.curves import DEFAULT_PERCENTILE, PERCENTILES
from aim_catalog.selection.fields import check
from aim_catalog.settings import (
    ANY,
    DEFAULT_LENGTH_TOLERANCE,
    DEFAULT_METRIC,
    DEFAULT_PRECISION,
    GENERAL_MODEL,
    RANK_METRICS,
    normalize_precision,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

# A Session or a Connection: the select path runs on a plain Connection, without the ORM.
Executor = Union["Session", "Connection"]

# The scenario lengths; those not asked take the candidates' most common scenario.
SCENARIO_LENGTHS = ("input_len", "output_len")

# What explain says of a config: the answer, one it beat, or why it was not a candidate.
VerdictKind = Literal["chosen", "ranked", "rejected"]


def dialect_name(executor: Executor) -> str:
    bind = executor.get_bind() if hasattr(executor, "get_bind") else executor
    return str(bind.dialect.name)


def general_model() -> str:
    """The model id that holds AMD AIM's general profiles."""
    return GENERAL_MODEL


@dataclass(frozen=True)
class Request:
    model: str
    gpus: int | None = None
    precision: str = DEFAULT_PRECISION
    backend: str = DEFAULT_BACKEND  # or ANY
    # The backend was not asked for: a model with no config of the default backend at all
    # is then served by the best of the backends it has (the default names no preference).
    backend_defaulted: bool = False
    hardware: str | None = None  # None: no hardware filter
    hardware_detected: bool = False  # the filter is this host's GPU model, not --hardware
    metric: str = DEFAULT_METRIC
    max_gpus: int | None = None  # with gpus=None: only counts that fit compete
    # Scenario: only benchmark rows of this scenario count. Lengths match rows whose mean
    # lengths are within length_tolerance (a fraction) of the asked ones.
    input_len: int | None = None
    output_len: int | None = None
    concurrency: int | None = None
    # Rows at this request rate (requests/s) rank; None: only rows at unlimited rate, which
    # measure what a config can do (a rate-capped run's throughput is set by its rate).
    request_rate: float | None = None
    length_tolerance: float = DEFAULT_LENGTH_TOLERANCE
    # The host's GPUs, for replicas (None: max_gpus, the detected count).
    host_gpus: int | None = None
    # SLOs (milliseconds, p99 where the row has it, else p50): a config needs a row that
    # meets all of them; a row without the metric does not.
    max_ttft_ms: float | None = None
    max_tpot_ms: float | None = None
    max_e2el_ms: float | None = None
    # Output tokens/s per user, 1000 / TPOT: an SLO on TPOT, read as one.
    min_interactivity: float | None = None
    percentile: str = DEFAULT_PERCENTILE  # the percentile the SLOs are read at
    # AIM profiles: prefer configs tuned for this goal; pin one recipe (which may
    # then be a manual-selection-only one, and ignores the precision filter).
    goal: str | None = None  # latency | throughput
    recipe: str | None = None
    current_only: bool = False  # recipes retired upstream do not compete

    @property
    def scenario(self) -> dict[str, int]:
        pairs = (
            ("input_len", self.input_len),
            ("output_len", self.output_len),
            ("concurrency", self.concurrency),
        )
        return {k: v for k, v in pairs if v is not None}

    @property
    def slo(self) -> dict[str, float]:
        """The latency limits (ms) by name; --min-interactivity is a TPOT limit of 1000/x ms."""
        tpot = self.max_tpot_ms
        if self.min_interactivity is not None:
            limit = 1000 / self.min_interactivity
            tpot = limit if tpot is None else min(tpot, limit)
        pairs = (("ttft", self.max_ttft_ms), ("tpot", tpot), ("e2el", self.max_e2el_ms))
        return {k: v for k, v in pairs if v is not None}

    @property
    def per_gpu(self) -> bool:
        """Without a GPU count, configs of every size compete by throughput per GPU."""
        return self.gpus is None

    @property
    def host(self) -> int | None:
        return self.host_gpus if self.host_gpus is not None else self.max_gpus

    def __post_init__(self) -> None:
        check(self)
        object.__setattr__(self, "precision", normalize_precision(self.precision))
        if self.model == general_model():
            raise InvalidArgument(
                f"{self.model} is not a model: it holds AMD AIM's general profiles, which answer only "
                "for models no recipe names; ask for a Hugging Face model id"
            )
        if not self.length_tolerance < 1:
            raise InvalidArgument(f"length tolerance must be from 0 to below 1, got {self.length_tolerance}")
        if self.backend != ANY and self.backend not in BACKENDS:
            raise InvalidArgument(f"unknown backend {self.backend!r}; choose {', '.join(BACKENDS)} or any")
        if self.percentile not in PERCENTILES:
            raise InvalidArgument(f"unknown percentile {self.percentile!r}; choose {', '.join(PERCENTILES)}")
        if self.metric not in RANK_METRICS:
            raise InvalidArgument(f"unknown metric {self.metric!r}; choose one of {', '.join(RANK_METRICS)}")
        if self.goal is not None:
            from aim_catalog.recipes.format import GOALS  # only when a goal is asked

            if self.goal not in GOALS:
                raise InvalidArgument(f"unknown goal {self.goal!r}; choose {' or '.join(GOALS)}")


@dataclass(frozen=True)
class Candidate:
    recipe_id: str
    model_id: str
    huggingface_id: str
    hardware: str
    precision: str
    backend: str
    gpu_count: int
    enabled: bool
    args: dict[str, Any]
    env: dict[str, Any]
    image: str | None
    metric: str | None  # the column the score came from (None: no benchmark)
    score: float | None
    benchmark: dict[str, Any] | None
    serve_config_id: int | None = None
    setup: tuple[str, ...] = ()  # pip install lines the container runs before the server (recipes.setup)
    per_gpu: float | None = None  # score / gpu_count
    replicas: int | None = None  # copies that fit the host's GPUs (None: unknown host)
    host_gpus: int | None = None
    host_total: float | None = None  # replicas x score
    goal: str | None = None  # what the config was tuned for (AIM profile metric), if said
    profile_type: str | None = None  # optimized | preview | unoptimized | general (AIM)
    fallback: bool = False  # a general AIM profile answered: no recipe names the model
    any_backend: bool = False  # the backend was not asked and the model has no config of the default
    # The lengths rows were compared at: the asked ones, or (named in "default") the most
    # common scenario among the candidates; None: no row had lengths.
    scenario: dict[str, Any] | None = None
    # Where the configs were compared (``compare``): the config's point there (concurrency,
    # figures, the rows it stands on), or why its curve cannot be read there; None: no curve.
    operating_point: dict[str, Any] | None = None
    unreached: str | None = None
    comparison: dict[str, Any] | None = None
    # Whether upstream still runs the recipe: current, or retired (why, and when if known).
    status: str = "current"
    retired_reason: str | None = None
    retired_on: str | None = None

    @property
    def retired(self) -> str | None:
        """``retired upstream on DATE: REASON`` when upstream no longer runs the recipe."""
        from aim_catalog.recipes.status import retired_line

        return retired_line(self.status, self.retired_reason, self.retired_on)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    recipe_id: str
    backend: str | None
    gpu_count: int | None
    verdict: VerdictKind
    reason: str
    score: float | None
    metric: str | None
    # The image the config would launch with: its own, else the default for its recipe's
    # hardware (images.py); None for a recipe rejected as a whole.
    image: str | None = None
    # A ranked config's point where the configs were compared and what its figure stands on
    # (``Candidate.operating_point``, ``evidence.Evidence.as_dict``); None for a rejection.
    operating_point: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None
    # "retired upstream on DATE: REASON" for a recipe upstream no longer runs (None: current).
    retired: str | None = None
    setup: tuple[str, ...] = ()  # the config's setup steps (``Candidate.setup``); none for a recipe

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ConfigLine:
    recipe_id: str
    hardware: str
    precision: str
    backend: str
    gpu_count: int
    enabled: bool
    manual_only: bool = False  # an AIM profile chosen only when pinned (--recipe)
    status: str = "current"  # its recipe's: current | retired (upstream no longer runs it)
