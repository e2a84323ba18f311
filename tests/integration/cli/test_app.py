"""The command line as users meet it: output formats, exit codes, first use, secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.catalogs import BIN

from aim_catalog.storage.db import HEAD_REVISION

SELECT_KEYS = {
    "recipe_id",
    "model_id",
    "huggingface_id",
    "hardware",
    "precision",
    "backend",
    "gpu_count",
    "args",
    "image",
    "metric",
    "score",
}


def test_first_use_creates_migrates_and_seeds_the_default_catalog(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    result = cli("select", "Qwen/Qwen3-32B", "4", "--precision", "bf16", "--backend", "vllm", "--json")
    chosen = json.loads(result.stdout)
    assert chosen.keys() >= SELECT_KEYS
    assert (chosen["recipe_id"], chosen["gpu_count"], chosen["backend"]) == (
        "qwen3-32b-mi300x-bf16",
        4,
        "vllm",
    )
    assert chosen["args"]["--tensor-parallel-size"] == "4"
    assert chosen["score"] is None and chosen["metric"] is None
    assert (tmp_path / "data" / "aim-catalog" / "catalog.db").is_file()
    assert "no AMD GPU detected" in result.stderr


def test_usage_errors_exit_2(cli: Callable[..., Any]) -> None:
    assert "unknown backend 'tgi'" in cli("select", "Qwen/Qwen3-32B", "4", "--backend", "tgi", code=2).stderr
    cli("select", "Qwen/Qwen3-32B", "four", code=2)
    cli("no-such-command", code=2)
    assert "not a database URL" in cli("--db", "::::", "list-recipes", code=2).stderr


def test_unreachable_database_exits_1_without_leaking_the_password(cli: Callable[..., Any]) -> None:
    result = cli("--db", "postgresql://admin:s3cr3t-pw@127.0.0.1:1/catalog", "list-recipes", code=1)
    assert "database error on postgresql+psycopg://admin:***@127.0.0.1:1/catalog" in result.stderr
    assert "s3cr3t-pw" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_auto_migrate_off_asks_for_db_upgrade(cli: Callable[..., Any], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    (tmp_path / "fresh.db").touch()  # an empty database (a missing file is no catalog at all)
    result = cli("--db", url, "list-recipes", code=1, env={"AIM_CATALOG_AUTO_MIGRATE": "0"})
    assert "run `aim-catalog db upgrade`" in result.stderr
    head = HEAD_REVISION
    assert cli("--db", url, "db", "current").stdout.strip() == f"base (empty) (head is {head})"
    assert cli("--db", url, "db", "upgrade").stdout.strip() == f"catalog at revision {head}"
    assert cli("--db", url, "db", "current").stdout.strip() == f"{head} (up to date)"
    assert (
        cli("--db", url, "list-recipes", "--json", env={"AIM_CATALOG_AUTO_MIGRATE": "0"}).stdout.strip()
        == "[]"
    )
    assert cli("--db", url, "db", "downgrade", "base").stdout.strip() == "catalog at revision base (empty)"


# ------------------------------------------------------------------ real processes


def run(*argv: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False)


def test_installed_console_scripts(proc_env: dict[str, str]) -> None:
    result = run(
        str(BIN / "aim-catalog"),
        "select",
        "Qwen/Qwen3-32B",
        "4",
        "--precision",
        "bf16",
        "--backend",
        "vllm",
        env=proc_env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "Selected qwen3-32b-mi300x-bf16 for Qwen/Qwen3-32B: 4 GPU, bf16, vLLM on MI300X"
    )
    alias = run(str(BIN / "aim-engine"), "show-configurations", "Qwen/Qwen3-32B", env=proc_env)
    assert alias.returncode == 0 and alias.stdout.startswith("Qwen/Qwen3-32B supported configurations:")
    module = run(sys.executable, "-m", "aim_catalog", "--version", env=proc_env)
    assert module.returncode == 0 and module.stdout.startswith("aim-catalog ")
    missing = run(str(BIN / "aim-catalog"), "select", "Qwen/Qwen3-32B", "3", env=proc_env)
    assert missing.returncode == 3 and "No suitable recipe found for Qwen/Qwen3-32B" in missing.stderr


def test_help_imports_nothing_heavy(proc_env: dict[str, str]) -> None:
    probe = (
        "import sys\n"
        "sys.argv = ['aim-catalog', '--help']\n"
        "from aim_catalog import cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "names = ('sqlalchemy', 'alembic', 'yaml', 'docker', 'psycopg')\n"
        "heavy = sorted(m for m in names if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    result = run(sys.executable, "-c", probe, env=proc_env)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_password_in_query_string_never_reaches_the_terminal(cli: Callable[..., Any]) -> None:
    result = cli("--db", "postgresql://admin@127.0.0.1:1/catalog?password=s3cr3t", "list-recipes", code=1)
    assert "s3cr3t" not in result.stderr + result.stdout
    assert "password=***" in result.stderr


def test_a_url_that_does_not_parse_is_a_usage_error(cli: Callable[..., Any]) -> None:
    result = cli("--db", "postgresql://u:pw@h:notaport/db", "list-recipes", code=2)
    assert "not a database URL" in result.stderr and "pw@" not in result.stderr
