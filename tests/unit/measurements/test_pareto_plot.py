"""matplotlib is imported only by the plot."""

from __future__ import annotations

import sys


def test_matplotlib_is_imported_only_by_the_plot() -> None:
    import subprocess

    code = (
        "import sys; from aim_catalog.cli import app; import aim_catalog.measurements.pareto; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
