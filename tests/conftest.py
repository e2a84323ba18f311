"""The tests mirror the package layout; this file holds the fixtures every area shares.

Where a test goes (the first rule that applies decides):

1. ``integration/docker/`` -- it needs a real Docker engine: marked ``docker``, or it uses
   ``docker_client``/``docker_env`` (the fake server image, a fake 8-GPU host).
2. ``integration/postgresql/`` -- it needs PostgreSQL: it uses the ``db_url`` fixture (the
   same test on SQLite and PostgreSQL, so ``engine`` and every catalog made from ``db_url``
   too) or a PostgreSQL-only one (``pg_admin_url``, the ``postgresql`` marker).
3. ``integration/cli/`` -- it drives the command line end to end: the ``cli`` fixture, the app
   through ``CliRunner`` or a ``support`` helper, or a real ``aim-catalog`` process.
4. ``unit/<package>/`` -- everything else: no service, no command line (SQLite files in a tmp
   dir, fake sysfs trees and device nodes are fine).

A test module is named after the module it tests (``unit/recipes/test_validate.py`` tests
``aim_catalog/recipes/validate.py``; in ``integration/*`` the package is dropped:
``integration/postgresql/test_ingest.py``); a module whose tests are of several kinds is
split, one file per kind. Top-level modules (``api.py``, ``errors.py``) go in ``unit/``.

Fixtures live in conftest.py files: this one for what several areas use (catalogs on each
dialect, ``make_catalog``, ``cli``, the fake host, Docker), ``integration/postgresql/
conftest.py`` for the named catalogs of that area. Plain helpers and data live in the
package ``support`` (``support.paths`` has ``REPO``, ``SHARED``, ``FAKE_SERVER``); test
modules never import each other nor this file.

PostgreSQL is real: ``scripts/test`` starts the machine's server and exports
``AIM_CATALOG_TEST_PG_URL``. Without it the PostgreSQL cases skip with a loud reason,
unless ``AIM_CATALOG_REQUIRE_SERVICES=1``, where a missing service fails the run.

Every test directory but tests/ itself is a package (``__init__.py``), so modules of one
name in two directories do not clash, while pytest's rootdir logic still puts tests/ (not
the checkout) on sys.path: the tests import the installed aim_catalog, never the source
tree (``unit/test_migrations.py`` checks it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from support.host import make_fake_host
from support.hostile import Handler, HostileServer, Serve
from support.inferencex import build_checkout
from support.launch import IMAGE, mine
from support.paths import FAKE_SERVER, REFERENCE_RECIPES, REPO, SHARED
from support.recipes import recipe_yaml
from support.services import missing_service, pg_admin_url, reset_pg

from aim_catalog.storage import db

__all__ = ["REPO", "SHARED"]  # the paths every test uses come from support.paths


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each dialect (the same test runs on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    url = pg_admin_url()
    reset_pg(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A catalog migrated to head (empty: no seed recipes)."""
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def dialect(engine: Engine) -> str:
    return engine.dialect.name


@pytest.fixture
def write_recipe(tmp_path: Path) -> Callable[..., Path]:
    """Write a recipe file under tmp_path/recipes (or ``directory``); return its path."""

    def write(recipe_id: str, directory: Path | None = None, text_: str | None = None, **kw: Any) -> Path:
        folder = directory or tmp_path / "recipes"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{recipe_id}.yaml"
        path.write_text(text_ if text_ is not None else recipe_yaml(recipe_id, **kw))
        return path

    return write


@pytest.fixture
def make_catalog(
    request: pytest.FixtureRequest, write_recipe: Callable[..., Path], tmp_path: Path
) -> Iterator[Callable[..., Any]]:
    """The one catalog factory: ``make_catalog(recipes, into=..., via=...)`` writes a recipe
    set under tmp_path/recipes and ingests that folder (what earlier calls wrote included).

    ``recipes`` maps recipe_id -> keyword arguments of ``recipe_yaml`` (model, hardware,
    precision, configs). Where they go, and how, is the caller's:

    - ``into`` a database URL: ``aim-catalog ingest`` through the test's ``cli`` fixture (a
      module's own ``cli`` if it overrides it), as a user does; returns the URL;
    - ``into`` a database URL with ``via="api"``: ``Catalog.open(url, create=True).ingest``,
      checking that every recipe was added; returns the open ``Catalog`` (closed after);
    - ``into`` an ``Engine`` (migrated): ``recipes.ingest`` in process; returns the engine.
    """
    from sqlalchemy import Engine

    from aim_catalog import Catalog
    from aim_catalog.recipes.files import load_recipes
    from aim_catalog.recipes.ingest import ingest

    folder = tmp_path / "recipes"
    with contextlib.ExitStack() as stack:

        def make(recipes: Mapping[str, Mapping[str, Any]], *, into: str | Engine, via: str = "cli") -> Any:
            for recipe_id, kw in recipes.items():
                write_recipe(recipe_id, **kw)
            if isinstance(into, Engine):
                docs, problems, _ = load_recipes([folder])
                assert problems == []
                with db.session_factory(into).begin() as session:
                    ingest(session, docs)
                return into
            if via == "api":
                opened = stack.enter_context(Catalog.open(into, create=True))
                report = opened.ingest([folder])
                assert sorted(report.added) == sorted(recipes)
                return opened
            assert via == "cli", via
            request.getfixturevalue("cli")("ingest", str(folder), db_url=into)
            return into

        yield make


@pytest.fixture
def reference_dir() -> Path:
    """The original AIM Engine recipes in ../shared (beside the checkout, also in CI)."""
    if not REFERENCE_RECIPES.is_dir():
        missing_service(f"reference recipes not found at {REFERENCE_RECIPES}")
    return REFERENCE_RECIPES


@pytest.fixture
def inferencex_checkout(tmp_path: Path) -> Path:
    """An InferenceX checkout laid out under tmp_path from ../shared/reference/inferencex
    (``support.inferencex``: its configs, the scripts SOURCES.md places, no MODELS.md, no
    git), the test's to edit."""
    return build_checkout(tmp_path / "InferenceX")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """The app in-process with a private data dir (the default catalog is created and
    seeded on first use, as on a fresh clone), no GPUs and no device nodes; ``db_url``
    picks a catalog, ``env`` adds variables for one call, ``input`` is stdin. Asserts the
    exit code (unless ``code=None``) and that no traceback reached stderr. (Test files
    that need another environment, a cluster or a real engine, define their own.)"""
    from typer.testing import CliRunner

    from aim_catalog.cli import app

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(tmp_path / "no-sysfs"))
    monkeypatch.setenv("AIM_CATALOG_DEV_ROOT", str(tmp_path / "no-dev"))
    for name in (
        "AIM_CATALOG_DB_URL",
        "AIM_CATALOG_LENGTH_TOLERANCE",
        "AIM_CATALOG_LOCK_TIMEOUT",
        "AIM_CATALOG_SQL_ROLE",
        "AIM_CATALOG_SQL_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)

    def invoke(
        *args: str,
        code: int | None = 0,
        db_url: str | None = None,
        env: dict[str, str] | None = None,
        input: str | None = None,
    ) -> Any:
        argv = (["--db", db_url] if db_url else []) + list(args)
        result = CliRunner().invoke(app, argv, env=env, input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        if code is not None:
            assert result.exit_code == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr + result.stdout
        return result

    return invoke


@pytest.fixture
def proc_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a real `aim-catalog` process: no AIM_CATALOG_* of the caller's, a
    private data dir (default catalog) and no GPUs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIM_CATALOG_")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), AIM_CATALOG_SYSFS_ROOT=str(tmp_path / "no-sysfs"))
    return env


# --------------------------------------------------------------------------- launches


@pytest.fixture(scope="session")
def docker_client() -> Any:
    """The machine's Docker engine (skips loudly, or fails under CI, without one)."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        missing_service(f"Docker engine: {exc}")
    return client


@pytest.fixture(scope="session")
def fake_image(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The stand-in server image, built FROM scratch out of tests/fake_server and a static busybox."""
    busybox = shutil.which("busybox")
    if busybox is None:
        missing_service("busybox-static is not installed (scripts/test installs it)")
    assert busybox is not None
    context = tmp_path_factory.mktemp("image")
    for item in FAKE_SERVER.iterdir():
        shutil.copy(item, context / item.name)
    shutil.copy(busybox, context / "busybox")
    docker_client.images.build(path=str(context), tag=IMAGE, rm=True)
    return IMAGE


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake 8 x MI300X host: sysfs + /dev under tmp_path, a private catalog and HF cache."""
    root = tmp_path / "host"
    make_fake_host(root)
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(root))
    monkeypatch.setenv("AIM_CATALOG_DEV_ROOT", str(root))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("AIM_CATALOG_DB_URL", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return root


@pytest.fixture
def host_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bare host for `doctor`: sysfs and /dev point at tmp_path/host, which the test fills
    (``support.doctor.fake_gpu_host``) or leaves empty; a private catalog and HF cache."""
    root = tmp_path / "host"
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(root))
    monkeypatch.setenv("AIM_CATALOG_DEV_ROOT", str(root))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("AIM_CATALOG_DB_URL", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return root


@pytest.fixture
def docker_env(docker_client: Any, fake_image: str, host: Path, tmp_path: Path) -> Iterator[Any]:
    """Docker with the fake image; every container this test's catalog made is removed after."""
    yield docker_client
    for container in mine(docker_client, tmp_path):
        container.remove(force=True)


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    """Set after the test: every endless handler of a hostile server stops writing."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def serve(stop: threading.Event) -> Iterator[Serve]:
    """Hostile servers on 127.0.0.1 (``support.hostile``), one per handler, closed after."""
    servers: list[HostileServer] = []

    def start(handler: Handler) -> HostileServer:
        servers.append(HostileServer(handler))
        return servers[-1]

    yield start
    stop.set()
    for server in servers:
        server.close()
