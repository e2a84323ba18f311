"""A recipe's optional ``source``: where its flags, images and numbers come from.

```yaml
source:
  repository: https://github.com/SemiAnalysisAI/InferenceX   # required when source is given
  commit: 843c6254ff69b567f772f6a5fd97675af3d04431            # 7-40 hex digits
  files: [configs/amd-master.yaml@843c6254ff69, ...]          # paths read
  entries: [dsr1-fp8-mi355x-sglang]                           # upstream entry names
  generated_by: scripts/gen_inferencex_recipes.py
  notes: ["sglang TP8: flags resolved for ISL 8192 / OSL 1024 at concurrency 64", ...]
  url: https://...                                            # optional
```
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aim_catalog.errors import shown

SOURCE_TEXT = ("repository", "commit", "generated_by", "url", "path")
SOURCE_LISTS = ("files", "entries", "notes")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
MAX_TEXT = 1000
MAX_ITEMS = 200

Err = Callable[[tuple[Any, ...], str], None]


def check_source(err: Err, value: Any, where: tuple[Any, ...]) -> None:
    """Report every problem of a ``source`` mapping through ``err(where, message)``."""
    if not isinstance(value, dict):
        err(where, f"must be a mapping (repository, commit, files, ...), got {type(value).__name__}")
        return
    if "repository" not in value:
        err(where, "missing required field 'repository'")
    for key, item in value.items():
        at = (*where, key)
        if key in SOURCE_TEXT:
            if not isinstance(item, str) or not item.strip() or len(item) > MAX_TEXT:
                err(at, f"must be a non-empty string of at most {MAX_TEXT} characters")
            elif key == "commit" and not _COMMIT.fullmatch(item):
                err(at, f"{shown(item)} is not a git commit (7 to 40 lower-case hex digits)")
        elif key in SOURCE_LISTS:
            if not isinstance(item, list) or len(item) > MAX_ITEMS:
                err(at, f"must be a list of at most {MAX_ITEMS} strings")
                continue
            for i, text in enumerate(item):
                if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
                    err((*at, i), f"must be a non-empty string of at most {MAX_TEXT} characters")
        else:
            known = ", ".join(SOURCE_TEXT + SOURCE_LISTS)
            err(at, f"unknown source field {shown(key)}; known: {known}")


def recipe_source(document: dict[str, Any]) -> dict[str, Any] | None:
    """The ``source`` mapping of a stored recipe document, if it has one."""
    found = document.get("source")
    return found if isinstance(found, dict) else None
