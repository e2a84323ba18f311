"""``render.table``: its fast path for long tables (rich draws the frame around one row of
the widest cells, the rows' lines are made like that one) prints exactly what rich prints
for a row per line, on a terminal and in a pipe; tables where a cell would fold, or a cell
has several lines, are drawn by rich row by row as before."""

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


def cells(rows: Sequence[Sequence[Any]]) -> list[list[str]]:
    return [[render.safe("" if cell is None else str(cell)) for cell in row] for row in rows]


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
def test_the_fast_path_prints_what_a_row_per_line_prints(
    monkeypatch: pytest.MonkeyPatch, rows: list[tuple[Any, ...]], width: int, terminal: bool
) -> None:
    got, expected = printed(monkeypatch, COLUMNS, rows, width=width, terminal=terminal, title="deployments")
    assert got == expected
    assert len(got.splitlines()) == len(rows) + 5  # title, top, header, rule, rows, bottom
    body = cells(rows)
    widths = render._natural_widths(COLUMNS, body, width)
    assert widths is not None
    assert render._drawn(COLUMNS, body, widths, "deployments") is not None  # it was the fast path


@pytest.mark.parametrize("terminal", [False, True])
def test_a_table_wider_than_the_console_folds_as_before(
    monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    rows = ps_rows(20)
    assert render._natural_widths(COLUMNS, cells(rows), 60) is None
    got, expected = printed(monkeypatch, COLUMNS, rows, width=60, terminal=terminal)
    assert got == expected
    assert len(got.splitlines()) > len(rows) + 4  # cells folded onto more lines


def test_exactly_the_console_width_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = ps_rows(5)
    natural = len(printed(monkeypatch, COLUMNS, rows, width=10_000, terminal=False)[0].splitlines()[0])
    assert render._natural_widths(COLUMNS, cells(rows), natural) is not None
    assert render._natural_widths(COLUMNS, cells(rows), natural - 1) is None
    for width in (natural, natural - 1):
        got, expected = printed(monkeypatch, COLUMNS, rows, width=width, terminal=False)
        assert got == expected


@pytest.mark.parametrize("cell", ["two\nlines", "a\ttab"])
def test_a_multi_line_or_tabbed_cell_is_drawn_by_rich(monkeypatch: pytest.MonkeyPatch, cell: str) -> None:
    rows = [*ps_rows(3), (cell, "r", "vllm", "0", 1, "running", "running")]
    assert render._natural_widths(COLUMNS, cells(rows), 10_000) is None
    got, expected = printed(monkeypatch, COLUMNS, rows, width=10_000, terminal=False)
    assert got == expected


def test_no_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    got, expected = printed(monkeypatch, COLUMNS, [], width=10_000, terminal=False)
    assert got == expected


def test_one_column(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [("a",), ("",), ("longer one",)]
    got, expected = printed(monkeypatch, ("only",), rows, width=80, terminal=True)
    assert got == expected


class AsciiFile(io.StringIO):
    encoding = "ascii"  # rich draws an ASCII box for such a console


def test_an_ascii_console_gets_the_same_ascii_box(monkeypatch: pytest.MonkeyPatch) -> None:
    def ascii_console() -> Console:
        return Console(file=AsciiFile(), width=200, highlight=False, soft_wrap=True)

    con = ascii_console()
    monkeypatch.setattr(render, "out", lambda: con)
    render.table(COLUMNS, ps_rows(30))
    got = con.file.getvalue()
    assert got == row_per_line(COLUMNS, ps_rows(30), None, ascii_console())
    assert got.startswith("+-") and "│" not in got


def test_progress_bar_draws_each_stage_with_its_count_and_escapes_names() -> None:
    """bench import's bars on a terminal: one per stage, "done/total", a file name's control
    characters escaped (not sent to the terminal); nothing drawn off a terminal."""
    import io

    from rich.console import Console

    from aim_catalog.cli import render

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with render.progress_bar(console) as progress:
        assert progress is not None
        progress("checking a\x1b]0;x\x07.json", 5_000, 12_000)
        progress("checking a\x1b]0;x\x07.json", 12_000, 12_000)
        progress("resolving serve configs", 12_000, 12_000)
    drawn = screen.getvalue()
    assert "checking a\\x1b]0;x\\x07.json" in drawn and "\x1b]0;x" not in drawn
    assert "12000/12000" in drawn and "resolving serve configs" in drawn
    with render.progress_bar() as off_terminal:  # pytest's stderr is not a terminal
        assert off_terminal is None
