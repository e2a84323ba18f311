"""Launch helpers: the fake server image's tag, the model of a bundled seed recipe, the
command line in-process (the environment comes from the ``host`` fixture), and what a
test's catalog and Docker engine hold afterwards."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from typer.testing import CliRunner

from aim_catalog.cli import app
from aim_catalog.storage import db

IMAGE = "aim-catalog-test/fake-server:1"
MODEL = "Qwen/Qwen3-32B"  # a bundled seed recipe (MI300X, bf16, vLLM and SGLang, 1-8 GPUs)
RECIPE = "qwen3-32b-mi300x-bf16"  # MODEL's seed recipe


def mine(client: Any, tmp_path: Path) -> list[Any]:
    """Labelled containers of this test's catalog, whatever their state."""
    return [
        c
        for c in client.containers.list(
            all=True, filters={"label": "aim-catalog.managed=true"}, ignore_removed=True
        )
        if str(tmp_path) in c.labels.get("aim-catalog.catalog", "")
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, code: int | None = 0) -> Any:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    if code is not None:
        assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def launch(
    *extra: str, port: int | None = None, code: int | None = 0, backend: str = "vllm", gpus: str = "4"
) -> Any:
    args = ["launch", MODEL, gpus, "--backend", backend, "--image", IMAGE, "--port", str(port or free_port())]
    return cli(*args, "--timeout", "30", *extra, code=code)


def catalog_url(tmp_path: Path) -> str:
    """The default catalog of a test whose XDG_DATA_HOME is tmp_path/data (``host`` sets it)."""
    return f"sqlite:///{tmp_path / 'data' / 'aim-catalog' / 'catalog.db'}"


def deployments(tmp_path: Path) -> list[dict[str, Any]]:
    engine = db.make_engine(catalog_url(tmp_path))
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM deployments ORDER BY id"))]
    engine.dispose()
    return rows


def assert_cleaned(client: Any, tmp_path: Path) -> None:
    assert mine(client, tmp_path) == []
    assert [d["status"] for d in deployments(tmp_path)] in ([], ["failed"])


def aim(*args: str) -> list[str]:
    """The installed console script's argv (a real process, not the app in-process)."""
    return [str(Path(sys.executable).parent / "aim-catalog"), *args]


def wait_polled(client: Any, tmp_path: Path, proc: subprocess.Popen[str]) -> None:
    """Wait (bounded: a hung start fails) until the launcher polls the server of one of this
    test's containers: the fake server in ``FAKE_MODE=loading`` logs each probe, so the
    launcher is past ``start()`` and in its wait for the server."""
    deadline = time.monotonic() + 60
    while not any(b"probed: " in c.logs() for c in mine(client, tmp_path) if c.status == "running"):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.2)


def set_config(
    tmp_path: Path, *, args: dict[str, Any] | None = None, env: dict[str, Any] | None = None
) -> None:
    """Rewrite the seed recipe's vLLM 1-GPU config as another writer of a shared catalog
    (or an older aim-catalog, before these checks) could have stored it."""
    cli("list-recipes")  # creates and seeds the default catalog
    engine = db.make_engine(catalog_url(tmp_path))
    with engine.begin() as conn:
        where = (
            "WHERE backend = 'vllm' AND gpu_count = 1 AND recipe_pk = "
            "(SELECT id FROM recipes WHERE recipe_id = :r)"
        )
        if args is not None:
            conn.execute(
                text(f"UPDATE serve_configs SET args = :a {where}"), {"a": json.dumps(args), "r": RECIPE}
            )
        if env is not None:
            conn.execute(
                text(f"UPDATE serve_configs SET env = :e {where}"), {"e": json.dumps(env), "r": RECIPE}
            )
    engine.dispose()


def write(tmp_path: Path, body: str) -> Path:
    """tmp_path/recipes/r.yaml: recipe 'r' (org/m, MI300X bf16), vLLM 4 GPU, then ``body``."""
    path = tmp_path / "recipes" / "r.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "recipe_id: r\nmodel_id: org/m\nhuggingface_id: org/m\nhardware: MI300X\nprecision: bf16\n"
        "vllm_serve:\n  4_gpu:\n    enabled: true\n" + body
    )
    return path
