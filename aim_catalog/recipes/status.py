"""A recipe's status: whether its upstream still runs what it describes.

```yaml
status: retired                 # current (the default) | retired
retired_reason: InferenceX retired gpt-oss-120b (PR #2101); configs archived in configs/deprecated/
retired_on: 2026-07-06          # when upstream retired it, where known (YYYY-MM-DD)
```

A retired recipe stays selectable (``select`` says it is retired; ``--current-only``
leaves it out). Imports only ``errors`` and ``format``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from aim_catalog.errors import shown
from aim_catalog.recipes.format import STATUSES

MAX_REASON = 500

Err = Callable[[tuple[Any, ...], str], None]


def check_status(err: Err, top: dict[Any, Any]) -> tuple[str, str | None, date | None]:
    """The recipe's ``(status, retired_reason, retired_on)``; problems through ``err``."""
    status = top.get("status", "current")
    if status not in STATUSES:
        err(("status",), f"must be one of {', '.join(STATUSES)}, got {shown(status)}")
        status = "current"
    reason = top.get("retired_reason")
    when = top.get("retired_on")
    if status == "current":
        for name in ("retired_reason", "retired_on"):
            if name in top:
                err((name,), f"only a retired recipe has {name}; this one's status is current")
        return "current", None, None
    if reason is None:
        err(("status",), "a retired recipe needs retired_reason: why upstream no longer runs it")
    elif not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        err(("retired_reason",), f"must be a non-empty string of at most {MAX_REASON} characters")
        reason = None
    day = None
    if when is not None:
        try:  # YAML's unquoted dates arrive as ISO text (safe_yaml)
            day = date.fromisoformat(when) if isinstance(when, str) and len(when) == 10 else None
        except ValueError:
            day = None
        if day is None:
            err(("retired_on",), f"must be a date (YYYY-MM-DD), got {shown(when)}")
    return "retired", reason, day


def retired_line(status: str | None, reason: str | None, retired_on: Any) -> str | None:
    """``retired upstream on DATE: REASON`` for a retired recipe (None for a current one)."""
    if status != "retired":
        return None
    when = f"on {retired_on}" if retired_on else "(date not recorded)"
    return f"retired upstream {when}: {reason or 'no reason recorded'}"
