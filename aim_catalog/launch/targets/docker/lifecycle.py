"""A container launch from create to running, or cleaned up: the one owner of its states.

``ContainerLaunch`` runs create -> record -> start/wait -> mark running. Whatever
interrupts it (Docker refusing, the database failing, a crash of the server, a timeout,
Ctrl-C, SIGTERM) at whatever point, the handler finds the container (by its launch label
when the create call itself was interrupted: the engine may have made the container
without its id ever coming back), shows its log tail, removes it (or stops and keeps it
with ``keep_on_failure``), marks the row ``failed`` and raises ``LaunchFailed`` (exit 5).
The clean-up itself runs with further interrupts deferred, so a second Ctrl-C cannot cut
it short.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from docker.errors import DockerException

from aim_catalog.errors import CatalogError, LaunchFailed, first_line
from aim_catalog.launch import deployments
from aim_catalog.launch.allocation import holders
from aim_catalog.launch.deployments import Status
from aim_catalog.launch.guard import Terminated, interrupts_deferred
from aim_catalog.launch.labels import parse_labels
from aim_catalog.launch.runspec import RunSpec
from aim_catalog.launch.targets.docker import engine as launcher
from aim_catalog.launch.targets.docker.records import TARGET

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

    from aim_catalog.notes import WaitProgress
    from aim_catalog.selection.request import Candidate
    from aim_catalog.storage.work import Writer

# An interrupted create may reach the engine a moment after the interrupt: look this long.
CREATE_SETTLE_SECONDS = 3.0


@dataclass
class ContainerLaunch:
    """One launch of ``spec`` on ``engine``, each state recorded in its own ``write()``."""

    client: DockerClient
    write: Writer  # Work.write: one committed unit of work per call
    engine: launcher.EngineId
    spec: RunSpec
    chosen: Candidate
    keep_on_failure: bool = False
    container: Container | None = None
    stage: str = "preparing the launch"
    recorded: bool = field(default=False, init=False)

    def create_and_record(self) -> None:
        """Create the container and record it (status ``starting``); cleans up on failure."""
        try:
            self.stage = "creating the container"
            self.container = container = launcher.create(self.client, self.spec)
            self.stage = "checking that no other launch took the same GPUs"
            rivals = launcher.gpu_rivals(self.client, container, self.spec.gpus)
            if rivals:
                raise LaunchFailed(
                    f"GPU(s) taken at the same moment by another launch: {holders(rivals)} "
                    "(one not serialized by your launch lock: another user, or another machine "
                    "using this engine); nothing was started, launch again"
                )
            self.stage = "recording the deployment"
            with self.write() as session:  # short: the wait must hold no lock
                deployments.record(
                    session,
                    target=TARGET,
                    location=self.engine.key,
                    name=self.spec.name,
                    container_id=launcher.id_of(container),
                    docker_host=self.engine.key,
                    engine_name=self.engine.name,
                    serve_config_id=self.chosen.serve_config_id,
                    recipe_id=self.chosen.recipe_id,
                    model=self.chosen.huggingface_id,
                    backend=self.chosen.backend,
                    gpus=self.spec.gpus,
                    image=self.spec.image,
                    port=self.spec.host_port,
                    spec=self.spec.as_dict(),
                )
            self.recorded = True
        except BaseException as exc:  # Ctrl-C included: nothing may be left behind
            raise self.abort(exc) from exc

    def run(
        self, *, timeout: float, wait: bool = True, on_tick: WaitProgress | None = None, poll: float = 1.0
    ) -> launcher.Launched:
        """Start, wait until it serves (with ``wait``) and mark it running; cleans up on failure."""
        container = self.container
        if container is None:
            raise LaunchFailed(f"{self.spec.name}: run() before create_and_record()")
        try:
            self.stage = "starting the container"
            started = time.monotonic()
            container.start()
            if wait:  # only now: a refused start is not a server that never answered
                self.stage = "waiting for the server"
            result = launcher.await_serving(
                container, self.spec, started=started, timeout=timeout, wait=wait, on_tick=on_tick, poll=poll
            )
            self.stage = "marking the deployment running"
            with self.write() as session:
                deployments.set_status(session, launcher.id_of(container), Status.RUNNING)
            return result
        except BaseException as exc:
            raise self.abort(exc) from exc

    def abort(self, exc: BaseException) -> LaunchFailed:
        """Clean up after ``exc`` and return the error to raise (interrupts deferred meanwhile)."""
        with interrupts_deferred():
            reason = self._reason(exc)
            container = self.container
            if container is None:  # a refused create made nothing; an interrupted one may have
                container = self._find_interrupted_create(settle=not isinstance(exc, CatalogError))
            error = launcher.failed(
                container, reason, self.keep_on_failure, launcher.secret_values(self.spec)
            )
            if container is not None:
                self._mark_failed(launcher.id_of(container))
        return error

    def _find_interrupted_create(self, *, settle: bool) -> Container | None:
        launch_id = parse_labels(self.spec.labels).launch or ""
        deadline = time.monotonic() + (CREATE_SETTLE_SECONDS if settle else 0)
        while True:
            with contextlib.suppress(DockerException):
                found = launcher.created_by(self.client, launch_id)
                if found is not None:
                    return found
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.2)

    def _mark_failed(self, container_id: str) -> None:
        # A no-op when the row was never written; a database that fails here has already
        # been reported by the error being handled.
        with contextlib.suppress(Exception), self.write() as session:
            deployments.set_status(session, container_id, Status.FAILED)

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, Terminated):
            return f"terminated ({exc}) while {self.stage}"
        if isinstance(exc, KeyboardInterrupt):
            return f"interrupted while {self.stage}"
        if isinstance(exc, DockerException):
            return f"Docker refused: {first_line(exc)}"
        if isinstance(exc, CatalogError):
            return str(exc)
        return f"{type(exc).__name__} while {self.stage}: {exc}"
