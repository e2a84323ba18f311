"""A served answer cannot drive the terminal it is printed on."""

from __future__ import annotations


def test_an_answer_cannot_drive_the_terminal() -> None:
    from aim_catalog.cli.operate import _printable

    assert (
        _printable("hi \x1b]0;title\x07 \x1b[31mred\nnext\tcol")
        == "hi \\x1b]0;title\\x07 \\x1b[31mred\nnext\tcol"
    )
