"""Signals turned into a clean-up, for every launch target.

``termination_as_interrupt`` makes SIGTERM and SIGHUP behave like Ctrl-C during a launch;
``signals_stop`` turns all three into a stop event (a benchmark winds down, keeping its points);
and ``interrupts_deferred`` holds every such signal back while a failed launch cleans up,
so a second Ctrl-C cannot cut it short.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def interrupts_deferred() -> Iterator[list[int]]:
    """Signals that arrive inside are noted (in the yielded list), not raised."""
    arrived: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield arrived
        return
    previous = {sig: signal.signal(sig, lambda signum, _frame: arrived.append(signum)) for sig in _SIGNALS}
    try:
        yield arrived
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP during a launch, handled like Ctrl-C so the container is cleaned up."""


# Terminations seen inside termination_as_interrupt(). The handler raises at once, but an
# exception raised while a __del__ or weakref callback runs (GC of a socket or an HTTP
# response, say) is printed and dropped by Python: the wait loop checks this list too.
_terminations: list[str] = []


@contextmanager
def termination_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        _terminations.append(signal.Signals(signum).name)
        raise Terminated(_terminations[-1])

    _terminations.clear()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _terminations.clear()


def raise_if_terminated() -> None:
    """Raise a termination whose exception was lost (see ``_terminations``)."""
    if _terminations:
        raise Terminated(_terminations[-1])


@contextmanager
def signals_stop(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP set ``stop`` (the work in hand winds down and keeps what
    it finished); a second one interrupts at once (``Terminated``)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise Terminated(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
