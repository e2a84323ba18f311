"""The rules for the fields of a selection request, the CLI's own, for every face.

``SelectionOptions`` and ``Request`` check themselves on construction with ``check``: a
field of the wrong type raises ``WrongArgumentType`` (a ``TypeError``), one outside what
the CLI accepts ``InvalidArgument`` (a ``ValueError``), both ``UsageProblem`` (exit 2), so
``Request(gpus="4")``, ``gpus=True``, ``gpus=4.5``, ``gpus=10**30`` or ``precision=None``
are one line, never a traceback or a silent "no suitable recipe". The bounds are the CLI
options' (``cli/selection_opts.py``): SQL INTEGER for counts and lengths, finite
non-negative SLOs, a positive request rate, at most 1024 host GPUs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from aim_catalog import arguments
from aim_catalog.settings import MAX_SQL_INT

MAX_HOST_GPUS = 1024  # --host-gpus


def _count(low: int, high: int) -> Callable[[Any, str], Any]:
    return lambda value, name: arguments.integer(value, name, low=low, high=high)


def _name(value: Any, name: str) -> Any:
    return arguments.text(value, name)


def _maybe_name(value: Any, name: str) -> Any:
    return arguments.text(value, name, optional=True)


def _slo(value: Any, name: str) -> Any:
    return arguments.real(value, name, low=0)


# field -> the check that returns its value as the CLI would have parsed it.
RULES: dict[str, Callable[[Any, str], Any]] = {
    "model": _name,
    "gpus": _count(1, MAX_SQL_INT),
    "precision": _name,
    "backend": _name,
    "backend_defaulted": arguments.flag,
    "hardware": _maybe_name,
    "hardware_detected": arguments.flag,
    "metric": _name,
    "max_gpus": _count(0, MAX_SQL_INT),  # 0: none of the host's GPUs is free
    "input_len": _count(1, MAX_SQL_INT),
    "output_len": _count(1, MAX_SQL_INT),
    "concurrency": _count(1, MAX_SQL_INT),
    "request_rate": lambda value, name: arguments.real(value, name, low=0, above=True),
    "length_tolerance": lambda value, name: arguments.real(value, name, low=0, high=1, optional=False),
    "host_gpus": _count(1, MAX_HOST_GPUS),
    "max_ttft_ms": _slo,
    "max_tpot_ms": _slo,
    "max_e2el_ms": _slo,
    "min_interactivity": lambda value, name: arguments.real(value, name, low=0, above=True),
    "percentile": _name,
    "goal": _maybe_name,
    "recipe": _maybe_name,
}


def check(value: Any, *, optional: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> None:
    """Check every field of the frozen dataclass ``value`` and store what the check returns
    (a ``numpy.int64`` becomes an ``int``); ``optional`` names fields that may be None here
    though the rule says otherwise (``SelectionOptions.backend``: the default); ``skip``,
    fields of the same name that hold something else there (``PlanOptions.gpus``: counts)."""
    for field in fields(value):
        rule = None if field.name in skip else RULES.get(field.name)
        current = getattr(value, field.name)
        if rule is None or (current is None and field.name in optional):
            continue
        object.__setattr__(value, field.name, rule(current, field.name))
