"""What an OpenAI-compatible server's answer may say: replies are data, not trusted structure.

Every field ``aim-catalog test`` uses is checked before it is used: JSON without NaN or
Infinity, objects and lists where the API has them, text where it has text, and token
counts by the importers' rule for counts (``importers.common.as_count``: an integer from 0
to 2^31-1), never more completion tokens than the ``max_tokens`` asked. A server that says
anything else raises ``Invalid`` (one line, quoting a short piece of what it sent); a
stream's error event raises ``ServerError``. No HTTP here: ``openai_client`` feeds it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aim_catalog.errors import shown
from aim_catalog.measurements.importers.common import as_count

STREAM_SLACK = 32  # events a stream may send beyond one per token (role, finish, usage chunks)


class Invalid(ValueError):
    """The answer is not what the API says it is."""


class ServerError(Exception):
    """The server reported an error inside its answer (a stream's error event)."""


def _constant(name: str) -> Any:
    raise Invalid(f"JSON with {name}, which is not a number JSON allows")


def loads(data: bytes | str) -> Any:
    """JSON as the standard has it: NaN, Infinity and -Infinity are refused."""
    try:
        return json.loads(data, parse_constant=_constant)
    except Invalid:
        raise
    except (ValueError, RecursionError):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        raise Invalid(f"not JSON: {shown(text.strip(), 80)}") from None


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"{where} must be an object, got {shown(value)}")
    return value


def _text(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise Invalid(f"{where} must be a string, got {shown(value)}")
    return value


def _count(usage: dict[str, Any], key: str, max_tokens: int | None = None) -> int | None:
    value = usage.get(key)
    if value is None:
        return None
    try:
        count = as_count(value, 0, digit_strings=False)
    except ValueError as exc:
        raise Invalid(f"usage.{key} {exc}") from None
    if max_tokens is not None and count > max_tokens:
        raise Invalid(f"usage.{key} is {count}, more than the max_tokens ({max_tokens}) asked")
    return count


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None
    completion_tokens: int | None


def usage_of(body: dict[str, Any], max_tokens: int) -> Usage | None:
    """The ``usage`` object's counts; None when the answer has none."""
    usage = body.get("usage")
    if usage is None:
        return None
    usage = _object(usage, "usage")
    return Usage(_count(usage, "prompt_tokens"), _count(usage, "completion_tokens", max_tokens))


def served_model(body: Any) -> str:
    """The first model a ``GET /v1/models`` answer lists."""
    data = _object(body, "the answer").get("data")
    if not isinstance(data, list) or not data:
        raise Invalid("it lists no model (`data` is not a non-empty list)")
    name = _text(_object(data[0], "data[0]").get("id"), "data[0].id")
    if not name or not name.strip():
        raise Invalid("data[0].id names no model")
    return name


def _first_choice(body: dict[str, Any]) -> dict[str, Any]:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise Invalid(f"choices must be a non-empty list, got {shown(choices)}")
    return _object(choices[0], "choices[0]")


@dataclass(frozen=True)
class Completion:
    """What a whole (not streamed) answer says."""

    text: str
    model: str | None
    usage: Usage | None
    finish_reason: str | None


def completion(body: Any, max_tokens: int) -> Completion:
    """A ``chat.completion`` object, checked."""
    body = _object(body, "the answer")
    choice = _first_choice(body)
    message = _object(choice.get("message"), "choices[0].message")
    return Completion(
        text=_text(message.get("content"), "choices[0].message.content") or "",
        model=_text(body.get("model"), "model"),
        usage=usage_of(body, max_tokens),
        finish_reason=_text(choice.get("finish_reason"), "choices[0].finish_reason"),
    )


def _error_message(chunk: dict[str, Any]) -> str:
    error = chunk.get("error")
    message = chunk.get("message")
    if message is None and isinstance(error, dict):
        message = error.get("message")
    if message is None and error is not None and not isinstance(error, dict):
        message = error
    lines = str(message).strip().splitlines() if message is not None else []
    return lines[0][:200] if lines else "error"


class Stream:
    """The events of a streamed answer (``data: {...}`` lines), checked one by one.

    At most ``max_tokens + STREAM_SLACK`` events: a server that never stops (ignoring
    ``max_tokens``) is refused there, not followed until memory runs out.

    ``reasoning=True`` (a benchmark's count of generated tokens) takes a reasoning model's
    thinking as text too: vLLM's and SGLang's reasoning parsers stream it in
    ``delta.reasoning_content`` (vLLM's newer releases: ``delta.reasoning``), not ``content``.
    """

    def __init__(self, max_tokens: int, *, reasoning: bool = False) -> None:
        self.max_tokens = max_tokens
        self.keys = ("content", "reasoning_content", "reasoning") if reasoning else ("content",)
        self.parts: list[str] = []
        self.events = 0
        self.model: str | None = None
        self.finish: str | None = None
        self.usage: Usage | None = None
        self.done = False

    def feed(self, line: str) -> bool:
        """Take one line; True when it carried text (a token arrived)."""
        line = line.strip()
        if not line.startswith("data:"):
            return False  # blank separators, comments (": ping"), event names
        data = line[5:].strip()
        if data == "[DONE]":
            self.done = True
            return False
        self.events += 1
        if self.events > self.max_tokens + STREAM_SLACK:
            raise Invalid(
                f"it streamed more than {self.max_tokens + STREAM_SLACK} events for "
                f"max_tokens {self.max_tokens} (it does not stop at max_tokens)"
            )
        chunk = _object(loads(data), "a streamed event")
        if chunk.get("object") == "error" or "error" in chunk:
            raise ServerError(_error_message(chunk))
        self.model = _text(chunk.get("model"), "model") or self.model
        self.usage = usage_of(chunk, self.max_tokens) or self.usage
        return self._choices(chunk.get("choices"))

    def _choices(self, choices: Any) -> bool:
        if choices is None:
            return False
        if not isinstance(choices, list):
            raise Invalid(f"choices must be a list, got {shown(choices)}")
        carried = False
        for index, raw in enumerate(choices):
            choice = _object(raw, f"choices[{index}]")
            delta = choice.get("delta")
            content = None
            if delta is not None:
                delta = _object(delta, "delta")
                content = "".join(_text(delta.get(key), f"delta.{key}") or "" for key in self.keys)
            if content:
                if len(self.parts) >= self.max_tokens:
                    raise Invalid(
                        f"it streamed more than max_tokens ({self.max_tokens}) pieces of text "
                        "(it does not stop at max_tokens)"
                    )
                self.parts.append(content)
                carried = True
            self.finish = _text(choice.get("finish_reason"), "finish_reason") or self.finish
        return carried

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()
