"""An empty ``--out`` (export, a Kubernetes dry run) is a usage error and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.launch import MODEL, cli

# --------------------------------------------------------------------------- empty --out


def test_an_empty_out_directory_is_a_usage_error(
    tmp_path: Path, host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    cli("list-recipes")  # the default catalog exists and holds the seed recipes
    for args in (("export", "--out", ""), ("export", "--out", "  ")):
        assert "--out is empty: name a directory" in cli(*args, code=2).stderr
    kube = ("launch", MODEL, "1", "--target", "kubernetes", "--dry-run", "--out", "")
    assert "--out is empty: name a directory" in cli(*kube, code=2).stderr
    assert list(work.iterdir()) == []
