"""The ``aim-catalog`` command line (alias ``aim-engine``).

Parses options, opens one session per command, renders results and maps domain errors to
exit codes: 0 ok, 1 environment, 2 usage, 3 no suitable recipe, 4 invalid recipe input,
5 launch failed. SQLAlchemy, YAML and rich load inside the commands, so ``--help`` is fast.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from aim_catalog import __version__
from aim_catalog.errors import CatalogError
from aim_catalog.settings import (
    BACKEND_LABELS,
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_METRIC,
    DEFAULT_PRECISION,
    MAX_SQL_INT,
    auto_migrate_enabled,
    resolve_db_url,
)

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

    from aim_catalog.selection import Request


class Group(TyperGroup):
    """Turns domain errors into a one-line message on stderr and their exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CatalogError as exc:
            from aim_catalog import render

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
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s", stream=sys.stderr)
        logging.getLogger("aim_catalog").setLevel(logging.DEBUG)


def open_engine(ctx: typer.Context, *, create: bool = False) -> tuple[Any, bool]:
    """The catalog's engine and whether it is the default one. A SQLite file is created
    only for the default catalog or when ``create`` (``db upgrade``, ``ingest``): any
    other command on a path that does not exist is told so (exit 1), nothing is created."""
    from aim_catalog import db

    url, is_default = resolve_db_url(state_of(ctx).db)
    return db.make_engine(url, create=create or is_default), is_default


@contextmanager
def catalog_engine(ctx: typer.Context, *, create: bool = False) -> Iterator[Engine]:
    """The catalog's engine, its database migrated to the code's schema."""
    from sqlalchemy.exc import SQLAlchemyError

    from aim_catalog import db

    engine, is_default = open_engine(ctx, create=create)
    try:
        db.ensure_schema(engine, auto_migrate=auto_migrate_enabled(), seed=is_default, shared=not is_default)
        yield engine
    except SQLAlchemyError as exc:
        raise db.database_problem(exc, engine) from exc
    finally:
        engine.dispose()


@contextmanager
def catalog_connection(ctx: typer.Context) -> Iterator[Connection]:
    """A read-only unit of work on a plain Connection: the select path stays off the ORM."""
    with catalog_engine(ctx) as engine, engine.connect() as connection:
        yield connection


@contextmanager
def catalog_session(ctx: typer.Context, *, commit: bool = True, create: bool = False) -> Iterator[Session]:
    """One session for the command (``commit=False`` rolls it back: dry runs)."""
    from aim_catalog import db

    with catalog_engine(ctx, create=create) as engine, db.session_factory(engine)() as session:
        yield session
        if commit:
            session.commit()
        else:
            session.rollback()


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


def finite(value: float | None) -> float | None:
    """Option callback: numbers reach SQL, where nan and inf compare in surprising ways."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, got {value}")
    return value


# Bounds of the SQL columns the numbers are compared with (INTEGER, double precision).
GPUS_ARG = typer.Argument(
    None,
    min=1,
    max=MAX_SQL_INT,
    help="GPU count. Omitted: every count that fits the host's GPUs competes.",
)
PRECISION_OPT = typer.Option(DEFAULT_PRECISION, "--precision", "-p", help="fp16, bf16, fp8, ...")
BACKEND_OPT = typer.Option(
    None,
    "--backend",
    "-b",
    help=f"{', '.join(BACKENDS)}, or any (the best of all). Default: {DEFAULT_BACKEND}; a model "
    f"with no {DEFAULT_BACKEND} config at all gets the best of the backends it has.",
)
HARDWARE_OPT = typer.Option(
    None,
    "--hardware",
    help="GPU model, e.g. MI300X; 'any' for no filter. Default: the detected GPU.",
)
METRIC_OPT = typer.Option(
    DEFAULT_METRIC,
    "--metric",
    help="Ranking column: output_throughput (falls back to total_token_throughput), "
    "total_token_throughput or request_throughput.",
)


INPUT_LEN_OPT = typer.Option(
    None, "--input-len", min=1, max=MAX_SQL_INT, help="Rank by benchmarks of this input length only."
)
OUTPUT_LEN_OPT = typer.Option(
    None, "--output-len", min=1, max=MAX_SQL_INT, help="Rank by benchmarks of this output length only."
)
CONCURRENCY_OPT = typer.Option(
    None, "--concurrency", min=1, max=MAX_SQL_INT, help="Rank by benchmarks at this concurrency only."
)
MAX_TTFT_OPT = typer.Option(
    None, "--max-ttft-ms", min=0, callback=finite, help="SLO: time to first token (p99, else p50)."
)
MAX_TPOT_OPT = typer.Option(
    None, "--max-tpot-ms", min=0, callback=finite, help="SLO: time per output token (p99, else p50)."
)
MAX_E2EL_OPT = typer.Option(
    None, "--max-e2el-ms", min=0, callback=finite, help="SLO: end-to-end latency (p99, else p50)."
)
REQUEST_RATE_OPT = typer.Option(
    None,
    "--request-rate",
    min=0.000001,
    callback=finite,
    help="Rank by benchmarks run at this request rate (req/s). Default: unlimited-rate runs only.",
)
GOAL_OPT = typer.Option(
    None,
    "--goal",
    help="latency or throughput: prefer configs tuned for it (AMD AIM profiles say which).",
)
RECIPE_OPT = typer.Option(
    None,
    "--recipe",
    help="Pin this recipe_id (like AIM_PROFILE_ID): manual-selection-only profiles allowed; "
    "--precision is then ignored (add --backend any for a recipe without the default backend).",
)
HOST_GPUS_OPT = typer.Option(
    None,
    "--host-gpus",
    min=1,
    max=1024,
    help="GPUs of the host to plan replicas for (default: the detected GPUs).",
)


def build_request(
    model: str,
    gpus: int | None,
    precision: str,
    backend: str | None,
    hardware: str | None,
    metric: str,
    *,
    free_gpus: int | None = None,
    host_gpus: int | None = None,
    **filters: float | str | None,
) -> Request:
    """The selection request; hardware and the GPU counts that fit come from the host.

    ``free_gpus`` (launch) bounds the competing GPU counts by what is not in use.
    """
    from aim_catalog import render
    from aim_catalog.hardware import detect_gpus, host_model
    from aim_catalog.selection import Request

    detected = detect_gpus()
    if hardware is not None and hardware.lower() == "any":
        hardware = None
    elif hardware is None:
        hardware = host_model(detected)
        if hardware is None:
            render.note("no AMD GPU detected: not filtering by hardware (--hardware chooses one)")
    max_gpus = None
    if gpus is None and detected:
        max_gpus = len(detected) if free_gpus is None else free_gpus
    if gpus is None and host_gpus is not None and free_gpus is None:
        max_gpus = host_gpus
    return Request(
        model=model,
        gpus=gpus,
        precision=precision.lower(),
        backend=(backend or DEFAULT_BACKEND).lower(),
        backend_defaulted=backend is None,
        hardware=hardware,
        metric=metric,
        max_gpus=max_gpus,
        host_gpus=host_gpus if host_gpus is not None else (len(detected) if detected else None),
        length_tolerance=length_tolerance(),
        **filters,  # type: ignore[arg-type]
    )


def length_tolerance() -> float:
    """$AIM_CATALOG_LENGTH_TOLERANCE (a fraction, default 0.15) for --input-len/--output-len."""
    import math
    import os

    from aim_catalog.errors import UsageProblem
    from aim_catalog.settings import DEFAULT_LENGTH_TOLERANCE, LENGTH_TOLERANCE_ENV

    raw = os.environ.get(LENGTH_TOLERANCE_ENV, "").strip()
    if not raw:
        return DEFAULT_LENGTH_TOLERANCE
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 <= value < 1:
        raise UsageProblem(f"{LENGTH_TOLERANCE_ENV} must be a fraction from 0 to below 1, got {raw[:20]!r}")
    return value


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
