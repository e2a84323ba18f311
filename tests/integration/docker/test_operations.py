"""``ps`` asks the Docker engine once: one container list request for every row, however
many deployments there are, reconciled with the catalog by the engine ID each row
recorded. Counted on the real engine by wrapping the docker SDK's low-level API calls
(``APIClient.containers`` is ``GET /containers/json``, ``inspect_container`` is
``GET /containers/{id}/json``)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from support.launch import IMAGE, cli, launch


def count_engine_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts of the container list and inspect requests the SDK makes from now on."""
    from docker.api.container import ContainerApiMixin

    calls: Counter[str] = Counter()
    for method in ("containers", "inspect_container"):
        real = getattr(ContainerApiMixin, method)

        def counted(self: Any, *args: Any, _real: Any = real, _name: str = method, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(ContainerApiMixin, method, counted)
    return calls


@pytest.mark.docker
def test_ps_lists_the_engine_once_whatever_the_number_of_rows(
    docker_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    launch("--name", "one", gpus="1")
    launch("--name", "two", gpus="1")
    launch("--name", "dies", gpus="1")
    docker_env.containers.get("dies").kill()
    other = docker_env.containers.create(
        IMAGE,
        ["sleep", "600"],
        name="other-catalog",
        labels={
            "aim-catalog.managed": "true",
            "aim-catalog.gpus": "7",
            "aim-catalog.port": "9999",
            "aim-catalog.catalog": f"another catalog {tmp_path}",
        },
    )
    try:
        calls = count_engine_calls(monkeypatch)
        rows = json.loads(cli("ps", "--json").stdout)
        assert calls == Counter(containers=1), calls  # one list request, no inspect per row
        states = {r["name"]: (r["status"], r["container"]) for r in rows}
        assert states == {
            "one": ("running", "running"),
            "two": ("running", "running"),
            "dies": ("running", "exited (137)"),
            "other-catalog": (f"other catalog (another catalog {tmp_path})", "created"),
        }
        foreign = next(r for r in rows if r["name"] == "other-catalog")
        assert (foreign["gpus"], foreign["port"], foreign["created_at"]) == ([7], 9999, "")
        assert foreign["container_id"] == str(other.id)[:12]

        calls.clear()
        table = cli("ps", "--all", "--all-hosts").stdout
        assert calls == Counter(containers=1), calls
        assert "exited (137)" in table and "other catalog" in table
    finally:
        other.remove(force=True)


@pytest.mark.docker
def test_a_cold_ps_loads_no_orm_postgresql_or_migration_code(docker_env: Any, tmp_path: Path) -> None:
    # ps reads its rows with Core (deployments.listing_query): each of these costs a cold
    # start tens of milliseconds, and a SQLite catalog needs none of them to list.
    launch("--name", "one", gpus="1")
    probe = (
        "import sys\n"
        "sys.argv = ['aim-catalog', 'ps', '--all', '--all-hosts']\n"
        "from aim_catalog import cli\n"
        "try:\n    cli.main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = ('sqlalchemy.orm', 'aim_catalog.storage.models', 'sqlalchemy.dialects.postgresql',"
        " 'alembic')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "│ one " in result.stdout and "running" in result.stdout
    assert "LOADED []" in result.stdout
