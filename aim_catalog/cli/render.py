"""Terminal output: rich tables for people, strict JSON for programs, errors to stderr.

rich is imported only when something is drawn on a terminal (tables, colour, spinners):
plain lines and JSON, the usual output of scripted calls, do not pay for it.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aim_catalog.errors import redact

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from aim_catalog.notes import Progress


@functools.cache
def out() -> Console:
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:  # piped: size tables to their content instead of folding at 80
        console = Console(highlight=False, soft_wrap=True, width=10_000)
    return console


@functools.cache
def err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


# C0 controls but tab and newline, DEL, C1 controls (8-bit CSI/OSC), and the bidi
# overrides that reorder what a terminal shows: recipe text is data, never terminal control.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_C1 = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """``text`` with control characters shown as ``\\x1b``-style escapes (human output)."""
    return _CONTROL.sub(_escape, text)


@contextmanager
def progress_bar(console: Console | None = None) -> Iterator[Progress | None]:
    """A progress bar on stderr while a long job runs, one bar per stage (what, done, of
    how many, time), cleared at the end; None when stderr is not a terminal (a script's
    log gets no bars). ``console``: where to draw (tests)."""
    if console is None and not stderr_is_terminal():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bars

    bars = Bars(
        TextColumn("{task.description}", markup=False),  # a file name is data, never markup
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or err(),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def report(what: str, done: int, total: int) -> None:
        what = safe(what)
        if what not in tasks:
            tasks[what] = bars.add_task(what, total=total)
        bars.update(tasks[what], completed=done, total=total)

    with bars:
        yield report


def emit_json(data: Any) -> None:
    """``data`` as strict JSON (RFC 8259) on stdout: a program parsing it never meets
    ``NaN`` or ``Infinity``. Bounds keep such figures out of the catalog, but one written
    before they were checked (an old catalog) may still be read: it is printed as ``null``
    and a note on stderr says how many were."""
    text, nulled = json_text(data)
    sys.stdout.write(text + "\n")
    note_nulled(nulled)


def json_text(data: Any, indent: int | None = 2) -> tuple[str, int]:
    """``data`` as strict JSON text (C0 and C1 controls escaped), and how many non-finite
    numbers in it were replaced by ``null``."""
    nulled = [0]

    def finite(value: Any) -> Any:
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            nulled[0] += 1
            return None
        if isinstance(value, dict):
            return {k: finite(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [finite(v) for v in value]
        return value

    # allow_nan=False: were a non-finite figure to slip past ``finite``, fail, never print it.
    text = json.dumps(finite(data), indent=indent, ensure_ascii=False, default=str, allow_nan=False)
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text), nulled[0]  # json escapes C0


def note_nulled(count: int) -> None:
    if count:
        note(
            f"{count} figure(s) in the catalog are not finite numbers (NaN or infinity, stored "
            "before bounds were checked): printed as null; `aim-catalog sql` finds their rows"
        )


def line(text: str = "") -> None:
    sys.stdout.write(safe(text) + "\n")


def _to_stderr(text: str, style: str) -> None:
    text = safe(text)
    if stderr_is_terminal():
        err().print(text, markup=False, style=style)
    else:
        sys.stderr.write(text + "\n")


def note(text: str) -> None:
    """Information for the person at the terminal; kept off stdout so pipes stay clean."""
    _to_stderr(redact(text), "dim")


def error(text: str) -> None:
    _to_stderr(f"error: {redact(text)}", "red")


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
    from rich.text import Text

    head = [safe(column) for column in columns]
    body = [[safe("" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = _natural_widths(head, body, out().width)
    drawn = None if widths is None else _drawn(head, body, widths, title)
    if drawn is not None:
        out().file.write(drawn)
        out().file.flush()
        return
    grid = _grid(head, title)
    for row in body:  # Text: cells are data, never rich markup ("[red]" stays as typed)
        grid.add_row(*(Text(cell) for cell in row))
    out().print(grid)


def _grid(head: Sequence[str], title: str | None) -> Table:
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=Text(safe(title)) if title else None, header_style="bold", title_justify="left")
    for column in head:
        grid.add_column(Text(column), overflow="fold")
    return grid


def _natural_widths(head: Sequence[str], body: Sequence[Sequence[str]], width: int) -> list[int] | None:
    """The columns' widths when no cell folds: every cell one line (no newline; no tab, which
    rich expands) and the table within ``width`` at its natural widths; else None."""
    from rich.cells import cell_len

    if not body or any(len(row) != len(head) for row in body):
        return None
    if any("\n" in cell or "\t" in cell for row in (head, *body) for cell in row):
        return None
    widths = [max(cell_len(cell) for cell in column) for column in zip(head, *body, strict=True)]
    fits = sum(widths) + 3 * len(head) + 1 <= width  # a space either side, a border each
    return widths if fits else None


def _drawn(
    head: Sequence[str], body: Sequence[Sequence[str]], widths: list[int], title: str | None
) -> str | None:
    """What rich prints for the table, without its layout work for every cell (~1 ms each:
    seconds for ps's hundreds of rows): rich draws the frame (title, borders, header) around
    one row of each column's widest cell, which gives every column its width; each row's
    line is then made as rich made that one. None, and rich draws it all, when that line is
    not what was expected (a style, another box)."""
    from rich.cells import cell_len
    from rich.text import Text

    def padded(cell: str, width: int) -> str:
        return f" {cell}{' ' * (width - cell_len(cell))} "

    def line(row: Sequence[str], edges: tuple[str, str, str]) -> str:
        left, between, right = edges
        return left + between.join(padded(c, w) for c, w in zip(row, widths, strict=True)) + right

    widest = [max(column, key=cell_len) for column in zip(*body, strict=True)]
    grid = _grid(head, title)
    grid.add_row(*(Text(cell) for cell in widest))
    console = out()
    with console.capture() as captured:
        console.print(grid)
    lines = captured.get().split("\n")
    if len(lines) < 4:
        return None
    *frame, drawn, bottom, end = lines
    after_first = 1 + len(padded(widest[0], widths[0]))
    if len(drawn) <= after_first:
        return None
    edges = (drawn[0], drawn[after_first], drawn[-1])
    if line(widest, edges) != drawn:
        return None
    return "\n".join([*frame, *(line(row, edges) for row in body), bottom, end])
