"""The ``aim-catalog`` command line (alias ``aim-engine``).

The Typer app and its global options. Each command parses its options, asks the command's
one ``Catalog`` (``catalog_of``, opened on first use) and renders; domain errors map to
exit codes: 0 ok, 1 environment, 2 usage, 3 no suitable recipe, 4 invalid recipe input,
5 launch failed. SQLAlchemy, YAML and rich load inside the commands, and a command's module
is imported only when that command runs (``COMMANDS``), so ``--help`` and every command
start at about the cost of importing typer.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from aim_catalog import __version__

if TYPE_CHECKING:
    from pathlib import Path

    from typer._click import Command

    from aim_catalog.api import Catalog
    from aim_catalog.selection.request import Request


class Group(TyperGroup):
    """Turns domain errors into a one-line message on stderr and their exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except Exception as exc:
            from aim_catalog.errors import CatalogError  # imported by every command: not by --help

            if not isinstance(exc, CatalogError):
                raise
            from aim_catalog.cli import render

            render.error(str(exc))
            raise typer.Exit(exc.exit_code) from None


# Every top-level command in the order ``--help`` lists it: the modules (of this package)
# whose import registers it, and the first paragraph of its help (what ``--help`` shortens).
# Only the command that runs is imported; tests/unit/cli/test_lazy_commands.py checks this
# table against the commands the modules register.
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "report": (
        ("reports",),
        "Standard reports: coverage (enabled configs per model, backend and GPU count), leaderboard "
        "(best config per model and GPU count, with its metric and source), benchmarks (every stored "
        "result), pareto MODEL (throughput per GPU against tokens/s per user, per config across "
        "concurrencies, the Pareto frontier marked; --plot draws it, which needs the optional extra: "
        "pip install 'aim-catalog[plot]'), backtest [MODEL] (how far interpolation between measured "
        "concurrencies is from the truth: each interior point of every curve predicted from the rest "
        "of it, median and p90 error per metric, by hardware and backend; with MODEL, that model's "
        "curves only).",
    ),
    "sql": (
        ("reports",),
        "Run one read-only SQL statement against the catalog (tables and views: docs/analysts/tables.md).",
    ),
    "export": (("reports",), "Write the catalog back as recipe YAML, benchmarks included."),
    "validate": (("catalog",), "Check recipe files without touching any database."),
    "ingest": (("catalog",), "Validate recipes, then write them to the catalog in one transaction."),
    "list-recipes": (("catalog",), "List the recipes in the catalog."),
    "show-configurations": (
        ("catalog",),
        "Show which GPU counts, precisions and backends a model has recipes for.",
    ),
    "select": (
        ("choose",),
        "Pick the best enabled config for a model, ranked by stored benchmark throughput.",
    ),
    "explain": (
        ("choose",),
        "Show every recipe of a model with its verdict: chosen, ranked k of n, or why not.",
    ),
    "images": (
        ("images",),
        "List the default images per backend and GPU architecture (a config's own image wins).",
    ),
    "launch": (
        ("launch",),
        "Select the best config and run it as a ROCm container, waiting until it serves.",
    ),
    "ps": (("launch",), "List this Docker engine's deployments with what Docker says of each container now."),
    "stop": (("launch",), "Stop and remove a deployment's container, freeing its GPUs."),
    "logs": (("launch",), "Print a deployment's container logs."),
    "doctor": (
        ("operate",),
        "Check that this host can serve: driver, devices, GPUs, Docker, catalog, token, disk.",
    ),
    "test": (("operate",), "Send a chat completion to a running deployment and time it; or a small load."),
    "plan": (
        ("plan",),
        "Plan capacity: the GPUs, config and cost that serve a target load within the SLOs.",
    ),
    "db": (("catalog",), "Create, migrate and inspect the schema."),
    "bench": (("reports", "bench"), "Import measured benchmark results."),
    "cache": (("cache",), "The Hugging Face model cache launches use."),
    "catalog": (("sync",), "Keep the catalog in step with upstreams."),
}


class Root(Group):
    """The top-level group: lists ``COMMANDS`` without importing them, and builds a command
    (importing its modules) when it is asked for by name."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = _built(cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """click's listing (``Group.format_commands``) from the table: nothing is imported."""
        from typer._click.utils import make_default_short_help

        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            built = self.commands.get(name)
            if built is not None and built.hidden:
                continue
            if name in COMMANDS:
                rows.append((name, make_default_short_help(COMMANDS[name][1], limit)))
            elif built is not None:
                rows.append((name, built.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """An unknown command suggests the close names of the whole table (typer's
        suggestion reads only the commands built so far)."""
        from typer._click.exceptions import UsageError

        try:
            return super()._click_resolve_command(ctx, args)
        except UsageError as exc:
            from difflib import get_close_matches

            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches:
                exc.message = (
                    exc.message.rstrip(".") + ". Did you mean " + ", ".join(map(repr, matches)) + "?"
                )
            raise


def _built(name: str) -> Command:
    """The click command ``name``, built by typer from what its modules register on ``app``."""
    from typer.main import get_command_from_info, get_command_name, get_group_from_info

    for module in COMMANDS[name][0]:
        importlib.import_module(f"aim_catalog.cli.{module}")
    for info in app.registered_commands:
        assert info.callback is not None
        if (info.name or get_command_name(info.callback.__name__)) == name:
            return get_command_from_info(
                info,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
    group = next(info for info in app.registered_groups if info.name == name)
    return get_group_from_info(
        group,
        pretty_exceptions_short=app.pretty_exceptions_short,
        suggest_commands=app.suggest_commands,
        rich_markup_mode=app.rich_markup_mode,
    )


app = typer.Typer(
    cls=Root,
    rich_markup_mode=None,  # plain help: rendering it with rich costs more than importing typer
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="A SQL catalog of LLM serving recipes for AMD Instinct GPUs: ingest, select, launch.",
)
db_app = typer.Typer(
    cls=Group, rich_markup_mode=None, no_args_is_help=True, help="Create, migrate and inspect the schema."
)


@dataclass
class _State:
    db: str | None = None
    verbose: bool = False
    catalog: Catalog | None = None  # opened by the first command step that needs it


def state_of(ctx: typer.Context) -> _State:
    root = ctx.find_root()
    if not isinstance(root.obj, _State):
        root.obj = _State()
    return root.obj


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aim-catalog {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None,
        "--db",
        help="Catalog database URL (sqlite:///PATH or postgresql://...). "
        "Default: $AIM_CATALOG_DB_URL, else a SQLite file under $XDG_DATA_HOME/aim-catalog/.",
        show_default=False,
    ),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log each match check."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    import logging
    import sys

    from aim_catalog.cli.stderr_log import warnings_to_stderr

    state = state_of(ctx)
    state.db, state.verbose = db, verbose
    warnings_to_stderr(shown=not verbose)
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s", stream=sys.stderr)
        logging.getLogger("aim_catalog").setLevel(logging.DEBUG)


def catalog_of(ctx: typer.Context, *, create: bool = False) -> Catalog:
    """The command's one ``Catalog``, opened on its first use (so a command checks its input
    before it touches any database) and closed when the command ends. ``create``: a SQLite
    catalog file may be created (``ingest``); say it on the command's first call."""
    from aim_catalog.api import Catalog

    state = state_of(ctx)
    if state.catalog is None:
        state.catalog = Catalog.deferred(state.db, create=create, pooled=False)
        ctx.find_root().call_on_close(state.catalog.close)
    assert state.catalog.creates or not create, "ask for create=True on the command's first call"
    return state.catalog


# --------------------------------------------------------------------------- selection


def directory_option(value: str | None, flag: str = "--out") -> Path | None:
    """A directory option as given: an empty one is a usage error (``Path("")`` is the
    current directory, where nobody meant to write)."""
    from pathlib import Path

    from aim_catalog.errors import UsageProblem

    if value is None:
        return None
    if not value.strip():
        raise UsageProblem(f"{flag} is empty: name a directory")
    return Path(value)


def describe_request(request: Request) -> str:
    from aim_catalog.backends.registry import BACKEND_LABELS

    gpus = (
        f"{request.gpus} GPU"
        if request.gpus is not None
        else (f"any GPU count up to {request.max_gpus}" if request.max_gpus else "any GPU count")
    )
    backend = BACKEND_LABELS.get(request.backend, request.backend)
    text = f"{request.model}, {gpus}, {request.precision}, {backend}, hardware {request.hardware or 'any'}"
    extras = [f"{k} {v}" for k, v in request.scenario.items()]
    if request.request_rate is not None:
        extras.append(f"request rate {request.request_rate:g}/s")
    extras += [f"{name} <= {limit:g} ms" for name, limit in request.slo.items()]
    return text + (f" ({', '.join(extras)})" if extras else "")


def main() -> None:
    app()
