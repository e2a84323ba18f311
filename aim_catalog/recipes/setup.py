"""A serve config's ``setup``: what the container installs before the server starts.

InferenceX's launch scripts run steps such as ``pip install amd-quark`` or
``pip install -U transformers`` before they start the server; without them the stock image
may not load the model. A recipe keeps them as a list, and the launcher runs them in the
container, in order, before the server (``launch.server_command.setup_script``)::

    setup:
      - pip install amd-quark
      - pip install -U transformers==4.57.1

Only ``pip install`` of named packages (optional extras and version pins) is accepted: no
URLs, paths, requirement files, index options or shell. A shared catalog's setup is code
that runs in the operator's container, so the format keeps it to what can be read at a
glance (``launch --dry-run`` shows it). Imports only ``errors``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aim_catalog.errors import shown

MAX_LINES = 20
MAX_LINE = 500
COMMAND = ("pip", "install")
# pip's options (`pip install --help` of pip 23.2) that change what is installed, not where from.
OPTIONS = frozenset(
    ("-U", "--upgrade", "-q", "--quiet", "--no-deps", "--pre", "--no-cache-dir", "--force-reinstall")
)
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_VERSION = r"(?:===|==|!=|<=|>=|~=|<|>)[A-Za-z0-9.*+!_-]+"
# A PEP 508 requirement without URL or marker: name, [extras], version specifiers.
REQUIREMENT = re.compile(rf"^{_NAME}(?:\[{_NAME}(?:,{_NAME})*\])?(?:{_VERSION}(?:,{_VERSION})*)?$")
FORM = "pip install [-U] [--no-deps] NAME[==VERSION] ..."

Err = Callable[[tuple[Any, ...], str], None]


def line_problem(line: str) -> str | None:
    """Why ``line`` is not a setup step the format accepts (None: it is)."""
    words = line.split()
    if tuple(words[:2]) != COMMAND:
        return f"{shown(line)} is not a pip install line; setup accepts only {FORM}"
    packages = 0
    for word in words[2:]:
        if word.startswith("-"):
            if word not in OPTIONS:
                allowed = ", ".join(sorted(OPTIONS))
                return f"pip option {shown(word)} is not allowed in setup; allowed: {allowed}"
        elif REQUIREMENT.fullmatch(word):
            packages += 1
        else:
            return (
                f"{shown(word)} is not a package name with an optional version pin (no URLs, paths or shell)"
            )
    if packages == 0:
        return f"{shown(line)} names no package; setup accepts only {FORM}"
    return None


def check_setup(err: Err, value: Any, where: tuple[Any, ...]) -> tuple[str, ...]:
    """The setup lines (white space collapsed) of a config's ``setup`` value."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_LINES:
        err(where, f"must be a list of at most {MAX_LINES} pip install lines")
        return ()
    out: list[str] = []
    for i, line in enumerate(value):
        if not isinstance(line, str) or not line.strip() or len(line) > MAX_LINE:
            err((*where, i), f"must be a non-empty string of at most {MAX_LINE} characters")
            continue
        problem = line_problem(line)
        if problem is not None:
            err((*where, i), problem)
        else:
            out.append(" ".join(line.split()))
    return tuple(out)


def words(line: str) -> list[str]:
    """A checked setup line as the argv it runs (its words; none needs quoting in an argv)."""
    return line.split()
