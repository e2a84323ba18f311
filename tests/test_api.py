"""The Python API: ``from aim_catalog import Catalog, Request`` (issue 11).

The README's example is run as written, in a fresh interpreter against the installed
package; the rest checks that the API and the CLI give the same answers, that what it
returns is frozen data (never ORM rows), and that a command opens the catalog once.
"""

from __future__ import annotations

import dataclasses
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

from aim_catalog import Catalog, Request, SelectionOptions
from aim_catalog.errors import NoSuitableRecipe, SchemaOutOfDate

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


_BENCH = {"input_len": 1024, "output_len": 1024, "concurrency": 64}
API_RECIPES: dict[str, dict[str, Any]] = {  # two recipes of one model (4 GPU: vLLM and SGLang), and fp8
    "a-vllm": {
        "model": "org/m",
        "configs": {"vllm": {4: {"enabled": True, "benchmarks": [{**_BENCH, "output_throughput": 900.0}]}}},
    },
    "b-sglang": {
        "model": "org/m",
        "configs": {
            "sglang": {4: {"enabled": True, "benchmarks": [{**_BENCH, "output_throughput": 1200.0}]}}
        },
    },
    "c-fp8": {"model": "org/m", "precision": "fp8"},
}


@pytest.fixture
def api_catalog(make_catalog: Callable[..., Any], db_url: str) -> Catalog:
    """A catalog opened through the API on each dialect, holding API_RECIPES."""
    return make_catalog(API_RECIPES, into=db_url, via="api")


def test_select_and_explain_return_frozen_data_that_agree(api_catalog: Catalog) -> None:
    asked = Request("org/m", gpus=4, backend="any")
    best = api_catalog.select(asked)
    assert (best.recipe_id, best.backend, best.score) == ("b-sglang", "sglang", 1200.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        best.score = 0.0  # type: ignore[misc]
    explained = api_catalog.explain(asked)
    assert explained.chosen is not None and explained.chosen.recipe_id == best.recipe_id
    verdicts = {v.recipe_id: v.verdict for v in explained.verdicts}
    assert verdicts == {"b-sglang": "chosen", "a-vllm": "ranked", "c-fp8": "rejected"}
    assert explained.no_match is None
    for value in (best, explained, *explained.verdicts):
        assert dataclasses.is_dataclass(value) and type(value).__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_options_and_request_give_the_same_answer(api_catalog: Catalog) -> None:
    """SelectionOptions (what the CLI parses) completes itself from the host (no GPU here)."""
    from_options = api_catalog.select(SelectionOptions("org/m", gpus=4, backend="any", hardware="any"))
    assert from_options == api_catalog.select(Request("org/m", gpus=4, backend="any"))


def test_no_match_is_the_domain_error_with_the_supported_configurations(api_catalog: Catalog) -> None:
    with pytest.raises(NoSuitableRecipe) as caught:
        api_catalog.select(Request("org/m", gpus=8))
    assert "- 4 GPU, bf16, vLLM: ✅ Enabled" in str(caught.value)
    explained = api_catalog.explain(Request("org/m", gpus=8))
    assert explained.chosen is None and explained.no_match == str(caught.value)


def test_read_units_never_commit(api_catalog: Catalog) -> None:
    from sqlalchemy import text

    with api_catalog.read() as session:
        session.execute(text("DELETE FROM recipes"))
    assert [r.recipe_id for r in api_catalog.recipes("org/m")] == ["a-vllm", "b-sglang", "c-fp8"]


def test_a_shared_catalog_at_an_older_schema_is_refused(db_url: str) -> None:
    from aim_catalog.storage import db

    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine, "0006")
    finally:
        engine.dispose()
    with pytest.raises(SchemaOutOfDate, match="aim-catalog db upgrade"):
        Catalog.open(db_url)


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


def test_deferred_catalog_connects_on_first_use(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'later.db'}"
    api_catalog = Catalog.deferred(url, create=True)
    assert not (tmp_path / "later.db").exists()
    with api_catalog:
        assert api_catalog.models() == []
    assert (tmp_path / "later.db").exists()


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


def test_schema_methods_act_on_the_catalogs_own_database(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("AIM_CATALOG_DB_URL", raising=False)
    with Catalog.open(f"sqlite:///{tmp_path / 'mine.db'}", create=True) as mine:
        from aim_catalog.storage.db import HEAD_REVISION

        assert (mine.exists(), mine.revision()) == (True, HEAD_REVISION)
    assert not Catalog.deferred(f"sqlite:///{tmp_path / 'other.db'}").exists()
    assert not (tmp_path / "data").exists(), "the default catalog was not touched"
