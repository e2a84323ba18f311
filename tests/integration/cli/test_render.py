"""Human output shows data as data: table cells are not rich markup, and control characters
from a catalog are escaped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from support.launch import MODEL, RECIPE, catalog_url, cli, set_config

from aim_catalog.storage import db


def test_table_cells_are_data_not_markup(
    cli: Callable[..., Any], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    cli("--db", url, "ingest", str(write_recipe("m", model="org/model")))
    result = cli("--db", url, "explain", "org/model", "1", "-p", "[red]fp8", code=3)
    assert "asked [red]fp8" in result.stdout
    result = cli("--db", url, "explain", "org/model", "1", "-p", "[/x]", code=3)
    assert "asked [/x]" in result.stdout


def test_control_characters_from_a_catalog_are_escaped_in_human_output(tmp_path: Path, host: Path) -> None:
    hostile = "\x1b]0;owned\x07\x1b[31mred\x9b2J"
    set_config(tmp_path, args={"--served-model-name": hostile})
    for args in (("select", MODEL, "1"), ("launch", MODEL, "1", "--dry-run")):
        result = cli(*args)
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\x9b" not in result.stdout
        assert "\\x1b]0;owned\\x07\\x1b[31mred\\x9b2J" in result.stdout
    spec = cli("launch", MODEL, "1", "--dry-run", "--json").stdout  # JSON escapes them too
    assert "\x1b" not in spec and "\x9b" not in spec and json.loads(spec)["command"][-7] == hostile


def test_explain_escapes_control_characters_of_the_catalog(tmp_path: Path, host: Path) -> None:
    cli("list-recipes")
    engine = db.make_engine(catalog_url(tmp_path))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE recipes SET hardware = :h WHERE recipe_id = :r"), {"h": "MI3\x1b[31mX", "r": RECIPE}
        )
    engine.dispose()
    result = cli("explain", MODEL, "4", "--hardware", "MI300X", code=None)
    assert "\x1b" not in result.stdout + result.stderr
    assert "recipe is for MI3\\x1b[31mX" in result.stdout
