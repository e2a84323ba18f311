"""When and why InferenceX retired a benchmark, from its ``MODELS.md``.

Read from the "Model support matrix" table (InferenceX ``MODELS.md`` at 843c6254, 2026-08):
``| Model | Prefix | Date added | Active scenarios | Deprecated scenarios |``, prefixes
written as code (`` `gptoss` ``). A model whose active scenarios cell starts with "None"
is retired (``None (retired 2026-07-06, [#2101](url))``; an em dash instead of "None"
before 2026-08); otherwise the deprecated
scenarios cell names what was retired and, per item, when (``Single-turn 8k1k (removed
2026-08-04, [#2493](url))``, ``all bf16 recipes (removed ...)``). Items without a date
take the date the "Scenarios" table gives the scenario (``Deprecated for all models since
2026-07-17 ([#2263](url))``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DATE = r"(\d{4}-\d{2}-\d{2})"
_PR = r"\[#(\d+)\]\(([^)\s]+)\)"
_CODE = re.compile(r"`([^`]+)`")
# A retired model's active scenarios: "None (retired ...)" at 843c6254, "— (retired ...)" at
# 02262ec2 (2026-08-05).
_RETIRED = re.compile(r"(?:none\b|\u2014)", re.I)


@dataclass(frozen=True)
class Retirement:
    on: str | None  # YYYY-MM-DD
    reason: str


def _rows(text: str, heading: str) -> list[list[str]]:
    """The body rows of the first table under the ``## heading`` section."""
    section = re.split(rf"^## {re.escape(heading)}\s*$", text, maxsplit=1, flags=re.M)
    if len(section) < 2:
        return []
    rows = []
    for line in section[1].split("\n## ", 1)[0].splitlines():
        if line.startswith("|") and not re.fullmatch(r"\|[\s|:-]+\|?", line.strip()):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[1:]  # the header row


def _items(cell: str) -> list[str]:
    """A cell's comma-separated items, commas inside parentheses kept."""
    items, depth, current = [], 0, ""
    for char in cell:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    return [*items, current.strip()] if current.strip() else items


def _dated(text: str) -> tuple[str | None, str | None]:
    """The date and PR URL an item's parenthesis gives, if any."""
    when = re.search(_DATE, text)
    pr = re.search(_PR, text)
    return (when.group(1) if when else None), (pr.group(2) if pr else None)


def retirement(text: str | None, prefix: str, scenario: str, precision: str) -> Retirement | None:
    """What MODELS.md says of the retirement of ``prefix``'s ``scenario`` (``8k1k``, ``1k1k``)
    at ``precision``; None when it says nothing (or there is no MODELS.md)."""
    if not text:
        return None
    for row in _rows(text, "Model support matrix"):
        if len(row) < 5 or prefix not in _CODE.findall(row[1]):
            continue
        model, active, deprecated = re.sub(r"\s+", " ", row[0]), row[3], row[4]
        if _RETIRED.match(active):
            when, url = _dated(active)
            return Retirement(
                when, f"InferenceX retired {model}: no scenario of it runs any more{_cite(url)}"
            )
        for item in _items(deprecated):
            lowered = item.lower()
            if scenario in lowered or f"{precision} recipes" in lowered:
                when, url = _dated(item)
                if when is None:
                    when, url = _scenario_date(text, scenario)
                name = _plain(item.split("(", 1)[0])
                return Retirement(when, f"InferenceX stopped running {model}'s {name}{_cite(url)}")
    when, url = _scenario_date(text, scenario)
    if when is not None:
        return Retirement(
            when, f"InferenceX stopped running the {scenario} scenario for all models{_cite(url)}"
        )
    return None


def _scenario_date(text: str, scenario: str) -> tuple[str | None, str | None]:
    for row in _rows(text, "Scenarios"):
        if len(row) >= 3 and scenario in row[0].lower() and "deprecated" in row[2].lower():
            return _dated(row[2])
    return None, None


def _plain(text: str) -> str:
    """A cell without its markdown: links as their text, no emphasis."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    return re.sub(r"\s+", " ", text.replace("**", "")).strip().rstrip(".")


def _cite(url: str | None) -> str:
    return f" ({url})" if url else ""
