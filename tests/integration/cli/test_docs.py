"""Every command block of README.md and docs/ runs, as a reader would type it.

Each page's ``aim-catalog`` commands run in order, as real processes of the installed
console script, in one sandbox per page (``support.docs.sandbox``: the files the docs name,
a private default catalog, no GPU, no Docker engine). What this host cannot do is said per
command, never skipped silently:

- ``launch`` and ``bench sweep`` need a GPU: they run with ``--dry-run`` added (the issue's
  rule for commands that need a GPU or a cluster);
- commands on a deployment (``ps``, ``logs``, ``stop``, ``test NAME``, ``bench run``,
  ``bench import --deployment``) run in ``integration/docker/test_docs.py`` against a real
  deployment of the stand-in server; here they are only counted;
- ``cache pull`` needs the Hugging Face Hub: it runs offline and must say so in one line;
- ``doctor`` on a host without a GPU reports the missing driver and exits 1, as documented;
- the command reference's examples (each command's ``--help``) run each on a catalog of
  its own (one of them is ``db downgrade base``); ``grant-readonly`` and ``sql --role`` run on
  PostgreSQL, as does any ``postgresql://`` URL the docs give;
- a page's ``export NAME=VALUE`` lines hold for the commands after them: a PostgreSQL
  ``AIM_CATALOG_DB_URL`` is this run's own test database (as its superuser, the DBA the page
  speaks to), a placeholder password a test one, and a role the page names gets this
  process's suffix (roles are cluster-wide) and is dropped afterwards.

Every ```python block runs too, in a fresh interpreter. Generated outputs are checked by
``scripts/docs --check`` (scripts/test), not here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import docs
from support.launch import aim
from support.services import drop_roles, pg_admin_url, superuser_url

# A command's first words -> (exit code, what its output must say, why) where not 0.
EXPECTED = {
    ("cache", "pull"): (1, "HF_HUB_OFFLINE", "needs the Hub: run offline it says so"),
    ("doctor",): (1, "amdgpu driver not loaded", "no GPU on this host: doctor reports it and exits 1"),
}
NEEDS_GPU = (("launch",), ("bench", "sweep"))


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIM_CATALOG_", "HF_", "XDG_"))}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_RUNTIME_DIR=str(tmp_path),
        AIM_CATALOG_SYSFS_ROOT=str(tmp_path / "no-sysfs"),
        AIM_CATALOG_DEV_ROOT=str(tmp_path / "no-dev"),
        HF_HOME=str(tmp_path / "hf"),
        DOCKER_HOST=f"unix://{tmp_path}/no-docker.sock",
        KUBECONFIG=str(tmp_path / "no-kubeconfig"),
        COLUMNS="100",
    )
    return env


def cached_model(hf_home: Path, model: str) -> None:
    """A model in the Hugging Face cache as huggingface_hub lays it out (for `cache rm`)."""
    repo = hf_home / "hub" / ("models--" + model.replace("/", "--"))
    blob = repo / "blobs" / ("0" * 40)
    blob.parent.mkdir(parents=True)
    blob.write_text("{}")
    snapshot = repo / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").symlink_to(blob)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)


PAGES = [page for page in docs.PAGES if docs.shell_commands(page)[0]]
REFERENCE = docs.REPO / "docs" / "reference" / "cli.md"  # generated from --help
ROLES = ("aim_reader",)  # PostgreSQL roles the docs name


def real_pg_url() -> str:
    """This run's own PostgreSQL database, as the test cluster's superuser (the DBA the
    docs speak to)."""
    return superuser_url(pg_admin_url())


def pg_only(command: docs.Command) -> bool:
    """Commands that exist for PostgreSQL catalogs only (SQLite has no roles)."""
    return "grant-readonly" in command.words or ("sql" in command.words and command.has("--role"))


def exported(command: docs.Command, suffix: str) -> dict[str, str]:
    """The page's exports for this command, made real for this test run."""
    env = {}
    for name, value in command.exports:
        if value.startswith("postgresql://"):
            value = real_pg_url()
        elif value in ("...", "PASSWORD"):
            value = "docs-test-password-" + suffix
        env[name] = value
    if pg_only(command) and "AIM_CATALOG_DB_URL" not in env:
        env["AIM_CATALOG_DB_URL"] = real_pg_url()
    return env


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(docs.REPO)) for p in PAGES])
def test_every_command_of_the_page_runs(page: Path, tmp_path: Path) -> None:
    ours, _ = docs.shell_commands(page)
    sandbox = docs.sandbox(tmp_path / "work")
    env = environment(tmp_path)
    for command in ours:
        if command.words[:2] == ("cache", "rm"):
            cached_model(tmp_path / "hf", command.words[2])
    suffix = str(os.getpid())
    if page == REFERENCE:  # --help's examples, one per command: each on a catalog of its own
        env["AIM_CATALOG_DOCS_TEMPLATE"] = str(seeded_data(tmp_path / "template", env))
    try:
        ran = run_page(ours, sandbox, env, suffix)
    finally:
        if any(name in c.words for c in ours for name in ROLES):
            drop_roles(real_pg_url(), [f"{name}_{suffix}" for name in ROLES])
    assert ran or any(c.on_deployment() for c in ours)


def seeded_data(where: Path, env: dict[str, str]) -> Path:
    """A data directory whose default catalog is made and seeded (copied for each command)."""
    done = subprocess.run(
        aim("list-recipes"),
        env=env | {"XDG_DATA_HOME": str(where)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return where


def run_page(ours: list[docs.Command], sandbox: Path, env: dict[str, str], suffix: str) -> int:
    ran = 0
    template = env.pop("AIM_CATALOG_DOCS_TEMPLATE", None)
    for number, command in enumerate(ours):
        if command.on_deployment():
            continue
        if template is not None:
            fresh = sandbox.parent / f"data-{number}"
            shutil.copytree(template, fresh)
            env = env | {"XDG_DATA_HOME": str(fresh)}
        words = [f"{w}_{suffix}" if w in ROLES else w for w in docs.in_sandbox(command, sandbox)]
        words = [real_pg_url() if w.startswith("postgresql://") else w for w in words]
        if command.starts(*NEEDS_GPU) and "--dry-run" not in words:
            words.append("--dry-run")
        code, says, _why = next((v for k, v in EXPECTED.items() if command.starts(k)), (0, "", ""))
        extra = {"HF_HUB_OFFLINE": "1"} if command.words[:2] == ("cache", "pull") else {}
        done = subprocess.run(
            aim(*words),
            cwd=sandbox,
            env=env | exported(command, suffix) | extra,
            capture_output=True,
            text=True,
            timeout=600,
        )
        output = done.stdout + done.stderr
        assert done.returncode == code, f"{command}\nexit {done.returncode}, not {code}:\n{output[-3000:]}"
        assert "Traceback" not in output, f"{command}\n{output[-3000:]}"
        assert says in output, f"{command}: {says!r} not in\n{output[-3000:]}"
        ran += 1
    return ran


def test_the_docs_name_only_sandbox_files_and_known_tools() -> None:
    """A command of another tool is listed, not run: each must be one of these."""
    tools = ("pip", "./scripts/test", "scripts/docs", "mkdocs", "git", "kubectl", "vllm", "python", "export")
    tools += (".venv/bin/python",)
    stray = [
        f"{line.page}:{line.line}: {line.text}"
        for page in docs.PAGES
        for line in docs.shell_commands(page)[1]
        if not line.text.startswith(tools)
    ]
    assert stray == []


PYTHON = [block for page in docs.PAGES for block in docs.python_blocks(page)]


@pytest.mark.parametrize("page,line,code", PYTHON, ids=[f"{p}:{n}" for p, n, _ in PYTHON])
def test_every_python_block_runs(page: str, line: int, code: str, tmp_path: Path) -> None:
    sandbox = docs.sandbox(tmp_path / "work")
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=sandbox,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{page}:{line}\n{done.stdout[-2000:]}{done.stderr[-3000:]}"


def test_the_readme_is_short_and_points_to_the_docs() -> None:
    """README.md is the front door (what it is, two set-up commands, a tour); the rest lives
    in docs/, each page of which it names."""
    text = (docs.REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    linked = set(re.findall(r"\]\((docs/[^)#]+\.md)", text))
    pages = {str(p.relative_to(docs.REPO)) for p in (docs.REPO / "docs").rglob("*.md")}
    assert pages - {"docs/index.md"} <= linked, pages - linked
