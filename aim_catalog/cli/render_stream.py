"""Result sets written as their rows arrive (``sql``), in the formats of ``render.rows``.

csv, json and markdown stream: memory stays flat however many rows come. A table must
see every row to size its columns, so it shows at most ``TABLE_ROWS`` unless ``--limit``
says otherwise (the caller notes what was left out).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

TABLE_ROWS = 1000


def stream_rows(
    columns: Sequence[str], rows: Iterator[Sequence[Any]], fmt: str, limit: int | None = None
) -> tuple[int, bool]:
    """Write ``rows``; return (rows written, whether a limit left some out)."""
    cap = limit if limit is not None else (TABLE_ROWS if fmt == "table" else None)
    taken = rows if cap is None else islice(rows, cap)
    if fmt == "json":
        written = _json(columns, taken)
    elif fmt == "csv":
        written = _csv(columns, taken)
    elif fmt == "markdown":
        written = _markdown(columns, taken)
    else:
        from aim_catalog.cli import render

        buffered = list(taken)
        render.table(columns, buffered)
        written = len(buffered)
    cut = cap is not None and written == cap and next(rows, None) is not None
    return written, cut


def _json(columns: Sequence[str], rows: Iterator[Sequence[Any]]) -> int:
    """The same text as ``render.emit_json`` of the whole list, one object at a time: strict
    JSON, a non-finite number printed as ``null`` (a note on stderr says how many)."""
    from aim_catalog.cli.render import json_text, note_nulled

    out = sys.stdout
    count = nulled = 0
    for row in rows:
        text, replaced = json_text(dict(zip(columns, row, strict=True)))
        nulled += replaced
        out.write(("[\n" if count == 0 else ",\n") + "\n".join("  " + line for line in text.splitlines()))
        count += 1
    out.write("\n]\n" if count else "[]\n")
    note_nulled(nulled)
    return count


def _csv(columns: Sequence[str], rows: Iterator[Sequence[Any]]) -> int:
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        count += 1
    return count


def _markdown(columns: Sequence[str], rows: Iterator[Sequence[Any]]) -> int:
    def cell(value: Any) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    out = sys.stdout
    out.write("| " + " | ".join(columns) + " |\n")
    out.write("|" + "---|" * len(columns) + "\n")
    count = 0
    for row in rows:
        out.write("| " + " | ".join(cell(v) for v in row) + " |\n")
        count += 1
    return count
