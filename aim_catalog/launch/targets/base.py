"""What a launch target is (``Target``) and the target-neutral values it hands back.

A target is a place a selected config can run: this host's Docker engine, a Kubernetes
cluster (a Deployment and a Service, or a KServe InferenceService). Each lives in its own
package under ``launch/targets/`` and is registered by name in ``registry``; the launch
service (``launch.service``) and the API know targets only through this protocol.

A target plans (what would run, starting nothing), launches, lists its deployments, finds
one by name, stops it and streams its logs; ``served`` says where a deployment answers
(``aim-catalog test``), for targets that can tell. What ``find`` returns is the target's
own handle: the service hands it back to the same target's ``stop``/``logs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from aim_catalog.errors import EnvironmentProblem

if TYPE_CHECKING:
    from aim_catalog.launch.deployments import Listed
    from aim_catalog.launch.plan import LaunchOptions, LaunchPlan
    from aim_catalog.notes import Note, Tick, Write
    from aim_catalog.selection.options import SelectionOptions
    from aim_catalog.selection.request import Candidate, Request
    from aim_catalog.storage.work import Work

# The catalog's ``select``: the best config for a request (``NoSuitableRecipe`` when none).
Select = Callable[["Request"], "Candidate"]

# JSON key order of ``ps --json`` (as it always was): rows of the catalog, and containers
# of another catalog on a Docker engine.
_KEYS = (
    "name",
    "host",
    "recipe_id",
    "model",
    "backend",
    "gpus",
    "port",
    "status",
    "container_id",
    "created_at",
)
_FOREIGN_KEYS = (*_KEYS[:8], "container", "container_id", "created_at")


@dataclass(frozen=True)
class DeploymentRow:
    """One line of ``ps``: a deployment, or a labelled container of another catalog.

    ``container`` is what its engine or cluster says now (None: another engine's row,
    not checked); ``target``/``context``/``namespace`` are set for cluster rows."""

    name: str
    host: str
    recipe_id: str
    model: str
    backend: str
    gpus: tuple[int, ...]
    port: int
    status: str
    container_id: str
    created_at: str
    container: str | None = None
    target: str | None = None
    context: str | None = None
    namespace: str | None = None
    foreign: bool = False  # a labelled container of another catalog
    row: int = 0  # the catalog row's id (0: none), which orders rows of several targets

    @classmethod
    def of(cls, d: Listed, host: str, *, cluster: bool = False) -> DeploymentRow:
        """The row of a deployment as its target lists it (``deployments.LISTED`` columns)."""
        return cls(
            name=d.name,
            host=host,
            recipe_id=d.recipe_id,
            model=d.model,
            backend=d.backend,
            gpus=tuple(d.gpus),
            port=d.port,
            status=d.status,
            container_id=d.container_id[:12],
            created_at=d.created_at.isoformat(timespec="seconds"),
            target=d.target if cluster else None,
            context=d.context if cluster else None,
            namespace=d.namespace if cluster else None,
            row=d.id,
        )

    def as_dict(self) -> dict[str, Any]:
        def value(key: str) -> Any:
            return list(self.gpus) if key == "gpus" else getattr(self, key)

        if self.foreign:
            return {key: value(key) for key in _FOREIGN_KEYS}
        data = {**{key: value(key) for key in _KEYS}, "container": self.container}
        if self.target is not None:
            data.update(target=self.target, context=self.context, namespace=self.namespace)
        return data


class Unreachable(EnvironmentProblem):
    """A target that cannot be asked now. ``skipped`` is what to tell when the other
    targets' deployments are shown without its own."""

    def __init__(self, message: str, skipped: str) -> None:
        super().__init__(message)
        self.skipped = skipped


@dataclass(frozen=True)
class Stopped:
    """What ``stop`` did: ``existed`` False when the container (or objects) were already
    gone; ``where`` (``context/namespace``) and ``deleted`` for a deployment on a cluster."""

    name: str
    existed: bool
    where: str | None = None
    deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Found:
    """A deployment a target found by name: its catalog row's id (``row``; 0 for a labelled
    container the catalog has no row for) and whether that row is live (starting or
    running); ``handle`` is the target's own, handed back to its ``stop`` and ``logs``."""

    name: str
    row: int
    live: bool
    handle: Any


@dataclass(frozen=True)
class Served:
    """An active deployment and where it answers (``aim-catalog test``, ``bench run``); a
    cluster deployment's record (``service.recorded``) has no ``base_url`` reachable from
    here: "" (give ``bench run`` a forwarded URL)."""

    name: str
    base_url: str
    serve_config_id: int | None
    image: str
    target: str = "docker"
    backend: str | None = None
    model: str | None = None
    gpu_count: int | None = None
    image_digest: str | None = None  # the image the container runs, as the engine names it (sha256:...)


class Target(Protocol):
    """A place to run a selected config. ``name`` is what ``--target`` says."""

    name: ClassVar[str]

    def check_name(self, name: str) -> None:
        """A name this target refuses for what it launches (``UsageProblem``)."""

    def check(self, selection: SelectionOptions, options: LaunchOptions) -> None:
        """Usage errors of the other options for this target, before anything is selected."""

    def plan(
        self, work: Work, select: Select, selection: SelectionOptions, options: LaunchOptions, *, note: Note
    ) -> LaunchPlan:
        """What a launch would run, starting nothing (``launch --dry-run``)."""
        ...

    def launch(
        self,
        work: Work,
        select: Select,
        selection: SelectionOptions,
        options: LaunchOptions,
        *,
        note: Note,
        on_tick: Tick | None,
    ) -> Any:
        """Run the best config; ``LaunchFailed`` when it fails, with nothing left behind."""
        ...

    def deployments(
        self, work: Work, *, include_all: bool, all_hosts: bool, note: Note
    ) -> list[DeploymentRow]:
        """``ps`` rows of this target (``EnvironmentProblem`` when it cannot be asked)."""
        ...

    def find(self, work: Work, name: str) -> Found | None:
        """This target's deployment called ``name``, a live one first, else the newest
        (None: it has none). The default target is asked last, alone, when no other target
        knows the name: it may raise its own ``UsageProblem`` saying where to look instead."""
        ...

    def stop(self, work: Work, found: Found) -> Stopped:
        """Stop what ``find`` found and mark it stopped."""
        ...

    def logs(self, work: Work, found: Found, *, follow: bool, tail: int | None, write: Write) -> None:
        """What ``find`` found's logs, secrets masked, through ``write``."""

    def served(self, work: Work, name: str) -> Served | None:
        """Where this target's active deployment ``name`` answers (None: it has none; the
        default target, asked last, may raise its own ``UsageProblem`` instead)."""
        ...

    def run_client(
        self, work: Work, found: Found, argv: list[str], result_path: str, *, timeout: float, stop: Any
    ) -> tuple[int, bytes, str]:
        """Run ``argv`` (a benchmark client) inside what ``find`` found and hand back its exit
        code, the file it wrote at ``result_path`` and the tail of its output
        (``UsageProblem`` for a target that cannot run a command in its deployment)."""
        ...
