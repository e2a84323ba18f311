"""Options declared once: every field of SelectionOptions has its one declaration, and
``launch`` takes the selection options and its own ones from their single declarations."""

from __future__ import annotations

import inspect
from dataclasses import fields

from aim_catalog.cli.launch import LAUNCH_OPTIONS, launch
from aim_catalog.cli.selection_opts import DECLARED
from aim_catalog.selection.options import SelectionOptions


def test_every_selection_option_is_declared_once() -> None:
    """(This was an assert at import time in the CLI module.)"""
    assert list(DECLARED) == [f.name for f in fields(SelectionOptions)]


def test_launch_s_parameters_are_the_two_declarations_in_order() -> None:
    names = list(inspect.signature(launch).parameters)
    selection = [name for name in DECLARED if name not in ("request_rate", "host_gpus")]
    assert names == ["ctx", *selection, *LAUNCH_OPTIONS]
    annotations = {name: p.annotation for name, p in inspect.signature(launch).parameters.items()}
    assert all(not isinstance(a, str) for a in annotations.values())  # evaluated, as typer reads them
