"""Edge cases users hit: odd inputs, secrets in odd places, catalogs from elsewhere."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from aim_catalog.errors import redact
from aim_catalog.recipes.files import load_recipes, parse_file
from aim_catalog.storage import db
from aim_catalog.storage.resources import seed_recipe_dir


@pytest.mark.parametrize(
    ("text_", "secret"),
    [
        ("postgresql://admin:s3cr3t@db/catalog", "s3cr3t"),
        ("postgresql://admin:p@ss@127.0.0.1:1/c: could not connect", "p@ss"),
        ("postgresql://admin:a/b@db/catalog", "a/b"),
        ("postgresql+psycopg://admin@db/catalog?sslmode=require&password=s3cr3t", "s3cr3t"),
        ("two: postgresql://a:one@h/d and postgresql://b:two2@h/d", "two2"),
    ],
)
def test_redact_hides_passwords_wherever_they_sit(text_: str, secret: str) -> None:
    hidden = redact(text_)
    assert secret not in hidden and "***" in hidden


def test_password_in_query_string_never_reaches_the_terminal(cli: Callable[..., Any]) -> None:
    result = cli("--db", "postgresql://admin@127.0.0.1:1/catalog?password=s3cr3t", "list-recipes", code=1)
    assert "s3cr3t" not in result.stderr + result.stdout
    assert "password=***" in result.stderr


def test_a_url_that_does_not_parse_is_a_usage_error(cli: Callable[..., Any]) -> None:
    result = cli("--db", "postgresql://u:pw@h:notaport/db", "list-recipes", code=2)
    assert "not a database URL" in result.stderr and "pw@" not in result.stderr


def test_a_catalog_from_a_newer_aim_catalog_is_refused_clearly(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    for argv in (("list-recipes",), ("db", "upgrade")):
        result = cli("--db", url, *argv, code=1)
        assert "schema revision 9999, which this aim-catalog does not know" in result.stderr
        assert "upgrade aim-catalog" in result.stderr


def test_values_longer_than_their_columns_are_refused_with_a_location(
    write_recipe: Callable[..., Path],
) -> None:
    long_model = "org/" + "m" * 400
    path = write_recipe("long", model=long_model)
    _, problems, _ = load_recipes([path])
    fields = {(p.field, p.line) for p in problems}
    assert fields == {("model_id", 2), ("huggingface_id", 3)}
    assert all("at most 300" in p.message for p in problems)


def test_messages_quote_at_most_a_little_of_a_huge_value(write_recipe: Callable[..., Path]) -> None:
    huge = "9" * 100_000
    path = write_recipe("h", text_=f"recipe_id: h\nprecision: {huge}\n")
    _, problems, _ = load_recipes([path])
    assert max(len(str(p)) for p in problems) < 500


def test_special_files_are_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    _, problems = parse_file(fifo)  # must not wait for a writer
    assert problems[0].message == "not a regular file"
    _, problems = parse_file(Path("/dev/zero"))
    assert problems[0].message == "not a regular file"


def test_a_file_name_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (Path(os.fsdecode(bytes(folder) + b"/bad-\xff.yaml"))).write_text("recipe_id: x\n")
    _, problems, files = load_recipes([folder])
    assert files == 1
    assert problems[0].message == "file name is not valid UTF-8; rename the file"
    assert "\ufffd" in problems[0].path


def test_hidden_folders_and_files_are_skipped(write_recipe: Callable[..., Path], tmp_path: Path) -> None:
    good = write_recipe("visible")
    (good.parent / ".github" / "workflows").mkdir(parents=True)
    (good.parent / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n")
    (good.parent / ".pre-commit-config.yaml").write_text("repos: []\n")
    recipes, problems, files = load_recipes([good.parent])
    assert (files, problems, [r.recipe_id for r in recipes]) == (1, [], ["visible"])
    # Named explicitly, a hidden file is read like any other.
    _, problems, _ = load_recipes([good.parent / ".pre-commit-config.yaml"])
    assert problems and "unknown top-level key 'repos'" in problems[0].message


def test_a_recipe_id_belongs_to_one_file_while_it_exists(
    cli: Callable[..., Any], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    first = write_recipe("shared-id", directory=tmp_path / "a")
    second = write_recipe("shared-id", directory=tmp_path / "b")
    cli("--db", url, "ingest", str(first.parent))
    result = cli("--db", url, "ingest", str(second.parent), code=4)
    assert f"is already in the catalog from {first.resolve()}, which still exists" in result.stderr
    first.unlink()  # now the id can move
    assert cli("--db", url, "ingest", str(second.parent)).stdout.startswith("added 0, updated 1")


def test_a_users_file_replaces_a_bundled_seed_recipe(cli: Callable[..., Any], reference_dir: Path) -> None:
    cli("list-recipes")  # creates and seeds the default catalog
    out = cli("ingest", str(reference_dir / "qwen3-32b-mi300x-bf16.yaml")).stdout
    assert out.strip() == "added 0, updated 1, unchanged 0, removed 0"
    (qwen,) = json.loads(cli("list-recipes", "--model", "Qwen/Qwen3-32B", "--json").stdout)
    assert qwen["source_path"] == str(reference_dir / "qwen3-32b-mi300x-bf16.yaml")
    assert str(seed_recipe_dir()) not in qwen["source_path"]


def test_dry_run_ingest_creates_no_catalog(
    cli: Callable[..., Any], reference_dir: Path, tmp_path: Path
) -> None:
    out = cli("ingest", str(reference_dir), "--dry-run").stdout
    assert out.strip() == "added 4, updated 0, unchanged 0, removed 0 (dry run: nothing written)"
    assert not (tmp_path / "data" / "aim-catalog").exists()


def test_table_cells_are_data_not_markup(
    cli: Callable[..., Any], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    cli("--db", url, "ingest", str(write_recipe("m", model="org/model")))
    result = cli("--db", url, "explain", "org/model", "1", "-p", "[red]fp8", code=3)
    assert "asked [red]fp8" in result.stdout
    result = cli("--db", url, "explain", "org/model", "1", "-p", "[/x]", code=3)
    assert "asked [/x]" in result.stdout


def test_timestamps_say_they_are_utc_on_every_dialect(
    cli: Callable[..., Any], db_url: str, reference_dir: Path
) -> None:
    cli("--db", db_url, "ingest", str(reference_dir))
    recipes = json.loads(cli("--db", db_url, "list-recipes", "--json").stdout)
    assert all(r["updated_at"].endswith("+00:00") for r in recipes)
