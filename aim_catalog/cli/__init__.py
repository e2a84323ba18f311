"""The ``aim-catalog`` command line (alias ``aim-engine``).

``app.py`` holds the Typer app, global options and the error-to-exit-code mapping; the
command modules register on it when imported here.
"""

from aim_catalog.cli import bench as _bench_commands  # noqa: F401  (registers commands)
from aim_catalog.cli import catalog as _catalog_commands  # noqa: F401
from aim_catalog.cli import choose as _selection_commands  # noqa: F401
from aim_catalog.cli import images as _image_commands  # noqa: F401
from aim_catalog.cli import launch as _launch_commands  # noqa: F401
from aim_catalog.cli import operate as _operate_commands  # noqa: F401
from aim_catalog.cli import plan as _plan_commands  # noqa: F401
from aim_catalog.cli import reports as _report_commands  # noqa: F401
from aim_catalog.cli import sync as _sync_commands  # noqa: F401
from aim_catalog.cli.app import app, main

__all__ = ["app", "main"]
