"""Domain exceptions and how an error is put into words. Lower layers raise these; the CLI
maps them to exit codes (``cli/app.py``). Imports nothing of aim_catalog: it is the floor.

Messages never carry a secret: ``redact`` hides the password of any database URL, and
``first_line`` / ``database_problem`` put a driver's or an engine's error into one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class CatalogError(Exception):
    """An error a user can act on. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class EnvironmentProblem(CatalogError):
    """The database, Docker engine or host is unreachable or unusable."""

    exit_code = 1


class SchemaOutOfDate(EnvironmentProblem):
    """The database is behind the code and auto-migration is switched off."""


class NoCatalog(EnvironmentProblem):
    """No catalog where one was asked for: a SQLite file that does not exist (a mistyped
    path is not made into a new, empty catalog). ``advice`` says how to create one."""

    def __init__(
        self, where: str, advice: str = "create it with `aim-catalog db upgrade` or `ingest`"
    ) -> None:
        super().__init__(f"no catalog at {where} ({advice})")
        self.where = where


class UsageProblem(CatalogError):
    """The command line asks for something that cannot be done as asked."""

    exit_code = 2


class InvalidArgument(UsageProblem, ValueError):
    """A value given to the Python API (or a command) outside what the CLI accepts for it,
    e.g. ``Request(gpus=10**30)``. A ``ValueError`` too, so callers may catch either."""


class WrongArgumentType(UsageProblem, TypeError):
    """A value of the wrong type given to the Python API, e.g. ``Request(gpus="4")`` or a
    bare ``str`` where a sequence of paths is iterated. A ``TypeError`` too."""


class CatalogClosed(UsageProblem, ValueError):
    """A ``Catalog`` used after ``close()`` (like I/O on a closed file: a ``ValueError``);
    a closed catalog never reopens by itself."""


class NoSuitableRecipe(CatalogError):
    """No enabled config meets the request (model, GPU count, precision, backend, hardware,
    scenario, SLOs); the message says what the catalog has instead."""

    exit_code = 3


@dataclass(frozen=True)
class Problem:
    """One finding about one input file, located as ``path:line:col``."""

    path: str
    line: int
    col: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}" if self.line else self.path
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class InvalidRecipeInput(CatalogError):
    """One or more input files are invalid; nothing was written."""

    exit_code = 4

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        files = len({p.path for p in problems})
        head = f"{count} problem{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}"
        super().__init__(head + ":\n" + "\n".join(str(p) for p in problems))


class LaunchFailed(CatalogError):
    """A launch (or a benchmark run's launch) did not reach a serving deployment: the image,
    the container, a setup step or the readiness wait failed; what it created is removed."""

    exit_code = 5


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters: messages quote input, never all of it."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# user:password@ in a URL. A careless password may hold '@' or '/', so everything up to
# the last '@' of the (white-space delimited) URL is hidden.
_PASSWORD_IN_URL = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)\S*(?=@[^@\s]*)")
_PASSWORD_PARAM = re.compile(r"(?P<head>[?&](?:password|passwd|pwd|sslpassword)=)[^&\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide the password of any database URL inside ``text`` (userinfo or query string)."""
    return _PASSWORD_PARAM.sub(r"\g<head>***", _PASSWORD_IN_URL.sub(r"\g<head>***", text))


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none), passwords
    hidden; for docker's ``APIError`` the engine's own words (``explanation``)."""
    text = str(getattr(exc, "explanation", None) or exc).strip()
    return redact(text.splitlines()[0] if text else type(exc).__name__)


def database_problem(exc: BaseException, engine: Any = None) -> EnvironmentProblem:
    """A driver error (SQLAlchemy's, or the DB-API's inside it) as a message that names the
    database (``engine``: a SQLAlchemy engine, or None) but never its password."""
    where = engine.url.render_as_string(hide_password=True) if engine is not None else "the database"
    line = first_line(getattr(exc, "orig", None) or exc)
    if "readonly database" in line:
        line += " (the catalog is read-only here: only commands that read it can run)"
    return EnvironmentProblem(redact(f"database error on {where}: {line}"))
