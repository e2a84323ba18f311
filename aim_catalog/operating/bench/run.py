"""``bench run``: measure a deployment (or any OpenAI-API URL) at each asked concurrency and
store each finished point as a ``measured`` benchmark row of its serve config.

The target: a deployment by name (``launch.service.recorded``: a Docker deployment answers
on this engine's host; a cluster's is measured through ``--url``, a forwarded Service, its
record saying which serve config it is) or a bare ``--url`` (measured, not stored: no serve
config to store on). The client: ``image`` (the backend's own benchmark client inside a
local Docker deployment, ``image_client`` + ``launch.service.run_client``) or ``builtin``
(``builtin.run_point``). Each point is stored as it finishes (one unit of work each), so
Ctrl-C (``stop`` set) keeps the finished points and leaves the deployment as it was.

May import ``launch``, ``measurements``, ``host`` and everything below.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from aim_catalog import arguments
from aim_catalog.errors import EnvironmentProblem, InvalidArgument, UsageProblem
from aim_catalog.operating.bench.point import Dataset, PointResult, PointSpec

Client = Literal["builtin", "image"]
CLIENTS: tuple[Client, ...] = ("builtin", "image")
DATASETS: tuple[Dataset, ...] = ("random", "sharegpt")
# What --dry-run's estimate assumes of a server it has not measured yet: a first token after
# 1 s and 30 ms per further token (a 70B-class model on one MI300X is in that range; the
# estimate says it assumed them).
ASSUMED_TTFT_S = 1.0
ASSUMED_TPOT_S = 0.030
MAX_CONCURRENCY = 4096


def default_requests(concurrency: int) -> int:
    """Requests measured at a point: enough for a stable figure, max(10 x concurrency, 64)."""
    return max(10 * concurrency, 64)


@dataclass(frozen=True)
class RunOptions:
    """What ``bench run`` is asked (the CLI's options; checked on construction)."""

    concurrencies: tuple[int, ...] = (4, 8, 16, 32, 64)
    input_len: int = 1024
    output_len: int = 1024
    dataset: Dataset = "random"
    dataset_file: str | None = None
    requests: int | None = None  # per point; None: default_requests(concurrency)
    max_duration: float = 600.0  # seconds per point
    warmup: int | None = None  # per point; None: one request per concurrency slot, at most 16
    request_rate: float | None = None
    client: Client | None = None  # None: image for a local Docker deployment, else builtin
    url: str | None = None  # where to send the load (a forwarded Service, any OpenAI API)
    model: str | None = None  # the served model name (None: the first /v1/models lists)
    save: bool = True  # store the points on the deployment's serve config
    timeout: float = 600.0  # seconds a request may take

    def __post_init__(self) -> None:
        found = tuple(
            arguments.integer(c, "concurrency", low=1, high=MAX_CONCURRENCY) for c in self.concurrencies
        )
        if not found:
            raise InvalidArgument("concurrency: give at least one, e.g. --concurrency 4,8,16")
        object.__setattr__(self, "concurrencies", tuple(sorted(set(found))))
        for name in ("input_len", "output_len"):
            object.__setattr__(
                self, name, arguments.integer(getattr(self, name), name, low=1, high=1_000_000)
            )
        if self.requests is not None:
            arguments.integer(self.requests, "requests", low=1, high=1_000_000)
        if self.warmup is not None:
            arguments.integer(self.warmup, "warmup", low=0, high=100_000)
        arguments.real(self.max_duration, "max_duration", low=0, above=True)
        arguments.real(self.timeout, "timeout", low=0, above=True)
        if self.request_rate is not None:
            arguments.real(self.request_rate, "request_rate", low=0, above=True)
        if self.dataset not in DATASETS:
            raise InvalidArgument(f"unknown dataset {self.dataset!r}; choose {' or '.join(DATASETS)}")
        if (self.dataset == "sharegpt") != (self.dataset_file is not None):
            raise InvalidArgument("--dataset sharegpt needs its FILE (and only sharegpt takes one)")
        if self.client is not None and self.client not in CLIENTS:
            raise InvalidArgument(f"unknown client {self.client!r}; choose {' or '.join(CLIENTS)}")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise InvalidArgument(f"--url must be an http(s) URL, got {self.url!r}")

    def specs(self) -> list[PointSpec]:
        """One point per concurrency, lowest first."""
        return [
            PointSpec(
                concurrency=c,
                requests=self.requests or default_requests(c),
                input_len=self.input_len,
                output_len=self.output_len,
                max_duration=self.max_duration,
                request_rate=self.request_rate,
                warmup=min(c, 16) if self.warmup is None else self.warmup,
                dataset=self.dataset,
                dataset_file=self.dataset_file,
            )
            for c in self.concurrencies
        ]

    def estimate_s(self) -> float:
        """How long the points take, at most their time bound each: (warm-up + requests) /
        concurrency rounds of one request, ASSUMED_TTFT_S + ASSUMED_TPOT_S per further token."""
        per_request = ASSUMED_TTFT_S + ASSUMED_TPOT_S * (self.output_len - 1)
        return sum(
            min(spec.max_duration, (spec.warmup + spec.requests) / spec.concurrency * per_request)
            for spec in self.specs()
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BenchRun:
    """What ``bench run`` measured: the points (lowest concurrency first) and the ids of the
    rows stored for them (none with ``--no-save`` or without a deployment)."""

    name: str | None
    base_url: str
    model: str
    client: str
    server_version: str | None
    serve_config_id: int | None
    image: str | None
    image_digest: str | None
    gpu_model: str | None
    points: tuple[PointResult, ...] = ()
    rows: tuple[int, ...] = ()
    interrupted: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    """What a run would do (``--dry-run``): where, with which client, which points."""

    name: str | None
    base_url: str
    client: Client
    points: tuple[PointSpec, ...]
    estimate_s: float
    stores: bool  # the points become rows of the deployment's serve config

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Target:
    name: str | None
    base_url: str
    client: Client
    served: Any  # launch.targets.base.Served, or None for a bare URL


def _target(work: Any, name: str | None, options: RunOptions) -> _Target:
    if name is None and options.url is None:
        raise UsageProblem("bench run needs a deployment NAME (`aim-catalog ps`) or --url URL")
    served = None
    if name is not None:
        from aim_catalog.launch.service import recorded

        served = recorded(work, name)
    base = (options.url or (served.base_url if served is not None else "")).rstrip("/")
    base = base[: -len("/v1")] if base.endswith("/v1") else base
    if not base:
        raise UsageProblem(
            f"{name} runs on a cluster: measure it through its Service with --url, e.g. after "
            f"`kubectl port-forward service/{name} 8000:8000`: --url http://127.0.0.1:8000 --client builtin"
        )
    local = served is not None and served.target == "docker" and options.url is None
    client: Client = options.client or ("image" if local else "builtin")
    if client == "image" and not local:
        raise UsageProblem(
            "--client image runs the backend's own client inside a local Docker deployment: give its "
            "NAME without --url, or measure with --client builtin"
        )
    return _Target(name, base, client, served)


def plan(work: Any, name: str | None, options: RunOptions) -> Plan:
    """What ``run`` would do, sending nothing (the deployment is looked up)."""
    found = _target(work, name, options)
    stores = options.save and found.served is not None and found.served.serve_config_id is not None
    return Plan(name, found.base_url, found.client, tuple(options.specs()), options.estimate_s(), stores)


def run(
    work: Any,
    name: str | None,
    options: RunOptions,
    *,
    on_point: Callable[[PointSpec, int, int], None] | None = None,
    on_done: Callable[[PointResult], None] | None = None,
    stop: threading.Event | None = None,
) -> BenchRun:
    """Measure each point in turn and store it as it finishes. ``on_point(spec, done,
    total)`` hears progress (requests done of total, for a progress bar); ``on_done`` each
    finished point; ``stop`` set stops the load, keeping finished points."""
    from aim_catalog.operating.bench import builtin as builtin_client

    found = _target(work, name, options)
    served = found.served
    backend = served.backend if served is not None else None
    model = options.model or (served.model if served is not None and found.client == "image" else None)
    model = model or _served_model(found.base_url, options.timeout)
    version = builtin_client.server_version(found.base_url, backend or "")
    notes: list[str] = []
    stores = options.save and served is not None and served.serve_config_id is not None
    if options.save and served is None:
        notes.append("measured a URL, not a deployment: the points are not stored (no serve config)")
    elif options.save and served is not None and served.serve_config_id is None:
        notes.append(f"{name}'s serve config is no longer in the catalog: the points are not stored")
    stop = stop or threading.Event()
    words = None
    if found.client == "builtin" and options.dataset == "random":
        words = _calibrated(builtin_client, found.base_url, model, options)
        notes.append(
            f"prompts of {words} words, for {options.input_len} prompt tokens as this server counts them "
            "(calibrated by one request)"
        )
    points: list[PointResult] = []
    rows: list[int] = []
    gpu_model = _gpu_model(served)
    for spec in options.specs():
        if stop.is_set():
            break
        point: PointResult | None
        if found.client == "image":
            assert name is not None and backend is not None and served is not None  # _target made sure
            point = _in_image(work, name, backend, model, served.image, spec, stop)
        else:

            def progress(done: int, total: int, spec: PointSpec = spec) -> None:
                if on_point is not None:
                    on_point(spec, done, total)

            sized = spec if words is None else replace(spec, input_len=words)
            point = builtin_client.run_point(
                found.base_url, model, sized, progress=progress, stop=stop, timeout=options.timeout
            )
            point = replace(point, spec=spec)  # what was asked: input_len tokens
        if point is None or (stop.is_set() and point.interrupted):
            notes.append(f"concurrency {spec.concurrency}: stopped before it finished (not kept)")
            break
        points.append(point)
        if on_done is not None:
            on_done(point)
        if not point.completed:
            notes.append(f"concurrency {spec.concurrency}: no request completed ({point.failed} failed)")
        elif stores and served is not None:
            rows.append(_store(work, served, point, version, gpu_model))
    interrupted = stop.is_set()
    return BenchRun(
        name,
        found.base_url,
        model,
        points[0].client if points else found.client,
        version,
        served.serve_config_id if served is not None else None,
        served.image if served is not None else None,
        served.image_digest if served is not None else None,
        gpu_model,
        tuple(points),
        tuple(rows),
        interrupted,
        tuple(notes),
    )


def _calibrated(client: Any, base: str, model: str, options: RunOptions) -> int:
    """How many prompt words make ``options.input_len`` prompt tokens as the server counts
    them (its ``usage``): one request of ``input_len`` words tells the ratio. The builtin
    client has no tokenizer; the backends' own clients (``--client image``) have the model's."""
    probe = PointSpec(1, 1, options.input_len, 1, min(options.timeout, 120.0))
    found: PointResult = client.run_point(base, model, probe, timeout=options.timeout)
    if not found.completed or not found.input_len:
        raise EnvironmentProblem(
            f"{base} did not answer a first request with its prompt's token count (usage): "
            + "; ".join(found.errors or ("no usage",))
        )
    return max(1, round(options.input_len * options.input_len / found.input_len))


def _served_model(base: str, timeout: float) -> str:
    """The model name requests must use: the first ``GET /v1/models`` lists."""
    import asyncio

    import httpx

    from aim_catalog.operating.openai_client import served_model

    async def ask() -> str:
        async with httpx.AsyncClient(timeout=min(timeout, 30.0)) as http:
            return await served_model(http, base, "the server", min(timeout, 30.0))

    return asyncio.run(ask())


def _gpu_model(served: Any) -> str | None:
    """The GPU model a local Docker deployment runs on (this host's, detected); None for a
    URL or a cluster, or where no GPU is detected."""
    if served is None or served.target != "docker":
        return None
    from aim_catalog.host.gpus import detect_gpus, host_model

    return host_model(detect_gpus())


def _in_image(
    work: Any, name: str, backend: str, model: str, image: str | None, spec: PointSpec, stop: threading.Event
) -> PointResult | None:
    """One point measured by the backend's own client inside the deployment's container;
    None when ``stop`` ended it first (no result: the client was killed). The client has no
    time bound of its own: the exec's timeout is the point's, plus its warm-up's share."""
    from aim_catalog.backends import registry
    from aim_catalog.errors import CatalogError
    from aim_catalog.launch.service import run_client
    from aim_catalog.operating.bench import image_client

    path = image_client.result_path(backend)
    port = registry.get(backend).container_port
    argv = image_client.command(backend, spec, model=model, port=port, result_path=path)
    try:
        _code, data, _tail = run_client(
            work, name, argv, path, timeout=spec.max_duration * 2 + 120, stop=stop
        )
    except CatalogError:
        if stop.is_set():
            return None
        raise
    return image_client.result(backend, data, spec, path=path, image=image)


def _store(work: Any, served: Any, point: PointResult, version: str | None, gpu_model: str | None) -> int:
    from aim_catalog.measurements.bench_import import store_measured

    spec = point.spec
    row: dict[str, Any] = {
        "input_len": point.input_len,
        "output_len": point.output_len,
        "nominal_input_len": spec.input_len if spec.dataset == "random" else None,
        "nominal_output_len": spec.output_len,
        "concurrency": spec.concurrency,
        "dataset": spec.dataset,
        "request_rate": spec.request_rate,
        "failed": point.failed,
        "source": f"aim-catalog bench run {served.name} ({point.client}; {point.completed} request(s))",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "image": served.image,
        "image_digest": served.image_digest,
        "server_version": version,
        "client": point.client,
        "gpu_model": gpu_model,
        **{k: v for k, v in point.metrics.items() if v is not None},
    }
    with work.write() as session:
        return store_measured(session, served.serve_config_id, row, served.name)
