"""Recipe files: finding them, reading them safely, and loading them as ``RecipeDoc``.

``safe_yaml`` loads a file (refusing hostile YAML), ``validate`` checks the document
against the format (``format``), and an AMD AIM profile is converted by
``aim_profiles``. ``load_recipes`` / ``load_files`` are the entry points: every problem of
every file, and recipe_ids unique across files.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from aim_catalog.errors import Problem, shown
from aim_catalog.notes import Tick
from aim_catalog.recipes.aim_profiles import looks_like_profile, parse_profile
from aim_catalog.recipes.format import MAX_BYTES, RecipeDoc, ServeConfigSpec
from aim_catalog.recipes.safe_yaml import Reject, load_yaml
from aim_catalog.recipes.validate import validate_document

__all__ = [
    "MAX_BYTES",
    "RecipeDoc",
    "ServeConfigSpec",
    "expand_paths",
    "load_files",
    "load_recipes",
    "parse_bytes",
    "parse_file",
    "read_file",
    "too_big",
    "validate_document",
]


def parse_bytes(data: bytes, path: str) -> tuple[RecipeDoc | None, list[Problem]]:
    sha = hashlib.sha256(data).hexdigest()
    if len(data) > MAX_BYTES:
        return None, [too_big(path, len(data))]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [Problem(path, line, col, "", f"not valid UTF-8 (byte 0x{data[exc.start]:02x})")]
    text = text.removeprefix("\ufeff")
    try:
        doc, marks = load_yaml(text)
    except Reject as exc:
        return None, [Problem(path, exc.line, exc.col, "", exc.message)]
    if looks_like_profile(doc):  # an AMD AIM profile: read as the recipe it describes
        return parse_profile(doc, path, marks, sha)
    return validate_document(doc, path, marks, sha)


def read_file(path: Path) -> tuple[bytes | None, list[Problem]]:
    """A recipe file's bytes, refusing what is not a small regular file with a UTF-8 name."""
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        printable = os.fsencode(path).decode("utf-8", "replace")
        return None, [Problem(printable, 0, 0, "", "file name is not valid UTF-8; rename the file")]
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        # O_NOFOLLOW: paths here are resolved (or checked links); one that became a link
        # since is not followed.
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW
        with os.fdopen(os.open(path, flags), "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):  # a FIFO or /dev/zero would hang or never end
                return None, [Problem(name, 0, 0, "", "not a regular file")]
            if info.st_size > MAX_BYTES:  # refuse before reading a byte of it
                return None, [too_big(name, info.st_size)]
            return handle.read(MAX_BYTES + 1), []  # bounded even if the file grows meanwhile
    except OSError as exc:
        return None, [Problem(name, 0, 0, "", f"cannot read: {exc.strerror or exc}")]


def parse_file(path: Path) -> tuple[RecipeDoc | None, list[Problem]]:
    data, problems = read_file(path)
    if data is None:
        return None, problems
    return parse_bytes(data, str(path))


def too_big(name: str, size: int) -> Problem:
    return Problem(name, 0, 0, "", f"file is {size} bytes; the limit is {MAX_BYTES} (1 MiB)")


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Files named directly, plus ``*.yaml``/``*.yml`` found (recursively) in directories."""
    files: list[Path] = []
    problems: list[Problem] = []
    for p in paths:
        if p.is_dir():
            found, outside = _walk(p.resolve())
            files.extend(found)
            problems.extend(outside)
        elif p.exists():
            files.append(p.resolve())
        else:
            problems.append(Problem(str(p), 0, 0, "", "no such file or directory"))
    return list(dict.fromkeys(files)), problems


def _walk(directory: Path) -> tuple[list[Path], list[Problem]]:
    """Recipe files below a resolved ``directory``, skipping hidden files and folders (.git,
    .github...). Paths are joined, not resolved one by one (10k realpath calls cost more than
    the rest of a re-ingest); anything that is not a regular file is reported when read.

    Symbolic links are not followed out of ``directory``: a linked file is taken (as its
    target) only when the target lies inside; linked folders are not entered.
    """
    found: list[Path] = []
    problems: list[Problem] = []
    inside = str(directory).rstrip(os.sep) + os.sep
    pending = [str(directory)]
    while pending:
        root = pending.pop()
        try:
            with os.scandir(root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append(Problem(root, 0, 0, "", f"cannot list: {exc.strerror or exc}"))
            continue
        folders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.path)
                continue
            if not entry.name.endswith((".yaml", ".yml")):
                continue
            if not entry.is_symlink():
                found.append(Path(entry.path))
                continue
            target = os.path.realpath(entry.path)
            if target.startswith(inside):
                found.append(Path(target))
            else:
                problems.append(
                    Problem(
                        entry.path, 0, 0, "", f"symbolic link to a file outside {directory}; not followed"
                    )
                )
        pending.extend(reversed(folders))
    return found, problems


def load_recipes(
    paths: Iterable[Path], progress: Tick | None = None
) -> tuple[list[RecipeDoc], list[Problem], int]:
    """Parse and validate every recipe under ``paths``; recipe_ids must be unique across files.

    Returns ``(recipes, problems, files_seen)``; callers write nothing when problems is non-empty.
    """
    files, problems = expand_paths(paths)
    recipes, found = load_files(files, progress)
    return recipes, problems + found, len(files)


def load_files(
    files: Iterable[Path], progress: Tick | None = None, known: Mapping[str, str] | None = None
) -> tuple[list[RecipeDoc], list[Problem]]:
    """``load_recipes`` for an already expanded list of files (``progress`` hears each
    file's path once it is read).

    ``known`` maps a path to the content hash the catalog already holds for it: such a
    file, unchanged, is read and hashed but not parsed again (re-ingest stays cheap).
    """
    problems: list[Problem] = []
    recipes: list[RecipeDoc] = []
    first_seen: dict[str, RecipeDoc] = {}
    for file in files:
        data, found = read_file(file)
        recipe = None
        if data is not None and not (known and known.get(str(file)) == hashlib.sha256(data).hexdigest()):
            recipe, found = parse_bytes(data, str(file))
        problems.extend(found)
        if progress is not None:
            progress(str(file))
        if recipe is None:
            continue
        other = first_seen.get(recipe.recipe_id)
        if other is not None:
            problems.append(
                recipe.id_problem(
                    f"duplicate recipe_id {shown(recipe.recipe_id)}; "
                    f"also in {other.path}:{other.line}:{other.col}"
                )
            )
            continue
        first_seen[recipe.recipe_id] = recipe
        recipes.append(recipe)
    return recipes, problems
