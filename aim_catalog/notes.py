"""How lower layers talk to the user without printing: callbacks the face supplies.

``Note`` is a line worth telling (the CLI writes it to stderr; the Python API says nothing
unless given one); ``Tick`` a progress line that replaces the previous one (a spinner's
text); ``Progress`` a stage of known size (what, how many done, of how many: a progress
bar), which ``progress_ticks`` says as ``Tick`` lines; ``waiting_ticks`` turns a wait loop's
progress into such lines.
Imports nothing.
"""

from __future__ import annotations

from collections.abc import Callable

Note = Callable[[str], None]
Tick = Callable[[str], None]
# A stage of work of a known size: what it is (one line), how many done, of how many.
Progress = Callable[[str, int, int], None]
# Where text a command streams goes as it arrives (a deployment's logs): no line added.
Write = Callable[[str], None]
# A wait loop's progress: seconds waited so far, and the last line it heard (a log line).
WaitProgress = Callable[[float, str], None]


def quiet(_text: str) -> None:
    """The default ``Note`` and ``Tick``: say nothing."""


def progress_ticks(on_tick: Tick) -> Progress:
    """A ``Progress`` said as ``Tick`` lines: ``resolving serve configs: 5,000 of 370,000``."""

    def progress(what: str, done: int, total: int) -> None:
        on_tick(f"{what}: {done:,} of {total:,}")

    return progress


def waiting_ticks(
    on_tick: Tick | None, opening: str, name: str, last_line: Callable[[str], str]
) -> WaitProgress:
    """A wait loop's progress callback (seconds waited, the last log line) as the lines
    ``on_tick`` shows: ``opening`` at once, then ``waiting for NAME: 12s  <last line>``."""
    if on_tick is not None:
        on_tick(opening)

    def tick(elapsed: float, last: str) -> None:
        if on_tick is not None:
            on_tick(f"waiting for {name}: {elapsed:.0f}s  {last_line(last)}")

    return tick
