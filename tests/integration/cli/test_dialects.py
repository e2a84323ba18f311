"""A SQLite catalog on a read-only mount can still be read: real tmpfs mounts remounted
read-only (the tests run as root, which ignores chmod).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.mounts import remount_read_only, tmpfs


def test_a_catalog_on_a_read_only_mount_can_be_read(
    cli: Callable[..., Any], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "ro") as mount:
        url = f"sqlite:///{mount / 'catalog.db'}"
        write_recipe("ro-a", model="org/ro-model")
        cli("ingest", str(tmp_path / "recipes"), db_url=url)
        assert not (mount / "catalog.db-shm").exists()  # a clean close removes WAL's files
        remount_read_only(mount)
        listed = cli("list-recipes", "--json", db_url=url)
        assert '"recipe_id": "ro-a"' in listed.stdout
        assert "is read-only here" in listed.stderr and "catalog.db-shm" in listed.stderr
        chosen = cli("select", "org/ro-model", "1", "--json", db_url=url)
        assert '"recipe_id": "ro-a"' in chosen.stdout
        # A command that writes says why it cannot, in one line.
        write_recipe("ro-b", model="org/ro-model")
        failed = cli("ingest", str(tmp_path / "recipes"), code=1, db_url=url)
        last = failed.stderr.strip().splitlines()[-1]
        assert "read-only" in last and "only commands that read it can run" in last, failed.stderr
