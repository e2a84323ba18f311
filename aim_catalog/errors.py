"""Domain exceptions. Lower layers raise these; cli.py maps them to exit codes."""

from __future__ import annotations

from dataclasses import dataclass


class CatalogError(Exception):
    """An error a user can act on. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class EnvironmentProblem(CatalogError):
    """The database, Docker engine or host is unreachable or unusable."""

    exit_code = 1


class SchemaOutOfDate(EnvironmentProblem):
    """The database is behind the code and auto-migration is switched off."""


class UsageProblem(CatalogError):
    """The command line asks for something that cannot be done as asked."""

    exit_code = 2


class NoSuitableRecipe(CatalogError):
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
    exit_code = 5


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters: messages quote input, never all of it."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
