"""The lower layers' warnings on stderr: one logging handler for the ``aim_catalog`` logger.

Imported by the app's callback when a command runs (not by ``--help``). May import only the
standard library.
"""

from __future__ import annotations

import logging
import sys


class _Warnings(logging.Handler):
    """The lower layers' warnings (a writer queueing for the lock, a read-only catalog...)
    as plain lines on stderr: they report through logging, never by writing to it."""

    shown = True

    def emit(self, record: logging.LogRecord) -> None:
        if self.shown:
            sys.stderr.write(record.getMessage() + "\n")
            sys.stderr.flush()


def warnings_to_stderr(*, shown: bool) -> None:
    """One handler per process (commands may run many times in one); with -v the root
    handler of ``basicConfig`` shows them instead."""
    logger = logging.getLogger("aim_catalog")
    handler = next((h for h in logger.handlers if isinstance(h, _Warnings)), None)
    if handler is None:
        handler = _Warnings(logging.WARNING)
        logger.addHandler(handler)
    handler.shown = shown
