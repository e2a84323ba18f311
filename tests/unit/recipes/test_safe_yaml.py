"""Hostile YAML (anchors, aliases, tags, deep nesting, control characters, byte-order marks)
comes back as one located Problem, never as an exception.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.recipe_checks import HEAD, assert_problem, only_problem, parse, parse_ok, serve

from aim_catalog.recipes import safe_yaml
from aim_catalog.recipes.files import parse_bytes
from aim_catalog.recipes.safe_yaml import MAX_DEPTH

# ---------------------------------------------------------------------------------------
# Hostile input: one clear Problem, never an exception

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def block_nesting(levels: int) -> str:
    """``levels`` nested block mappings: mapping k (1-based) starts on line k, col 2k-1."""
    lines = [f"{'  ' * i}k{i}:" for i in range(levels - 1)]
    return "\n".join([*lines, f"{'  ' * (levels - 1)}leaf: v"]) + "\n"


HOSTILE = [
    # (id, data, line, col, message fragment); field is "" for every load-time rejection
    ("billion-laughs", BILLION_LAUGHS, 1, 4, "YAML anchors/aliases are not allowed (&a)"),
    (
        "anchor-and-alias",
        HEAD.replace("model_id: Org/Model", "model_id: &m Org/Model").replace(
            "huggingface_id: Org/Model", "huggingface_id: *m"
        ),
        2,
        11,
        "anchors/aliases are not allowed (&m)",
    ),
    ("alias-without-anchor", "x: *undefined\n", 1, 4, "YAML aliases are not allowed (*undefined)"),
    ("anchor-on-key", "&k x: 1\n", 1, 1, "anchors/aliases are not allowed (&k)"),
    (
        "block-nesting-33",
        block_nesting(MAX_DEPTH + 1),
        MAX_DEPTH + 1,
        2 * MAX_DEPTH + 1,
        f"nesting deeper than {MAX_DEPTH} levels",
    ),
    (
        "flow-nesting-33",
        # the root mapping is level 1, so the 32nd '[' (col 35) opens level 33
        "x: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n",
        1,
        35,
        f"nesting deeper than {MAX_DEPTH} levels",
    ),
    (
        "duplicate-top-level-key",
        HEAD + "recipe_id: other\n",
        6,
        1,
        "duplicate key 'recipe_id' (first defined on line 1)",
    ),
    (
        "duplicate-nested-key",
        serve("enabled: true\nargs: {--model: a}\nenabled: false\n"),
        10,
        5,
        "duplicate key 'enabled' (first defined on line 8)",
    ),
    (
        "duplicate-flow-key",
        serve("enabled: true\nargs: {--model: a, --model: b}\n"),
        9,
        24,
        "duplicate key '--model' (first defined on line 9)",
    ),
    (
        "python-name-tag",
        "x: !!python/name:os.system\n",
        1,
        4,
        "YAML tag !!python/name:os.system is not allowed",
    ),
    (
        "python-object-mapping-tag",
        "x: !!python/object:collections.OrderedDict {a: 1}\n",
        1,
        4,
        "YAML tag !!python/object:collections.OrderedDict is not allowed",
    ),
    ("binary-tag", "x: !!binary aGVsbG8=\n", 1, 4, "YAML tag !!binary is not allowed"),
    ("set-tag", "x: !!set {a, b}\n", 1, 4, "YAML tag !!set is not allowed"),
    ("omap-tag", "x: !!omap [a: 1]\n", 1, 4, "YAML tag !!omap is not allowed"),
    ("merge-key", "x: {<<: {a: 1}}\n", 1, 5, "YAML tag !!merge is not allowed"),
    ("local-tag", "x: !custom 1\n", 1, 4, "YAML tag !custom is not allowed"),
    ("complex-key", "? [a, b]\n: 1\n", 1, 3, "only plain scalar mapping keys are allowed"),
    ("non-utf8", b"recipe_id: r\nmodel_id: caf\xe9\n", 2, 14, "not valid UTF-8 (byte 0xe9)"),
    ("empty-file", b"", 1, 1, "empty file: no YAML document"),
    ("comment-only", "# nothing here\n\n# still nothing\n", 1, 1, "empty file: no YAML document"),
    ("whitespace-only", "  \n\n   \n", 1, 1, "empty file: no YAML document"),
    ("list-at-top", "- recipe_id: r\n- model_id: m\n", 1, 1, "must be a mapping, got a list"),
    ("scalar-at-top", "just a string\n", 1, 1, "must be a mapping, got str"),
    ("null-document", "---\n...\n", 2, 1, "must be a mapping, got null"),
    ("two-documents", HEAD + "---\n" + HEAD, 6, 1, "more than one YAML document in the file"),
    (
        "syntax-error-unclosed-flow",
        "recipe_id: r\nmodel_id: [a, b\nhardware: x\n",
        3,
        9,
        "YAML syntax error: did not find expected ',' or ']'",
    ),
    ("syntax-error-tab-indent", "a:\n\tb: 1\n", 2, 1, "YAML syntax error: found character"),
    (
        "nan-metric",
        serve("enabled: true\nbenchmarks:\n  - {output_throughput: .nan}\n"),
        10,
        29,
        "non-finite number '.nan'",
    ),
    (
        "negative-inf-metric",
        serve("enabled: true\nbenchmarks:\n  - {output_throughput: -.inf}\n"),
        10,
        29,
        "non-finite number '-.inf'",
    ),
    (
        "overflowing-float",
        serve("enabled: true\nbenchmarks:\n  - {output_throughput: 1.0e+400}\n"),
        10,
        29,
        "non-finite number '1.0e+400'",
    ),
    ("bad-explicit-int", "x: !!int twelve\n", 1, 4, "bad int value 'twelve'"),
    ("bad-explicit-timestamp", "x: !!timestamp 2025-13-45\n", 1, 4, "bad timestamp value"),
]


@pytest.mark.parametrize(
    ("data", "line", "col", "fragment"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_hostile_input_is_one_located_problem(data: str | bytes, line: int, col: int, fragment: str) -> None:
    p = only_problem(data, "hostile.yaml")
    assert_problem(p, line, col, "", fragment)
    assert p.path == "hostile.yaml"
    assert str(p) == f"hostile.yaml:{line}:{col}: {p.message}"


def test_python_object_apply_tag_is_refused_and_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    p = only_problem(f"x: !!python/object/apply:os.system ['touch {marker}']\n")
    assert_problem(p, 1, 4, "", "YAML tag !!python/object/apply:os.system is not allowed")
    assert not marker.exists()


def test_flow_nesting_ten_thousand_deep_is_refused_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"[" * 10_000 + b"]" * 10_000
    events: list[Any] = []
    real_events = safe_yaml._events

    def counted(loader: Any) -> Iterator[Any]:
        for event in real_events(loader):
            events.append(event)
            yield event

    monkeypatch.setattr(safe_yaml, "_events", counted)
    p = only_problem(data)
    # libyaml's own depth guard may fire first (its scanner reads flow collections
    # ahead, up to its limit of 1000 levels); either way the refusal names nesting.
    assert (p.line, p.field) == (1, "")
    assert "nesting" in p.message, str(p)
    # Work, not time, guards against a recursive or quadratic blow-up: the parse stops
    # within the first 1000 of 20,000 brackets, after at most MAX_DEPTH levels of events.
    assert p.col <= 1_001, str(p)
    assert len(events) <= MAX_DEPTH + 3, [type(e).__name__ for e in events]


def test_nesting_exactly_max_depth_is_not_a_nesting_problem() -> None:
    # Root mapping plus 31 sequences is 32 levels: allowed by the loader; the validator then
    # reports the unknown key (and the missing fields), nothing about nesting.
    doc, problems = parse("x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n")
    assert doc is None
    assert problems[0].field == "x"
    assert "unknown top-level key 'x'" in problems[0].message
    assert not any("nesting" in p.message for p in problems)


# Known bugs: each of these escapes parse_bytes as an exception today.


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ("x: !!bool maybe\n", "bool"),
        ("x: !!int ''\n", "int"),
        ("x: !!float ''\n", "float"),
        ("x: !!timestamp yesterday\n", "timestamp"),
    ],
    ids=["bool", "empty-int", "empty-float", "timestamp"],
)
def test_malformed_explicitly_tagged_scalar_is_a_problem(data: str, kind: str) -> None:
    p = only_problem(data)
    assert_problem(p, 1, 4, "", f"bad {kind} value")


def test_control_character_is_located() -> None:
    p = only_problem("a: 1\nb: 2\nc: \x07\n")
    assert_problem(p, 3, 4, "", "control characters are not allowed")


def test_control_character_is_a_problem_not_an_exception() -> None:
    p = only_problem("a: 1\nb: 2\nc: \x07\n")
    assert p.field == ""
    assert "unacceptable character #x0007" in p.message


def test_invalid_byte_after_bom_is_named_correctly() -> None:
    p = only_problem(b"\xef\xbb\xbfrecipe_id: \xff\n")
    assert p.line == 1
    assert "byte 0xff" in p.message, str(p)


def test_utf8_bom_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + HEAD.encode()
    doc, problems = parse_bytes(data, "bom.yaml")
    assert problems == []
    assert doc is not None
    assert doc.recipe_id == "demo-mi300x-bf16"
    assert doc.sha256 == hashlib.sha256(data).hexdigest()


def test_explicit_document_markers_and_comments_are_fine() -> None:
    doc = parse_ok("# a comment\n---\n" + HEAD + "...\n")
    assert doc.line == 3  # recipe_id's position in the file
