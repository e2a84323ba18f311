"""The ``aim-catalog`` command line (alias ``aim-engine``).

The Typer app and its global options. Each command parses its options, asks the command's
one ``Catalog`` (``catalog_of``, opened on first use) and renders; domain errors map to
exit codes: 0 ok, 1 environment, 2 usage, 3 no suitable recipe, 4 invalid recipe input,
5 launch failed. SQLAlchemy, YAML and rich load inside the commands, so ``--help`` is fast.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from aim_catalog import __version__
from aim_catalog.backends.registry import BACKEND_LABELS
from aim_catalog.errors import CatalogError

if TYPE_CHECKING:
    from pathlib import Path

    from aim_catalog.api import Catalog
    from aim_catalog.selection.request import Request


class Group(TyperGroup):
    """Turns domain errors into a one-line message on stderr and their exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CatalogError as exc:
            from aim_catalog.cli import render

            render.error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=Group,
    rich_markup_mode=None,  # plain help: rendering it with rich costs more than importing typer
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="A SQL catalog of LLM serving recipes for AMD Instinct GPUs: ingest, select, launch.",
)
db_app = typer.Typer(
    cls=Group, rich_markup_mode=None, no_args_is_help=True, help="Create, migrate and inspect the schema."
)
app.add_typer(db_app, name="db")


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
    state = state_of(ctx)
    state.db, state.verbose = db, verbose
    _warnings_to_stderr(shown=not verbose)
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s", stream=sys.stderr)
        logging.getLogger("aim_catalog").setLevel(logging.DEBUG)


class _Warnings(logging.Handler):
    """The lower layers' warnings (a writer queueing for the lock, a read-only catalog...)
    as plain lines on stderr: they report through logging, never by writing to it."""

    shown = True

    def emit(self, record: logging.LogRecord) -> None:
        if self.shown:
            sys.stderr.write(record.getMessage() + "\n")
            sys.stderr.flush()


def _warnings_to_stderr(*, shown: bool) -> None:
    """One handler per process (commands may run many times in one); with -v the root
    handler of ``basicConfig`` shows them instead."""
    logger = logging.getLogger("aim_catalog")
    handler = next((h for h in logger.handlers if isinstance(h, _Warnings)), None)
    if handler is None:
        handler = _Warnings(logging.WARNING)
        logger.addHandler(handler)
    handler.shown = shown


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
