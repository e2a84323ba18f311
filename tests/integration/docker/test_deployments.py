"""Two real Docker engines sharing one PostgreSQL catalog, as the hosts of a fleet do.

The second engine runs on this machine with its own socket, data-root and engine ID
(``scripts/test`` starts it and exports ``AIM_CATALOG_TEST_DOCKER_HOST_2``); both get the
fake server image. Deployments are the current engine's: ``ps``, ``stop`` and ``logs``
never touch another engine's rows, ``ps --all-hosts`` lists them from the catalog.
Also here: migration 0004 on a catalog that already holds deployments of several hosts.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from support.launch import IMAGE, MODEL, cli, free_port
from support.paths import FAKE_SERVER
from support.services import missing_service, pg_admin_url, reset_pg

from aim_catalog.errors import redact
from aim_catalog.storage import db
from aim_catalog.storage.resources import seed_recipe_dir

HOST2_ENV = "AIM_CATALOG_TEST_DOCKER_HOST_2"

NAME = "aim-qwen3-32b-1gpu-bf16-vllm"


@pytest.fixture(scope="session")
def second_engine(fake_image: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    """(client, DOCKER_HOST URL) of the second engine, with the fake server image built."""
    import docker
    from docker.errors import DockerException

    url = os.environ.get(HOST2_ENV)
    if not url:
        missing_service(f"a second Docker engine: {HOST2_ENV} is not set (scripts/test starts one)")
    assert url is not None
    try:
        client = docker.DockerClient(base_url=url)
        client.ping()
    except DockerException as exc:
        missing_service(f"second Docker engine at {url}: {exc}")
    context = tmp_path_factory.mktemp("image2")
    for item in FAKE_SERVER.iterdir():
        shutil.copy(item, context / item.name)
    busybox = shutil.which("busybox")
    assert busybox is not None  # fake_image checked it
    shutil.copy(busybox, context / "busybox")
    client.images.build(path=str(context), tag=IMAGE, rm=True)
    return client, url


@pytest.fixture
def shared_catalog(host: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A PostgreSQL catalog with the bundled recipes, used by both engines."""
    url = pg_admin_url()
    reset_pg(url)
    monkeypatch.setenv("AIM_CATALOG_DB_URL", url)
    cli("ingest", str(seed_recipe_dir()))
    return url


@pytest.fixture
def engines(
    docker_env: Any, second_engine: tuple[Any, str], shared_catalog: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, Any, str]]:
    """(engine A client, engine B client, B's URL); containers of the catalog removed after."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    client_b, url_b = second_engine
    yield docker_env, client_b, url_b
    for client in (docker_env, client_b):
        for c in client.containers.list(
            all=True, filters={"label": "aim-catalog.managed=true"}, ignore_removed=True
        ):
            if c.labels.get("aim-catalog.catalog") == redact(shared_catalog):
                c.remove(force=True)


def rows(url: str) -> list[dict[str, Any]]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        found = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM deployments ORDER BY id"))]
    engine.dispose()
    return found


def on(monkeypatch: pytest.MonkeyPatch, url: str | None) -> None:
    """Point the CLI at an engine (None: the default socket, engine A)."""
    if url is None:
        monkeypatch.delenv("DOCKER_HOST", raising=False)
    else:
        monkeypatch.setenv("DOCKER_HOST", url)


def launch(*extra: str) -> Any:
    return cli("launch", MODEL, "1", "--image", IMAGE, "--port", str(free_port()), "--timeout", "30", *extra)


@pytest.mark.docker
@pytest.mark.postgresql
def test_two_engines_with_one_catalog_never_mix_deployments(
    engines: tuple[Any, Any, str], shared_catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_a, client_b, url_b = engines
    id_a, id_b = client_a.info()["ID"], client_b.info()["ID"]
    assert id_a != id_b
    launch()  # engine A, default name
    on(monkeypatch, url_b)
    launch()  # engine B: the same default name, free on that engine
    assert client_a.containers.get(NAME).status == client_b.containers.get(NAME).status == "running"
    recorded = rows(shared_catalog)
    assert [(r["name"], r["docker_host"], r["status"]) for r in recorded] == [
        (NAME, id_a, "running"),
        (NAME, id_b, "running"),
    ]

    # ps on B: B's deployment only, reconciled with B; --all-hosts adds A's, unchecked
    (mine,) = json.loads(cli("ps", "--json").stdout)
    assert (mine["name"], mine["container"], mine["host"].split(" (")[1]) == (
        NAME,
        "running",
        id_b[:14] + ")",
    )
    both = json.loads(cli("ps", "--all-hosts", "--json").stdout)
    other = next(r for r in both if r["container_id"] != mine["container_id"])
    assert (other["name"], other["status"], other["container"]) == (NAME, "running", None)
    assert other["host"].endswith(f"({id_a[:14]})") and len(both) == 2
    table = cli("ps", "--all-hosts").stdout
    assert "(other host)" in table and "removed" not in table

    # stop on A stops A's container and row; B's keeps running
    on(monkeypatch, None)
    assert cli("stop", NAME).stdout.strip() == f"stopped {NAME}"
    assert [c.name for c in client_a.containers.list(all=True) if c.name == NAME] == []
    assert client_b.containers.get(NAME).status == "running"
    assert [(r["docker_host"], r["status"]) for r in rows(shared_catalog)] == [
        (id_a, "stopped"),
        (id_b, "running"),
    ]

    # a name only B has: A refuses stop and logs, naming B, and changes nothing
    on(monkeypatch, url_b)
    launch("--name", "only-b")
    on(monkeypatch, None)
    for command in ("stop", "logs"):
        err = cli(command, "only-b", code=2).stderr
        assert "no deployment called 'only-b' on this Docker engine" in err and f"({id_b[:14]})" in err
    assert client_b.containers.get("only-b").status == "running"
    assert {r["name"]: r["status"] for r in rows(shared_catalog) if r["docker_host"] == id_b} == {
        NAME: "running",
        "only-b": "running",
    }
    listed = json.loads(cli("ps", "--json").stdout)  # A runs nothing of this catalog now
    assert [r for r in listed if not r["status"].startswith("other catalog")] == []
    on(monkeypatch, url_b)
    assert "serving on port 8000" in cli("logs", "only-b").stdout
    assert cli("stop", "only-b").stdout.strip() == "stopped only-b"
