"""What the benchmark scripts share (``run.py``, ``bench_ps.py``, ``pg_fleet.py``): the
percentile they report and the work directory they generate into. Standard library only."""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, q in 0..100."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@contextmanager
def work_directory(path: Path | None, prefix: str) -> Iterator[Path]:
    """``path`` (created, kept), or a temporary directory named ``prefix...``, removed at the end."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path.resolve()
        return
    temp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)
