"""Collecting located problems while checking a loaded YAML document.

A ``Checker`` turns a field path such as ``("vllm_serve", "4_gpu", "args")`` into the
``path:line:col`` where the file wrote it (or its nearest written parent) and a dotted field
name, and offers the value checks every part of the recipe format shares.
"""

from __future__ import annotations

import re
from typing import Any

from aim_catalog.errors import Problem, shown
from aim_catalog.recipes.format import MAX_FLOAT
from aim_catalog.recipes.safe_yaml import Marks, Path_
from aim_catalog.settings import MAX_SQL_INT

# C0 controls but tab and newline, DEL and C1: terminal escapes, NUL (PostgreSQL refuses it).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
CONTROL_OR_SPACE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def locate(marks: Marks, where: Path_) -> tuple[int, int]:
    """Line and column of ``where``, or of its nearest parent the file wrote."""
    probe = where
    while probe not in marks and probe:
        probe = probe[:-1]
    return marks.get(probe, (1, 1))


class Checker:
    def __init__(self, path: str, marks: Marks) -> None:
        self.path, self.marks = path, marks
        self.problems: list[Problem] = []

    def err(self, where: Path_, message: str) -> None:
        line, col = locate(self.marks, where)
        self.problems.append(Problem(self.path, line, col, _dotted(where), message))

    def mapping(self, value: Any, where: Path_) -> dict[Any, Any] | None:
        if isinstance(value, dict):
            return value
        self.err(where, f"must be a mapping, got {kind(value)}")
        return None

    def optional_mapping(self, value: Any, where: Path_) -> dict[Any, Any]:
        """A mapping the format lets a file leave out: empty when absent (or not a mapping,
        which is reported)."""
        if value is None:
            return {}
        return self.mapping(value, where) or {}

    def text(
        self, value: Any, where: Path_, pattern: re.Pattern[str] | None = None, max_len: int = 300
    ) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.err(where, f"must be a non-empty string, got {kind(value)}")
            return None
        if len(value) > max_len:
            self.err(where, f"is {len(value)} characters long; at most {max_len} are allowed")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.err(where, f"{shown(value)} does not match {pattern.pattern}")
            return None
        bad = CONTROL_OR_SPACE_CONTROL.search(value)
        if bad:
            self.err(where, f"contains the control character {codepoint(bad.group())}; not allowed here")
            return None
        return value

    def integer(self, val: Any, at: Path_, low: int) -> None:
        if not isinstance(val, int) or isinstance(val, bool) or not low <= val <= MAX_SQL_INT:
            self.err(at, f"must be an integer from {low} to {MAX_SQL_INT}, got {shown(val)}")

    def number(self, val: Any, at: Path_) -> None:
        # Python compares a huge int with a float exactly; float() of it would overflow.
        if not is_number(val) or val < 0:
            self.err(at, f"must be a non-negative number, got {shown(val)}")
        elif val > MAX_FLOAT:
            self.err(at, f"must be a number no larger than {MAX_FLOAT:.6g} (a double), got {shown(val)}")

    def control_characters(self, value: Any, where: Path_) -> None:
        """Refuse NUL and control characters in every string of the document, keys included:
        they would reach terminals raw (escape sequences) or fail a PostgreSQL write far from
        the file that holds them."""
        if isinstance(value, str):
            bad = _CONTROL.search(value)
            if bad:
                self.err(where, f"contains the control character {codepoint(bad.group())}; not allowed")
        elif isinstance(value, dict):
            for key, item in value.items():
                # (tab and newline in a key are left to the field's own check, which names the rule)
                bad = _CONTROL.search(key) if isinstance(key, str) else None
                if bad:
                    self.err((*where, key), f"key contains the control character {codepoint(bad.group())}")
                else:
                    self.control_characters(item, (*where, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.control_characters(item, (*where, i))


def codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def _dotted(where: Path_) -> str:
    parts = [p if isinstance(p, int) else _printable(str(p)[:60]) for p in where]
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(parts))


def _printable(text: str) -> str:
    return text if text.isprintable() else repr(text)[1:-1]


def kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", type(None): "null"}.get(type(value), type(value).__name__)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
