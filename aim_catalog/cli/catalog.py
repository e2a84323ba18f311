"""Catalog commands: schema (db ...), validate, ingest, list-recipes, show-configurations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import typer

from aim_catalog.backends.registry import BACKEND_LABELS
from aim_catalog.cli.app import (
    app,
    catalog_of,
    db_app,
    state_of,
)
from aim_catalog.notes import Tick
from aim_catalog.recipes.loading import Loader

# --------------------------------------------------------------------------- db

app.add_typer(db_app, name="db")  # here, not in app.py: the group is built from these commands


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, revision: str = typer.Argument("head")) -> None:
    """Migrate the catalog up to REVISION (default: head).

    \b
    Example: aim-catalog --db postgresql://aim@db/catalog db upgrade
    """
    from aim_catalog.api import Catalog
    from aim_catalog.cli import render

    render.line(f"catalog at revision {Catalog.deferred(state_of(ctx).db).upgrade(revision)}")


@db_app.command("downgrade")
def db_downgrade(ctx: typer.Context, revision: str = typer.Argument(...)) -> None:
    """Migrate the catalog down to REVISION ('base' drops every table).

    \b
    Example: aim-catalog db downgrade base
    """
    from aim_catalog.api import Catalog
    from aim_catalog.cli import render

    now = Catalog.deferred(state_of(ctx).db).downgrade(revision)
    render.line(f"catalog at revision {now or 'base (empty)'}")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print the catalog's schema revision and the one this version needs.

    \b
    Example: aim-catalog db current
    """
    from aim_catalog.api import Catalog
    from aim_catalog.cli import render
    from aim_catalog.storage import db

    now = Catalog.deferred(state_of(ctx).db).revision()
    state = "up to date" if now == db.HEAD_REVISION else f"head is {db.HEAD_REVISION}"
    render.line(f"{now or 'base (empty)'} ({state})")


@db_app.command("grant-readonly")
def db_grant_readonly(
    ctx: typer.Context,
    role: str = typer.Argument(..., help="Login role to create or update, e.g. aim_reader."),
    reset_password: bool = typer.Option(
        False, "--reset-password", help="Set a new password on an existing role."
    ),
) -> None:
    """PostgreSQL: make ROLE a login role that can only SELECT the catalog's tables and views.

    `sql` refuses roles with powers over the server (superuser, pg_read_server_files...);
    this is the role to run it as. The password comes from $AIM_CATALOG_SQL_PASSWORD, else
    a prompt; it is never printed. Run it as the catalog's owner (with CREATEROLE) or a
    superuser; running it again keeps the role and refreshes its grants.

    \b
    Example: export AIM_CATALOG_SQL_PASSWORD=...
             aim-catalog db grant-readonly aim_reader
             aim-catalog sql --role aim_reader "SELECT * FROM leaderboard"
    """
    import sys

    from aim_catalog.cli import render
    from aim_catalog.errors import UsageProblem
    from aim_catalog.measurements.sql.roles import check_role_name
    from aim_catalog.settings import SQL_PASSWORD_ENV, sql_password

    check_role_name(role)  # before any prompt

    def password(exists: bool) -> str | None:
        given = sql_password()
        if given:
            return given
        if exists and not reset_password:
            return None
        if not sys.stdin.isatty():
            raise UsageProblem(
                f"role {role} needs a password: set {SQL_PASSWORD_ENV} (no terminal to ask on)"
            )
        answer: str = typer.prompt(f"password for role {role}", hide_input=True, confirmation_prompt=True)
        return answer

    grant = catalog_of(ctx).grant_readonly(role, password)
    what = "created" if grant.created else "updated" + (" (new password)" if grant.password_set else "")
    render.line(
        f"role {role} {what}: it can log in and SELECT the {grant.relations} tables and views of "
        f"{grant.database}.{grant.schema} (and those later migrations add), nothing else"
    )
    render.line(
        f'use it: aim-catalog sql --role {role} "SELECT ..." (password from ${SQL_PASSWORD_ENV} or ~/.pgpass)'
    )


# --------------------------------------------------------------------------- recipes


def _progress(quiet: bool) -> Callable[[int], AbstractContextManager[Tick | None]]:
    """While recipe files are parsed: a progress bar over big trees (200 files or more) on
    a terminal, else nothing."""

    @contextmanager
    def bar(total: int) -> Iterator[Tick | None]:
        from aim_catalog.cli import render

        if quiet or total < 200 or not render.stderr_is_terminal():
            yield None
            return
        from rich.progress import Progress

        with Progress(console=render.err(), transient=True) as progress:
            task = progress.add_task("validating recipes", total=total)
            yield lambda _path: progress.advance(task)

    return bar


@app.command()
def validate(
    paths: list[Path] = typer.Argument(..., help="Recipe files or directories (searched for *.yaml)."),
    strict: bool = typer.Option(False, "--strict", help="Unknown server flags are errors, not warnings."),
) -> None:
    """Check recipe files without touching any database.

    Every problem is listed as path:line:col, field and reason; exit code 4 if any.

    \b
    Example: aim-catalog validate my-recipes/
    """
    from aim_catalog.cli import render

    recipes, files = Loader(strict, render.note, _progress(quiet=False)).load(paths)
    render.line(f"{files} file(s) valid, {len(recipes)} recipe(s)")


@app.command()
def ingest(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Recipe files or directories (searched for *.yaml)."),
    prune: bool = typer.Option(False, help="Delete recipes whose files are gone from the given directories."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would change; write nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    strict: bool = typer.Option(False, "--strict", help="Unknown server flags are errors (nothing written)."),
) -> None:
    """Validate recipes, then write them to the catalog in one transaction.

    Nothing is written if any file is invalid (exit 4). Unchanged files are skipped.

    \b
    Example: aim-catalog ingest my-recipes/ --prune
    """
    from aim_catalog.cli import render
    from aim_catalog.recipes.ingest import IngestReport

    if prune and not any(p.is_dir() for p in paths):
        render.note("--prune only applies to directories; none was given")
    loader = Loader(strict, render.note, _progress(quiet=as_json))
    if dry_run and _no_catalog_yet(ctx):
        # Nothing to compare with, and a dry run must not create or migrate a database.
        recipes, _ = loader.load(paths)
        report = IngestReport(added=[r.recipe_id for r in recipes], files=len(recipes), dry_run=True)
    else:
        report = catalog_of(ctx, create=not dry_run).ingest(
            paths, prune=prune, dry_run=dry_run, loader=loader
        )
    if as_json:
        render.emit_json(report.as_dict())
        return
    if state_of(ctx).verbose:
        for label, ids in (
            ("added", report.added),
            ("updated", report.updated),
            ("removed", report.removed),
        ):
            for recipe_id in ids:
                render.note(f"{label}: {recipe_id}")
    render.line(report.summary())


def _no_catalog_yet(ctx: typer.Context) -> bool:
    from aim_catalog.api import Catalog

    return not Catalog.deferred(state_of(ctx).db).exists()


@app.command("list-recipes")
def list_recipes(
    ctx: typer.Context,
    model: str | None = typer.Option(None, "--model", help="Only recipes for this Hugging Face id."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array, one object per recipe."),
) -> None:
    """List the recipes in the catalog.

    \b
    Example: aim-catalog list-recipes --model Qwen/Qwen3-32B
    """
    from aim_catalog.cli import render

    recipes = catalog_of(ctx).recipes(model)
    if as_json:
        render.emit_json([r.as_dict() for r in recipes])
        return
    if not recipes:
        render.note("the catalog has no recipes" + (f" for {model}" if model else ""))
        return
    rows = []
    for r in recipes:
        by_backend: dict[str, list[str]] = {}
        for c in r.configs:
            mark = "" if c["enabled"] else "(off)"
            by_backend.setdefault(c["backend"], []).append(f"{c['gpu_count']}{mark}")
        configs = " ".join(f"{BACKEND_LABELS.get(b, b)}:{','.join(g)}" for b, g in by_backend.items())
        status = f"retired {r.retired_on or ''}".strip() if r.status == "retired" else r.status
        rows.append((r.recipe_id, r.huggingface_id, r.hardware, r.precision, configs, r.benchmarks, status))
    render.table(
        ("recipe", "model", "hardware", "precision", "GPUs per backend", "benchmarks", "status"), rows
    )


@app.command("show-configurations")
def show_configurations(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Hugging Face model id."),
    as_json: bool = typer.Option(False, "--json", help="Print every config as JSON."),
) -> None:
    """Show which GPU counts, precisions and backends a model has recipes for.

    \b
    Example: aim-catalog show-configurations Qwen/Qwen3-32B
    """
    from dataclasses import asdict

    from aim_catalog.cli import render
    from aim_catalog.errors import NoSuitableRecipe

    catalog = catalog_of(ctx)
    configs = catalog.configurations(model)
    lines = catalog.supported_configurations(model)
    if not configs:
        raise NoSuitableRecipe(
            f"No recipe found for {model}; `aim-catalog list-recipes` shows what the catalog has"
        )
    if as_json:
        render.emit_json([asdict(c) for c in configs])
        return
    for text in lines:
        render.line(text)
