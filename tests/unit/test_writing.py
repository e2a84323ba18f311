"""Files the tool writes never follow a link planted in the way and never stay partial."""

from __future__ import annotations

from pathlib import Path

import pytest

from aim_catalog.writing import write_file


def test_a_link_at_the_path_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    path = tmp_path / "chart.png"
    path.symlink_to(victim)
    assert write_file(path, b"data") == path
    assert (victim.read_text(), path.read_bytes(), path.is_symlink()) == ("keep me", b"data", False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart.png", "victim.txt"]


def test_a_directory_at_the_path_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    (tmp_path / "chart.png").mkdir()
    with pytest.raises(IsADirectoryError):
        write_file(tmp_path / "chart.png", b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]


def test_a_failed_write_leaves_no_temporary(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_file(tmp_path / "missing" / "chart.png", b"data")
    assert list(tmp_path.iterdir()) == []
