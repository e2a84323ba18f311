"""Checks of values at the API edge: one rule per kind of value, shared by every face.

The Python API takes what a careless caller passes (``"4"`` for a GPU count, ``True``,
``4.5``, ``10**30``, ``None``, a ``str`` where a list of paths is iterated); these
functions turn each into the value the CLI would have parsed, or raise
``errors.WrongArgumentType`` (a ``TypeError``) or ``errors.InvalidArgument`` (a
``ValueError``) naming the argument, in one line. ``bool`` is never a number here.
Imports only ``aim_catalog.errors``.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aim_catalog.errors import InvalidArgument, WrongArgumentType, shown

PathLike = str | os.PathLike[str]


def _kind(value: object) -> str:
    return type(value).__name__


def integer(value: Any, name: str, *, low: int, high: int, optional: bool = True) -> int | None:
    """An integer from ``low`` to ``high`` (None when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise WrongArgumentType(f"{name} must be an integer, got {shown(value)} ({_kind(value)})")
    number = int(value)
    if not low <= number <= high:
        raise InvalidArgument(f"{name} must be from {low} to {high}, got {shown(number)}")
    return number


def real(
    value: Any, name: str, *, low: float, high: float = math.inf, above: bool = False, optional: bool = True
) -> float | None:
    """A finite number from ``low`` (excluded when ``above``) to ``high`` (excluded when
    infinite); None when ``optional``."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise WrongArgumentType(f"{name} must be a number, got {shown(value)} ({_kind(value)})")
    number = float(value)
    fits = (number > low if above else number >= low) and number <= high
    if not (math.isfinite(number) and fits):
        lower = f"above {low:g}" if above else f"at least {low:g}"
        upper = f" and at most {high:g}" if math.isfinite(high) else ""
        raise InvalidArgument(f"{name} must be a finite number {lower}{upper}, got {number}")
    return number


def text(value: Any, name: str, *, optional: bool = False) -> str | None:
    """A non-empty string (None when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise WrongArgumentType(f"{name} must be a string, got {shown(value)} ({_kind(value)})")
    if not value.strip():
        raise InvalidArgument(f"{name} must not be empty")
    return value


def flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise WrongArgumentType(f"{name} must be True or False, got {shown(value)} ({_kind(value)})")
    return value


def path(value: Any, name: str) -> Path:
    """One path: a ``str`` or an ``os.PathLike``."""
    if isinstance(value, (str, os.PathLike)) and not isinstance(value, bytes):
        found = os.fspath(value)
        if isinstance(found, str) and found:
            return Path(found)
    raise WrongArgumentType(
        f"{name} must be a path (str or os.PathLike), got {shown(value)} ({_kind(value)})"
    )


def paths(value: Any, name: str) -> list[Path]:
    """Several paths: a sequence (list, tuple, ...) of ``str`` or ``os.PathLike``. A bare
    ``str`` or path is refused: iterating it would read one file per character."""
    if isinstance(value, (str, bytes, os.PathLike)):
        raise WrongArgumentType(
            f"{name} must be a sequence of paths, not one {_kind(value)}: pass [{shown(value)}]"
        )
    if not isinstance(value, Iterable):
        raise WrongArgumentType(f"{name} must be a sequence of paths, got {shown(value)} ({_kind(value)})")
    return [path(item, f"{name}[{i}]") for i, item in enumerate(value)]
