"""Shared fixtures: a migrated catalog on each dialect, recipe builders, the shared/ data.

PostgreSQL is real: ``scripts/test`` starts the machine's server and exports
``AIM_CATALOG_TEST_PG_URL``. Without it the PostgreSQL cases skip with a loud reason,
unless ``AIM_CATALOG_REQUIRE_SERVICES=1``, where a missing service fails the run.
"""

from __future__ import annotations

import atexit
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, create_engine, make_url, text

from aim_catalog.storage import db

pytest_plugins = ("launch_fixtures",)  # docker_client, fake_image, host, docker_env

PG_ENV = "AIM_CATALOG_TEST_PG_URL"
REQUIRE_ENV = "AIM_CATALOG_REQUIRE_SERVICES"
SHARED = Path(__file__).resolve().parents[2] / "shared"
REFERENCE_RECIPES = SHARED / "reference" / "aim-engine-recipes"


def services_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def missing_service(reason: str) -> None:
    """Skip loudly, or fail when CI requires every service."""
    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1, so this is a failure, not a skip)")
    pytest.skip(f"SERVICE MISSING: {reason}")


_pg_checked: dict[str, str | None] = {}
_pg_own: dict[str, str] = {}


def _own_database(url: str) -> str:
    """A database of this pytest process's own, so parallel runs never reset each other's.

    Created beside the configured one (the test role has CREATEDB) and dropped at exit.
    """
    base = make_url(db.normalize_url(url))
    name = f"{base.database}_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    atexit.register(drop)
    return base.set(database=name).render_as_string(hide_password=False)


def pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        missing_service(f"PostgreSQL: {PG_ENV} is not set (scripts/test sets it)")
    assert url is not None
    if url not in _pg_checked:
        try:
            engine = create_engine(db.normalize_url(url))
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_checked[url] = None
            _pg_own[url] = _own_database(url)
        except Exception as exc:  # any failure to connect means "no service"
            _pg_checked[url] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    if _pg_checked[url] is not None:
        missing_service(f"PostgreSQL at {PG_ENV} is unreachable: {_pg_checked[url]}")
    return _pg_own[url]


def reset_pg(url: str) -> None:
    engine = create_engine(db.normalize_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


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


def recipe_yaml(
    recipe_id: str,
    *,
    model: str = "org/model-a",
    hardware: str = "MI300X",
    precision: str = "bf16",
    configs: dict[str, dict[int, dict[str, Any]]] | None = None,
) -> str:
    """A recipe document. ``configs`` maps backend -> GPU count -> config body."""
    if configs is None:
        configs = {"vllm": {1: {"enabled": True}}}
    doc: dict[str, Any] = {
        "recipe_id": recipe_id,
        "model_id": model,
        "huggingface_id": model,
        "hardware": hardware,
        "precision": precision,
    }
    for backend, by_gpus in configs.items():
        doc[f"{backend}_serve"] = {f"{n}_gpu": body for n, body in by_gpus.items()}
    return yaml.safe_dump(doc, sort_keys=False)


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


def fake_kfd_sysfs(root: Path, gpus: int, *, target: int, device_id: int) -> Path:
    """A KFD topology under ``root`` (what AIM_CATALOG_SYSFS_ROOT points at): node 0 the CPU,
    then ``gpus`` GPUs of one gfx ``target`` and PCI ``device_id``, render minors from 128."""
    nodes = root / "sys/class/kfd/kfd/topology/nodes"
    for n in range(gpus + 1):
        (nodes / str(n)).mkdir(parents=True)
        props = (
            "gfx_target_version 0\n"
            if n == 0
            else f"gfx_target_version {target}\ndevice_id {device_id}\ndrm_render_minor {127 + n}\n"
        )
        (nodes / str(n) / "properties").write_text(props)
    return root


def dedent(text_: str) -> str:
    return textwrap.dedent(text_).lstrip("\n")


@pytest.fixture
def reference_dir() -> Path:
    """The original AIM Engine recipes in ../shared (beside the checkout, also in CI)."""
    if not REFERENCE_RECIPES.is_dir():
        missing_service(f"reference recipes not found at {REFERENCE_RECIPES}")
    return REFERENCE_RECIPES


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
