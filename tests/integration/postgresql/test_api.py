"""The Python API (``from aim_catalog import Catalog, Request``) on each dialect:
frozen data that agrees, read units that never commit, an older schema refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from aim_catalog import Catalog, Request, SelectionOptions
from aim_catalog.errors import CatalogClosed, NoSuitableRecipe, SchemaOutOfDate, WrongArgumentType


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


def test_paths_may_be_strings_as_everywhere_a_path_goes_in(
    db_url: str, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    """``Catalog.ingest(["dir"])`` raised AttributeError ('str' object has no attribute 'is_dir')."""
    write_recipe("str-a", model="org/str-a")
    with Catalog.open(db_url, create=True) as catalog:
        report = catalog.ingest([str(tmp_path / "recipes")], prune=True)
        assert report.added == ["str-a"]
        written = catalog.export(str(tmp_path / "out"))
        assert [p.name for p in written] == ["str-a.yaml"]


def test_a_bare_string_where_paths_are_iterated_is_refused_before_anything_is_read(
    db_url: str, write_recipe: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: ``ingest("dir")`` raised AttributeError and ``import_benchmarks("/x/v.json")``
    read files named '/', 'x', 'v', ... from the working directory (issue 18, point 10)."""
    write_recipe("one-path", model="org/one-path")
    monkeypatch.chdir(tmp_path)
    for letter in "xvjson":  # what iterating the string would have read
        (tmp_path / letter).write_text("{}")
    with Catalog.open(db_url, create=True) as catalog:
        before = catalog.models()
        with pytest.raises(WrongArgumentType) as ingest:
            catalog.ingest(str(tmp_path / "recipes"))  # type: ignore[arg-type]
        assert str(ingest.value).startswith("paths must be a sequence of paths, not one str: pass ['")
        with pytest.raises(WrongArgumentType, match=r"^files must be a sequence of paths, not one str"):
            catalog.import_benchmarks("/x/v.json")  # type: ignore[arg-type]
        with pytest.raises(WrongArgumentType, match=r"^paths must be a sequence of paths, not one PosixPath"):
            catalog.ingest(tmp_path / "recipes")  # type: ignore[arg-type]
        with pytest.raises(WrongArgumentType, match=r"^paths\[1\] must be a path \(str or os.PathLike\)"):
            catalog.ingest([tmp_path / "recipes", 7])  # type: ignore[list-item]
        assert catalog.models() == before
        # One path where one path goes in: str or os.PathLike alike.
        assert catalog.ingest([tmp_path / "recipes"]).added == ["one-path"]
        assert [p.name for p in catalog.export(tmp_path / "out")] == ["one-path.yaml"]


def test_a_closed_catalog_raises_instead_of_reopening(db_url: str, write_recipe: Callable[..., Path]) -> None:
    """Before: every method after close() silently opened a new connection pool."""
    recipe = write_recipe("closed-a", model="org/closed-a")
    catalog = Catalog.open(db_url, create=True)
    catalog.ingest([recipe])
    catalog.close()
    catalog.close()  # closing twice is harmless
    uses: list[Callable[[], object]] = [
        catalog.models,
        lambda: catalog.select(Request("org/closed-a", gpus=4)),
        lambda: catalog.ingest([recipe]),
        lambda: catalog.report("coverage"),
        catalog.revision,
        catalog.exists,
        lambda: catalog.upgrade(),
    ]
    for use in uses:
        with pytest.raises(CatalogClosed, match=r"was closed: open it again to use it$") as closed:
            use()
        assert isinstance(closed.value, ValueError)
        assert "aim_test:aim_test@" not in str(closed.value)  # the password stays hidden
    with Catalog.open(db_url) as again:  # a new one works
        assert again.models() == ["org/closed-a"]
