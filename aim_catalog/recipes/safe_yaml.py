"""Safe YAML loading: one pass over libyaml's event stream, values with positions.

Loading walks the event stream once (libyaml's C parser where available) and builds plain
Python values itself. That one pass is where hostile input is refused before it can cost
anything: anchors and aliases, nesting deeper than ``MAX_DEPTH``, duplicate keys and any
tag outside the YAML core schema (``!!python/...``). Every mapping key and sequence item
keeps the line and column it came from, so callers can locate each problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from aim_catalog.errors import shown

MAX_DEPTH = 32

Path_ = tuple[str | int, ...]
Marks = dict[Path_, tuple[int, int]]

try:  # libyaml's C parser: an order of magnitude faster than the pure-Python one
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


class Reject(Exception):
    """Stops loading a file at the first structural problem (it cannot be trusted further)."""

    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


_CORE = "tag:yaml.org,2002:"
_RESOLVER = yaml.resolver.Resolver()
_SAFE = yaml.constructor.SafeConstructor()
_SCALAR_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}


def _pos(mark: Any) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def _check_node_event(event: Any, allowed_tag: str) -> None:
    if event.anchor is not None:
        raise Reject(*_pos(event.start_mark), f"YAML anchors/aliases are not allowed (&{event.anchor})")
    tag = event.tag
    if tag not in (None, "!", allowed_tag) and not (allowed_tag == "scalar" and tag in _SCALAR_TAGS):
        raise Reject(*_pos(event.start_mark), f"YAML tag {_show_tag(tag)} is not allowed")


def _scalar(event: Any) -> Any:
    _check_node_event(event, "scalar")
    tag = event.tag
    if tag is None or tag == "!":
        tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
    if tag == f"{_CORE}str":
        return event.value
    if tag not in _SCALAR_TAGS:
        raise Reject(*_pos(event.start_mark), f"YAML tag {_show_tag(tag)} is not allowed")
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        if tag == f"{_CORE}null":
            return None
        if tag == f"{_CORE}bool":
            return _SAFE.construct_yaml_bool(node)
        if tag == f"{_CORE}int":
            return _SAFE.construct_yaml_int(node)
        if tag == f"{_CORE}float":
            number = _SAFE.construct_yaml_float(node)
            if number != number or number in (float("inf"), float("-inf")):
                raise Reject(*_pos(event.start_mark), f"non-finite number {shown(event.value)}")
            return number
        return _SAFE.construct_yaml_timestamp(node).isoformat()
    except Reject:
        raise
    except Exception as exc:  # PyYAML's constructors raise assorted errors on malformed values
        raise Reject(*_pos(event.start_mark), f"bad {tag[len(_CORE) :]} value {shown(event.value)}") from exc


@dataclass
class _Frame:
    value: dict[Any, Any] | list[Any]
    path: Path_
    key: Any = None
    has_key: bool = False
    key_lines: dict[Any, int] = field(default_factory=dict)


def _build(events: Iterator[Any], marks: Marks) -> Any:
    """Consume one document's node events; return its value, recording positions."""
    stack: list[_Frame] = []
    root: Any = None
    for event in events:
        if isinstance(event, yaml.AliasEvent):
            raise Reject(*_pos(event.start_mark), f"YAML aliases are not allowed (*{event.anchor})")
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = stack.pop()
            if isinstance(frame.value, dict) and frame.has_key:  # pragma: no cover - libyaml forbids
                raise Reject(*_pos(event.start_mark), "mapping key without a value")
            value: Any = frame.value
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            is_map = isinstance(event, yaml.MappingStartEvent)
            _check_node_event(event, f"{_CORE}{'map' if is_map else 'seq'}")
            if len(stack) >= MAX_DEPTH:
                raise Reject(*_pos(event.start_mark), f"nesting deeper than {MAX_DEPTH} levels")
            path = _child_path(stack, event, marks)
            stack.append(_Frame({} if is_map else [], path))
            continue
        elif isinstance(event, yaml.ScalarEvent):
            top = stack[-1] if stack else None
            if top is not None and isinstance(top.value, dict) and not top.has_key:
                _add_key(top, event, marks)
                continue
            _child_path(stack, event, marks)
            value = _scalar(event)
        else:  # pragma: no cover - document/stream events are consumed by the caller
            raise Reject(*_pos(event.start_mark), f"unexpected YAML event {type(event).__name__}")
        if not stack:
            return value
        _attach(stack[-1], value)
    return root  # pragma: no cover - the caller stops at the document end


def _child_path(stack: list[_Frame], event: Any, marks: Marks) -> Path_:
    if not stack:
        marks[()] = _pos(event.start_mark)
        return ()
    top = stack[-1]
    if isinstance(top.value, dict):
        if not top.has_key:
            raise Reject(*_pos(event.start_mark), "only plain scalar mapping keys are allowed")
        return (*top.path, top.key)
    path = (*top.path, len(top.value))
    marks[path] = _pos(event.start_mark)
    return path


def _add_key(frame: _Frame, event: Any, marks: Marks) -> None:
    key = _scalar(event)
    line, col = _pos(event.start_mark)
    assert isinstance(frame.value, dict)
    if key in frame.value or key in frame.key_lines:
        raise Reject(line, col, f"duplicate key {shown(key)} (first defined on line {frame.key_lines[key]})")
    frame.key, frame.has_key = key, True
    frame.key_lines[key] = line
    marks[(*frame.path, key)] = (line, col)


def _attach(frame: _Frame, value: Any) -> None:
    if isinstance(frame.value, dict):
        frame.value[frame.key] = value
        frame.has_key = False
    else:
        frame.value.append(value)


def load_yaml(text: str) -> tuple[Any, Marks]:
    """Parse exactly one YAML document safely; raise ``Reject`` on anything hostile."""
    marks: Marks = {}
    loader = _Loader(text)
    try:
        events = _events(loader)
        next(events)  # StreamStart
        first = next(events)
        if isinstance(first, yaml.StreamEndEvent):
            raise Reject(1, 1, "empty file: no YAML document")
        value = _build(events, marks)
        next(events)  # DocumentEnd
        after = next(events)
        if not isinstance(after, yaml.StreamEndEvent):
            raise Reject(*_pos(after.start_mark), "more than one YAML document in the file")
        return value, marks
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = _pos(mark) if mark is not None else (1, 1)
        raise Reject(line, col, f"YAML syntax error: {exc.problem or exc.context}") from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise Reject(line, col, f"unacceptable character #x{exc.character:04x}: {exc.reason}") from exc
    except yaml.YAMLError as exc:
        raise Reject(1, 1, f"YAML error: {exc}") from exc
    finally:
        loader.dispose()


def _events(loader: Any) -> Iterator[Any]:
    while loader.check_event():
        yield loader.get_event()
