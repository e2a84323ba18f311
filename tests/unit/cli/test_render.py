"""``render.table``: stacking the rows into one row's cells (the fast path for long tables)
prints exactly what rich prints for a row per line, on a terminal and in a pipe; tables it
cannot stack (a cell that would fold, a multi-line cell) still get a row per line."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from aim_catalog.cli import render

COLUMNS = ("name", "recipe", "backend", "GPUs", "port", "status", "container")


def console(width: int, terminal: bool) -> Console:
    return Console(
        file=io.StringIO(),
        width=width,
        force_terminal=terminal,
        color_system="truecolor" if terminal else None,
        highlight=False,
        soft_wrap=True,
    )


def row_per_line(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None, con: Console
) -> str:
    """What ``table`` printed before it stacked rows: rich laying out every cell."""
    grid = Table(title=Text(title) if title else None, header_style="bold", title_justify="left")
    for column in columns:
        grid.add_column(Text(render.safe(column)), overflow="fold")
    for row in rows:
        grid.add_row(*(Text(render.safe("" if cell is None else str(cell))) for cell in row))
    con.print(grid)
    return con.file.getvalue()  # type: ignore[attr-defined]


def printed(
    monkeypatch: pytest.MonkeyPatch,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    width: int,
    terminal: bool,
    title: str | None = None,
) -> tuple[str, str]:
    """(``render.table``'s output, the row-per-line output) on a console of ``width``."""
    con = console(width, terminal)
    monkeypatch.setattr(render, "out", lambda: con)
    render.table(columns, rows, title)
    return con.file.getvalue(), row_per_line(columns, rows, title, console(width, terminal))  # type: ignore[attr-defined]


def ps_rows(count: int) -> list[tuple[Any, ...]]:
    return [
        (
            f"aim-qwen3-32b-{1 << i % 4}gpu-bf16-vllm-{i}",
            "qwen3-32b-mi300x-bf16",
            "vllm",
            "0,1",
            21000 + i,
            "running",
            None,
        )
        for i in range(count)
    ]


ODD_ROWS = [
    ("  leading", "trailing  ", "", None, 0, "模型名", "emoji 🚀"),
    ("x", "[red]not markup[/red]", "\x1b[31m", "é", -1, "", "wide \uff21\uff22\uff23"),
    ("", "", "", "", "", "", ""),
]


@pytest.mark.parametrize("terminal", [False, True])
@pytest.mark.parametrize("width", [10_000, 200])
@pytest.mark.parametrize("rows", [ps_rows(300), ODD_ROWS, ps_rows(1)], ids=["ps", "odd", "one"])
def test_stacked_rows_print_what_a_row_per_line_prints(
    monkeypatch: pytest.MonkeyPatch, rows: list[tuple[Any, ...]], width: int, terminal: bool
) -> None:
    got, expected = printed(monkeypatch, COLUMNS, rows, width=width, terminal=terminal, title="deployments")
    assert got == expected
    assert len(got.splitlines()) == len(rows) + 5  # title, top, header, rule, rows, bottom


def test_stacking_is_used_for_long_tables() -> None:
    body = [[render.safe(str(cell)) for cell in row] for row in ps_rows(10)]
    assert render._stackable(COLUMNS, body, 10_000)


@pytest.mark.parametrize("terminal", [False, True])
def test_a_table_wider_than_the_console_folds_as_before(
    monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    rows = ps_rows(20)
    body = [[render.safe("" if cell is None else str(cell)) for cell in row] for row in rows]
    assert not render._stackable(COLUMNS, body, 60)
    got, expected = printed(monkeypatch, COLUMNS, rows, width=60, terminal=terminal)
    assert got == expected
    assert len(got.splitlines()) > len(rows) + 4  # cells folded onto more lines


def test_exactly_the_console_width_is_stacked(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = ps_rows(5)
    natural = len(printed(monkeypatch, COLUMNS, rows, width=10_000, terminal=False)[0].splitlines()[0])
    body = [[render.safe("" if cell is None else str(cell)) for cell in row] for row in rows]
    assert render._stackable(COLUMNS, body, natural)
    assert not render._stackable(COLUMNS, body, natural - 1)
    for width in (natural, natural - 1):
        got, expected = printed(monkeypatch, COLUMNS, rows, width=width, terminal=False)
        assert got == expected


@pytest.mark.parametrize("cell", ["two\nlines", "a\ttab"])
def test_a_multi_line_or_tabbed_cell_keeps_a_row_per_line(monkeypatch: pytest.MonkeyPatch, cell: str) -> None:
    rows = [*ps_rows(3), (cell, "r", "vllm", "0", 1, "running", "running")]
    body = [[render.safe("" if c is None else str(c)) for c in row] for row in rows]
    assert not render._stackable(COLUMNS, body, 10_000)
    got, expected = printed(monkeypatch, COLUMNS, rows, width=10_000, terminal=False)
    assert got == expected


def test_no_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    got, expected = printed(monkeypatch, COLUMNS, [], width=10_000, terminal=False)
    assert got == expected
