"""Terminal output: rich tables for people, JSON for programs, errors to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from aim_catalog.settings import redact

out = Console(highlight=False, soft_wrap=True)
if not out.is_terminal:  # piped: size tables to their content instead of folding at 80
    out = Console(highlight=False, soft_wrap=True, width=10_000)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def line(text: str = "") -> None:
    out.print(text, markup=False)


def note(text: str) -> None:
    """Information for the person at the terminal; kept off stdout so pipes stay clean."""
    err.print(redact(text), markup=False, style="dim")


def error(text: str) -> None:
    err.print(f"error: {redact(text)}", markup=False, style="red")


FORMATS = ("table", "csv", "json", "markdown")


def rows(columns: Sequence[str], data: Sequence[Sequence[Any]], fmt: str, title: str | None = None) -> None:
    """A result set in one of ``FORMATS``; csv/json/markdown are for pipes and documents."""
    if fmt == "json":
        emit_json([dict(zip(columns, row, strict=True)) for row in data])
    elif fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in data)
    elif fmt == "markdown":

        def cell(value: Any) -> str:
            return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

        sys.stdout.write("| " + " | ".join(columns) + " |\n")
        sys.stdout.write("|" + "---|" * len(columns) + "\n")
        for row in data:
            sys.stdout.write("| " + " | ".join(cell(v) for v in row) + " |\n")
    else:
        table(columns, data, title)


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    grid = Table(title=Text(title) if title else None, header_style="bold", title_justify="left")
    for column in columns:
        grid.add_column(Text(column), overflow="fold")
    for row in rows:  # Text: cells are data, never rich markup ("[red]" stays as typed)
        grid.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    out.print(grid)
