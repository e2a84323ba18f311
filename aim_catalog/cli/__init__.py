"""The ``aim-catalog`` command line (alias ``aim-engine``).

``app.py`` holds the Typer app, global options and the error-to-exit-code mapping; each
command module (``choose``, ``catalog``, ``reports``, ...) registers its commands on it when
imported, which ``app.COMMANDS`` does for the one command that runs.
"""

from aim_catalog.cli.app import app, main

__all__ = ["app", "main"]
