"""Recipe files in, validated recipes out: parse, validate, then lint the server flags.

``validate``, ``ingest`` and ``Catalog.ingest`` share it. Unknown server flags are
warnings (handed to ``on_warning``), or problems with ``strict``; ``progress``, given the
number of files to parse, opens what hears each file parsed (the CLI's bar for big trees).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aim_catalog.errors import InvalidRecipeInput

if TYPE_CHECKING:
    from aim_catalog.errors import Problem
    from aim_catalog.notes import Note, Tick
    from aim_catalog.recipes.format import RecipeDoc


@dataclass(frozen=True)
class Loader:
    """How recipe files are loaded: strict or not, where warnings and progress go."""

    strict: bool = False
    on_warning: Note | None = None
    progress: Callable[[int], AbstractContextManager[Tick | None]] | None = None

    def __call__(
        self, files: Iterable[Path], known: Mapping[str, str] | None = None
    ) -> tuple[list[RecipeDoc], list[Problem]]:
        """Parse and validate ``files`` (those whose hash is in ``known`` are skipped)."""
        from aim_catalog.recipes.files import load_files
        from aim_catalog.recipes.flaglint import located_warnings

        files = list(files)
        opened = self.progress(len(files)) if self.progress is not None else nullcontext(None)
        with opened as tick:
            recipes, problems = load_files(files, tick, known=known)
        warnings = located_warnings(recipes)
        if self.strict:
            return recipes, problems + warnings
        if self.on_warning is not None:
            for warning in warnings:
                self.on_warning(f"warning: {warning}")
        return recipes, problems

    def load(self, paths: Sequence[Path]) -> tuple[list[RecipeDoc], int]:
        """The valid recipes under ``paths`` and how many files they came from; any problem
        (a missing path, an invalid file) raises ``InvalidRecipeInput`` listing them all."""
        from aim_catalog.recipes.files import expand_paths

        files, missing = expand_paths(paths)
        recipes, problems = self(files)
        if missing or problems:
            raise InvalidRecipeInput(missing + problems)
        return recipes, len(files)

    def files(self, paths: Sequence[Path]) -> list[Path]:
        """The recipe files under ``paths``; when some path is missing, every problem at once
        (the files that are there are checked too)."""
        from aim_catalog.recipes.files import expand_paths

        files, missing = expand_paths(paths)
        if missing:
            raise InvalidRecipeInput(missing + self(files)[1])
        return files
