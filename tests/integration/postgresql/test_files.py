"""A symlink out of the recipe directory is neither followed nor quoted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.problems import problem_lines


def test_a_symlink_out_of_the_directory_is_not_followed_nor_quoted(
    cli: Callable[..., Any], db_url: str, tmp_path: Path, write_recipe: Callable[..., Path]
) -> None:
    secret = tmp_path / "shadow"
    secret.write_text("root_password_hash: $6$hunter2hunter2\n")  # as if /etc/shadow held YAML
    recipes = tmp_path / "recipes"
    write_recipe("fine")
    (recipes / "evil.yaml").symlink_to(secret)
    (recipes / "twin.yaml").symlink_to(recipes / "fine.yaml")  # a link inside is fine
    (recipes / "sub").mkdir()
    (recipes / "sub" / "shadow.yaml").symlink_to("/etc/shadow")
    for command in (("validate",), ("ingest",)):
        result = cli(*command, str(recipes), code=4, db_url=db_url if command == ("ingest",) else None)
        lines = problem_lines(result)
        assert lines == [
            f"{recipes / 'evil.yaml'}: symbolic link to a file outside {recipes}; not followed",
            f"{recipes / 'sub' / 'shadow.yaml'}: symbolic link to a file outside {recipes}; not followed",
        ], result.stderr
        assert "hunter2" not in result.stderr and "root" not in result.stderr.replace(str(tmp_path), "")
    (recipes / "evil.yaml").unlink()
    (recipes / "sub" / "shadow.yaml").unlink()
    assert cli("ingest", str(recipes), db_url=db_url).stdout.startswith("added 1,")
