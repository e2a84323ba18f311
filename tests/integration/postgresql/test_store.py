"""Timestamps say they are UTC on every dialect."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def test_timestamps_say_they_are_utc_on_every_dialect(
    cli: Callable[..., Any], db_url: str, reference_dir: Path
) -> None:
    cli("--db", db_url, "ingest", str(reference_dir))
    recipes = json.loads(cli("--db", db_url, "list-recipes", "--json").stdout)
    assert all(r["updated_at"].endswith("+00:00") for r in recipes)
