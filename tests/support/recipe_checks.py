"""Parsing a recipe document in memory and checking the one problem it gives (where it
points: line, col, field; and what it says)."""

from __future__ import annotations

import textwrap

from aim_catalog.errors import Problem
from aim_catalog.recipes.files import parse_bytes
from aim_catalog.recipes.format import RecipeDoc

# Five lines: a serve section added after it starts on line 6.
HEAD = """\
recipe_id: demo-mi300x-bf16
model_id: Org/Model
huggingface_id: Org/Model
hardware: MI300X
precision: bf16
"""


def serve(body: str, gpus: str = "4_gpu", backend: str = "vllm") -> str:
    """HEAD plus one serve config: ``{backend}_serve`` on line 6, ``{gpus}`` on line 7 col 3,
    and ``body`` from line 8, indented to col 5."""
    return HEAD + f"{backend}_serve:\n  {gpus}:\n" + textwrap.indent(textwrap.dedent(body), "    ")


def parse(text: str | bytes, path: str = "t.yaml") -> tuple[RecipeDoc | None, list[Problem]]:
    return parse_bytes(text.encode() if isinstance(text, str) else text, path)


def parse_ok(text: str | bytes) -> RecipeDoc:
    doc, problems = parse(text)
    assert problems == []
    assert doc is not None
    return doc


def only_problem(text: str | bytes, path: str = "t.yaml") -> Problem:
    doc, problems = parse(text, path)
    assert doc is None
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def assert_problem(p: Problem, line: int, col: int, field: str, fragment: str) -> None:
    assert (p.line, p.col, p.field) == (line, col, field), str(p)
    assert fragment in p.message, str(p)
