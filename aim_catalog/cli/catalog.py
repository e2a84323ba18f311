"""Catalog commands: schema, validate, ingest, list, show, select, explain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from aim_catalog.cli.app import (
    BACKEND_OPT,
    CONCURRENCY_OPT,
    GOAL_OPT,
    GPUS_ARG,
    HARDWARE_OPT,
    HOST_GPUS_OPT,
    INPUT_LEN_OPT,
    MAX_E2EL_OPT,
    MAX_TPOT_OPT,
    MAX_TTFT_OPT,
    METRIC_OPT,
    OUTPUT_LEN_OPT,
    PRECISION_OPT,
    RECIPE_OPT,
    REQUEST_RATE_OPT,
    app,
    build_request,
    catalog_connection,
    catalog_session,
    db_app,
    describe_request,
    open_engine,
    state_of,
)
from aim_catalog.errors import InvalidRecipeInput
from aim_catalog.settings import BACKEND_LABELS, resolve_db_url

# --------------------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, revision: str = typer.Argument("head")) -> None:
    """Migrate the catalog up to REVISION (default: head).

    \b
    Example: aim-catalog --db postgresql://aim@db/catalog db upgrade
    """
    from aim_catalog import db, render

    engine, is_default = open_engine(ctx, create=True)
    try:
        now = db.upgrade(engine, revision, seed=is_default)
    finally:
        engine.dispose()
    render.line(f"catalog at revision {now}")


@db_app.command("downgrade")
def db_downgrade(ctx: typer.Context, revision: str = typer.Argument(...)) -> None:
    """Migrate the catalog down to REVISION ('base' drops every table).

    \b
    Example: aim-catalog db downgrade base
    """
    from aim_catalog import db, render

    engine, _ = open_engine(ctx)
    try:
        now = db.downgrade(engine, revision)
    finally:
        engine.dispose()
    render.line(f"catalog at revision {now or 'base (empty)'}")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print the catalog's schema revision and the one this version needs.

    \b
    Example: aim-catalog db current
    """
    from aim_catalog import db, render

    engine, _ = open_engine(ctx)
    try:
        now = db.revision_of(engine)
    finally:
        engine.dispose()
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
    Example: AIM_CATALOG_SQL_PASSWORD=... aim-catalog db grant-readonly aim_reader
    Then:    aim-catalog sql --role aim_reader "SELECT * FROM leaderboard"
    """
    import os
    import sys

    from aim_catalog import render
    from aim_catalog.cli.app import catalog_engine
    from aim_catalog.errors import UsageProblem
    from aim_catalog.pg_roles import check_role_name, grant_readonly
    from aim_catalog.readonly_sql import SQL_PASSWORD_ENV

    check_role_name(role)

    def password(exists: bool) -> str | None:
        given = os.environ.get(SQL_PASSWORD_ENV)
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

    with catalog_engine(ctx) as engine:
        if engine.dialect.name != "postgresql":
            raise UsageProblem(
                "grant-readonly is for PostgreSQL catalogs: `sql` opens a SQLite catalog read-only itself"
            )
        with engine.begin() as connection:
            grant = grant_readonly(connection, role, password)
    what = "created" if grant.created else "updated" + (" (new password)" if grant.password_set else "")
    render.line(
        f"role {role} {what}: it can log in and SELECT the {grant.relations} tables and views of "
        f"{grant.database}.{grant.schema} (and those later migrations add), nothing else"
    )
    render.line(
        f'use it: aim-catalog sql --role {role} "SELECT ..." (password from ${SQL_PASSWORD_ENV} or ~/.pgpass)'
    )


# --------------------------------------------------------------------------- recipes


def _load(
    paths: list[Path], quiet: bool = False, known: dict[str, str] | None = None, strict: bool = False
) -> tuple[list[Any], int]:
    """Validate the recipe files under ``paths``; files whose hash is in ``known`` are skipped."""
    from aim_catalog.recipe import expand_paths

    files, missing = expand_paths(paths)
    recipes, problems = _load_files(files, quiet, known, strict)
    if missing or problems:
        raise InvalidRecipeInput(missing + problems)
    return recipes, len(files)


def _load_files(
    files: list[Path], quiet: bool, known: dict[str, str] | None, strict: bool = False
) -> tuple[list[Any], list[Any]]:
    """Parse and validate; then lint the server flags: warnings, or problems with --strict."""
    from aim_catalog.flaglint import located_warnings

    recipes, problems = _parse_files(files, quiet, known)
    warnings = located_warnings(recipes)
    if strict:
        return recipes, problems + warnings
    if warnings:
        from aim_catalog import render

        for warning in warnings:
            render.note(f"warning: {warning}")
    return recipes, problems


def _parse_files(files: list[Path], quiet: bool, known: dict[str, str] | None) -> tuple[list[Any], list[Any]]:
    from aim_catalog import render
    from aim_catalog.recipe import load_files

    if quiet or len(files) < 200 or not render.stderr_is_terminal():
        return load_files(files, known=known)
    from rich.progress import Progress

    with Progress(console=render.err(), transient=True) as progress:
        task = progress.add_task("validating recipes", total=len(files))
        return load_files(files, lambda: progress.advance(task), known=known)


@app.command()
def validate(
    paths: list[Path] = typer.Argument(..., help="Recipe files or directories (searched for *.yaml)."),
    strict: bool = typer.Option(False, "--strict", help="Unknown server flags are errors, not warnings."),
) -> None:
    """Check recipe files without touching any database.

    Every problem is listed as path:line:col, field and reason; exit code 4 if any.

    \b
    Example: aim-catalog validate recipes/
    """
    from aim_catalog import render

    recipes, files = _load(paths, strict=strict)
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
    Example: aim-catalog ingest recipes/ --prune
    """
    from aim_catalog import render
    from aim_catalog.ingest import IngestReport, ingest_files
    from aim_catalog.recipe import expand_paths

    prune_dirs = [p for p in paths if p.is_dir()] if prune else []
    if prune and not prune_dirs:
        render.note("--prune only applies to directories; none was given")
    if dry_run and _no_catalog_yet(ctx):
        # Nothing to compare with, and a dry run must not create or migrate a database.
        recipes, _ = _load(paths, quiet=as_json, strict=strict)
        report = IngestReport(added=[r.recipe_id for r in recipes], files=len(recipes))
    else:
        files, missing = expand_paths(paths)
        if missing:  # every problem at once: check the files that are there too
            raise InvalidRecipeInput(missing + _load_files(files, as_json, None, strict)[1])
        with catalog_session(ctx, commit=not dry_run, create=not dry_run) as session:
            report = ingest_files(
                session,
                files,
                prune_dirs=prune_dirs,
                load=lambda files, known: _load_files(files, as_json, known, strict),
            )
    report.dry_run = dry_run
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
    from sqlalchemy.engine import make_url

    from aim_catalog import db

    url, _ = resolve_db_url(state_of(ctx).db)
    parsed = make_url(db.normalize_url(url))
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
        return not Path(database).expanduser().exists() or _empty_db(url)
    return _empty_db(url)


def _empty_db(url: str) -> bool:
    from aim_catalog import db

    engine = db.make_engine(url)
    try:
        return db.revision_of(engine) is None
    finally:
        engine.dispose()


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
    from aim_catalog import render
    from aim_catalog.selection import list_recipes as query

    with catalog_connection(ctx) as session:
        recipes = query(session, model)
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
        rows.append((r.recipe_id, r.huggingface_id, r.hardware, r.precision, configs, r.benchmarks))
    render.table(("recipe", "model", "hardware", "precision", "GPUs per backend", "benchmarks"), rows)


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

    from aim_catalog import render
    from aim_catalog.errors import NoSuitableRecipe
    from aim_catalog.selection import configurations, supported_configurations

    with catalog_connection(ctx) as session:
        configs = configurations(session, model)
        lines = supported_configurations(session, model)
    if not configs:
        raise NoSuitableRecipe(
            f"No recipe found for {model}; `aim-catalog list-recipes` shows what the catalog has"
        )
    if as_json:
        render.emit_json([asdict(c) for c in configs])
        return
    for text in lines:
        render.line(text)


@app.command("select")
def select_cmd(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Hugging Face model id, e.g. Qwen/Qwen3-32B."),
    gpus: int | None = GPUS_ARG,
    precision: str = PRECISION_OPT,
    backend: str | None = BACKEND_OPT,
    hardware: str | None = HARDWARE_OPT,
    metric: str = METRIC_OPT,
    input_len: int | None = INPUT_LEN_OPT,
    output_len: int | None = OUTPUT_LEN_OPT,
    concurrency: int | None = CONCURRENCY_OPT,
    max_ttft_ms: float | None = MAX_TTFT_OPT,
    max_tpot_ms: float | None = MAX_TPOT_OPT,
    max_e2el_ms: float | None = MAX_E2EL_OPT,
    request_rate: float | None = REQUEST_RATE_OPT,
    host_gpus: int | None = HOST_GPUS_OPT,
    goal: str | None = GOAL_OPT,
    recipe: str | None = RECIPE_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print the chosen config as one JSON object."),
) -> None:
    """Pick the best enabled config for a model, ranked by stored benchmark throughput.

    Only comparable rows rank: unlimited request rate (or --request-rate), no failed
    requests, and with --input-len/--output-len mean lengths within 15%
    ($AIM_CATALOG_LENGTH_TOLERANCE). Without GPUS every GPU count that fits the host
    competes per GPU, and the answer says how many replicas fill the host.
    Exit code 3 (and the model's supported configurations) when nothing matches.

    \b
    Example: aim-catalog select Qwen/Qwen3-32B 4 --precision bf16 --backend vllm
    Example: aim-catalog select Qwen/Qwen3-32B --backend any --host-gpus 8 --input-len 1024 --output-len 1024
    """
    from aim_catalog import render
    from aim_catalog.selection import goal_note, order_keys, select_best, server_argv

    request = build_request(
        model,
        gpus,
        precision,
        backend,
        hardware,
        metric,
        input_len=input_len,
        output_len=output_len,
        concurrency=concurrency,
        max_ttft_ms=max_ttft_ms,
        max_tpot_ms=max_tpot_ms,
        max_e2el_ms=max_e2el_ms,
        request_rate=request_rate,
        host_gpus=host_gpus,
        goal=goal,
        recipe=recipe,
    )
    request = _hardware_source(request, hardware)
    with catalog_connection(ctx) as session:
        chosen = select_best(session, request)
        alternative = _single_copy(session, request, chosen) if not as_json else None
    note = goal_note(request, chosen)
    if note:
        render.note(note)
    if as_json:
        render.emit_json(chosen.as_dict())
        return
    label = BACKEND_LABELS.get(chosen.backend, chosen.backend)
    render.line(
        f"Selected {chosen.recipe_id} for {chosen.huggingface_id}: "
        f"{chosen.gpu_count} GPU, {chosen.precision}, {label} on {chosen.hardware}"
    )
    if chosen.fallback:
        render.line(f"  fallback: a general AIM profile (no recipe names {chosen.huggingface_id})")
    if chosen.any_backend:
        render.line(f"  backend: {label}, the best of its backends ({no_default_backend(chosen)})")
    if chosen.goal or chosen.profile_type:
        render.line(f"  profile: {chosen.profile_type or '-'}, tuned for {chosen.goal or '-'}")
    if request.gpus is None:
        among = "the counts that fit" if request.host is not None else "every count (host GPUs unknown)"
        render.line(f"  GPU count: {chosen.gpu_count} won among {among}, per GPU")
    if chosen.replicas is not None:
        render.line("  host:   " + _replica_text(chosen, alternative))
    if chosen.score is None:
        render.line(f"  score:  no benchmark (order: {order_keys(request)})")
    else:
        bench = chosen.benchmark or {}
        scenario = ", ".join(
            f"{k} {bench[k]}" for k in ("input_len", "output_len", "concurrency") if bench.get(k)
        )
        fallback = " (the row has no output_throughput)" if chosen.metric != request.metric else ""
        render.line(f"  score:  {chosen.metric} {chosen.score:g}{fallback}")
        if scenario:
            render.line(f"  scenario: {scenario}{_scenario_note(chosen)}")
        if bench.get("source"):
            render.line(f"  source: {bench['source']}")
    render.line(f"  image:  {chosen.image or '(backend default)'}")
    render.line(f"  args:   {' '.join(server_argv(chosen.args))}")


@app.command("explain")
def explain_cmd(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Hugging Face model id."),
    gpus: int | None = GPUS_ARG,
    precision: str = PRECISION_OPT,
    backend: str | None = BACKEND_OPT,
    hardware: str | None = HARDWARE_OPT,
    metric: str = METRIC_OPT,
    input_len: int | None = INPUT_LEN_OPT,
    output_len: int | None = OUTPUT_LEN_OPT,
    concurrency: int | None = CONCURRENCY_OPT,
    max_ttft_ms: float | None = MAX_TTFT_OPT,
    max_tpot_ms: float | None = MAX_TPOT_OPT,
    max_e2el_ms: float | None = MAX_E2EL_OPT,
    request_rate: float | None = REQUEST_RATE_OPT,
    host_gpus: int | None = HOST_GPUS_OPT,
    goal: str | None = GOAL_OPT,
    recipe: str | None = RECIPE_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print the verdicts as JSON."),
) -> None:
    """Show every recipe of a model with its verdict: chosen, ranked k of n, or why not.

    Exits 3, like select, when no recipe qualifies.

    \b
    Example: aim-catalog explain amd/Llama-3.1-405B-Instruct-FP8-KV 8 --precision fp8
    """
    from aim_catalog import render
    from aim_catalog.errors import NoSuitableRecipe
    from aim_catalog.selection import explain, no_match_message, resolve_backend

    request = build_request(
        model,
        gpus,
        precision,
        backend,
        hardware,
        metric,
        input_len=input_len,
        output_len=output_len,
        concurrency=concurrency,
        max_ttft_ms=max_ttft_ms,
        max_tpot_ms=max_tpot_ms,
        max_e2el_ms=max_e2el_ms,
        request_rate=request_rate,
        host_gpus=host_gpus,
        goal=goal,
        recipe=recipe,
    )
    request = _hardware_source(request, hardware)
    with catalog_connection(ctx) as session:
        request = resolve_backend(session, request)  # the header says what explain compared
        verdicts = explain(session, request)
        chosen = any(v.verdict == "chosen" for v in verdicts)
        missing = "" if chosen else no_match_message(session, request)
    if verdicts and as_json:
        render.emit_json({"request": describe_request(request), "verdicts": [v.as_dict() for v in verdicts]})
    elif verdicts:
        render.line(f"Explain {describe_request(request)}:")
        rows = [
            (v.recipe_id, v.backend or "", v.gpu_count or "", v.verdict, v.image or "", v.reason)
            for v in verdicts
        ]
        render.table(("recipe", "backend", "GPUs", "verdict", "image", "reason"), rows)
    if not chosen:  # the same exit code select gives, after the explanation
        raise NoSuitableRecipe(missing)


def _hardware_source(request: Any, hardware: str | None) -> Any:
    """Mark a hardware filter that came from this host's GPUs (not --hardware)."""
    from dataclasses import replace

    return replace(request, hardware_detected=hardware is None and request.hardware is not None)


def _scenario_note(chosen: Any) -> str:
    asked = chosen.scenario or {}
    if not asked.get("default") or all(asked.get(name) is None for name in asked["default"]):
        return ""
    return " (the scenario most candidates have rows for; --input-len/--output-len choose one)"


def _single_copy(session: Any, request: Any, chosen: Any) -> Any:
    """The best config using all of the host's GPUs in one copy, to compare replicas with,
    at the scenario the chosen config's score is from."""
    from dataclasses import replace

    from aim_catalog.errors import NoSuitableRecipe
    from aim_catalog.selection import select_best

    host = chosen.host_gpus
    if request.gpus is not None or not host or chosen.gpu_count == host or chosen.replicas in (None, 0):
        return None
    same = {k: v for k, v in (chosen.scenario or {}).items() if k in ("input_len", "output_len") and v}
    try:
        return select_best(session, replace(request, gpus=host, max_gpus=None, **same))
    except NoSuitableRecipe:
        return None


def _rate(value: float, metric: str | None) -> str:
    """A throughput with its unit: requests/s keep a decimal, tokens/s are whole."""
    if metric == "request_throughput":
        return f"{value:,.1f} req/s"
    return f"{value:,.0f} tok/s"


def _replica_text(chosen: Any, alternative: Any) -> str:
    """``2 x 4 GPU (SGLang) -> 24,000 tok/s on 8 GPUs; 1 x 8 GPU would give 16,000 tok/s``
    (both at the same scenario, or it says the single copy has no row there)."""
    label = BACKEND_LABELS.get(chosen.backend, chosen.backend)
    if not chosen.replicas:
        return f"{chosen.gpu_count} GPU does not fit the host's {chosen.host_gpus} GPU(s)"
    text = f"{chosen.replicas} x {chosen.gpu_count} GPU ({label})"
    if chosen.host_total is not None:
        text += f" -> {_rate(chosen.host_total, chosen.metric)} on {chosen.host_gpus} GPUs"
    else:
        text += f" on {chosen.host_gpus} GPUs (no benchmark: throughput unknown)"
    if alternative is not None and alternative.score is not None:
        text += f"; 1 x {alternative.gpu_count} GPU would give {_rate(alternative.score, alternative.metric)}"
    elif alternative is not None and chosen.score is not None:
        text += f"; 1 x {alternative.gpu_count} GPU has no comparable row at that scenario"
    return text


def no_default_backend(chosen: Any) -> str:
    """Why the backend was chosen across all of them (the default one has no config)."""
    from aim_catalog.settings import DEFAULT_BACKEND

    default = BACKEND_LABELS.get(DEFAULT_BACKEND, DEFAULT_BACKEND)
    return f"{chosen.huggingface_id} has no {default} config; --backend picks one"
