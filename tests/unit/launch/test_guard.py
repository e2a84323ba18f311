"""SIGTERM during a launch's wait is never lost.

The handler raises ``Terminated`` at once; when that exception lands while Python runs a
``__del__`` (a socket or HTTP response being collected), Python prints and drops it, and
the launch went on waiting for a server that hangs (seen once in a CI run as a 60 s
hang). The wait loop therefore also checks what the handler recorded.
"""

from __future__ import annotations

import os
import signal
from typing import Any, ClassVar

import pytest

from aim_catalog.launch import guard
from aim_catalog.launch.targets.docker import engine as launcher


class _Dropping:
    """An object whose ``__del__`` runs while the signal arrives: Python drops the raise."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGTERM)


class _Hanging:
    """A container that keeps running and never serves (as FAKE_MODE=hang)."""

    status = "running"
    attrs: ClassVar[dict[str, Any]] = {}

    def __init__(self) -> None:
        self.polls = 0

    def reload(self) -> None:
        self.polls += 1
        if self.polls == 1:
            _Dropping()  # collected at once: the SIGTERM's exception is raised in __del__


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the dropped raise
def test_a_sigterm_dropped_inside_del_still_ends_the_wait() -> None:
    container = _Hanging()
    with guard.termination_as_interrupt(), pytest.raises(guard.Terminated, match="SIGTERM"):
        launcher.wait_ready(container, "http://127.0.0.1:9/", timeout=2, poll=0.01)
    assert container.polls == 1  # the next round of the loop saw the recorded termination
