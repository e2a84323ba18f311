"""The Python API and the command line: the README's example runs as written in a fresh
interpreter against the installed package and agrees with the CLI; a command opens the catalog
once, and not at all for bad input.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.paths import REPO

README = REPO / "README.md"


def readme_example() -> str:
    """The README's Python example (the ```python block under "Python API")."""
    text = README.read_text()
    section = text[text.index("## Python API") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README has no ```python block under ## Python API"
    return match.group(1)


def test_readme_example_runs_and_agrees_with_the_cli(tmp_path: Path) -> None:
    code = readme_example()
    assert len(code.strip().splitlines()) <= 5, "the README promises a five-line example"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIM_CATALOG_")}
    env |= {"XDG_DATA_HOME": str(tmp_path / "data"), "AIM_CATALOG_SYSFS_ROOT": str(tmp_path / "none")}
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr
    select = ["select", "Qwen/Qwen3-32B", "4", "-p", "bf16", "-b", "vllm", "--json"]
    cli = subprocess.run(
        [sys.executable, "-m", "aim_catalog", *select],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    chosen = json.loads(cli.stdout)
    # The example prints the recipe, the image and the server command line.
    first = ran.stdout.splitlines()[0].split()
    assert first[:2] == [chosen["recipe_id"], chosen["image"]]
    assert "--tensor-parallel-size" in ran.stdout


def test_a_cli_command_opens_the_catalog_once(
    cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`launch --dry-run` selected, planned and labelled with three engines and three schema
    checks before; one Catalog per command now."""
    from aim_catalog.storage import db

    counts = {"make_engine": 0, "ensure_schema": 0}
    for name in counts:
        real = getattr(db, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            counts[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(db, name, counted)
    cli("launch", "Qwen/Qwen3-32B", "4", "-p", "bf16", "-b", "vllm", "--dry-run", "--json")
    assert counts == {"make_engine": 1, "ensure_schema": 1}


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["select", "org/m", "--backend", "nope"], 2),
        (["explain", "org/m", "4", "--metric", "nope"], 2),
        (["launch", "org/m", "4", "--target", "kubernetes", "--cpu", "abc", "--dry-run"], 2),
        (["bench", "import", "{bad}", "--dry-run"], 4),
    ],
)
def test_bad_input_is_refused_before_the_catalog_is_opened(
    cli: Callable[..., Any], tmp_path: Path, argv: list[str], code: int
) -> None:
    """The default catalog is created on first use, but not by a command whose input is
    wrong: that is refused first, with its own exit code."""
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = cli(*(a.replace("{bad}", str(bad)) for a in argv), code=code)
    assert result.stderr.startswith("error: ") or "\nerror: " in result.stderr
    assert not (tmp_path / "data" / "aim-catalog").exists()


def test_sqlite_uris_keep_their_semantics(cli: Callable[..., Any], tmp_path: Path) -> None:
    """A shared in-memory database keeps its pooled connection (no pool: it would vanish
    between units of work); a dry run on a missing ``file:`` URI creates no file."""
    memory = f"sqlite:///file:mem{os.getpid()}?mode=memory&cache=shared&uri=true"
    seeds = str(REPO / "seed_recipes")
    added = json.loads(cli("--db", memory, "ingest", seeds, "--json").stdout)["added"]
    assert len(added) == len(list(Path(seeds).glob("*.yaml")))
    missing = tmp_path / "not-yet.db"
    cli("--db", f"sqlite:///file:{missing}?uri=true", "ingest", "--dry-run", seeds)
    assert not missing.exists()
