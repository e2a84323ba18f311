"""The selection options of ``select``, ``explain`` and ``launch``, declared once.

``@selection_options()`` gives a command the model argument, the GPU count and every
selection option, and hands it one ``SelectionOptions`` (parameter ``selection``) built
from them; ``exclude`` drops the ones a command does not take. ``expanded`` is the
mechanism, for any group of options declared once (``launch``'s own use it too).
"""

from __future__ import annotations

import functools
import inspect
import math
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from aim_catalog.backends.registry import BACKENDS, DEFAULT_BACKEND
from aim_catalog.selection.curves import DEFAULT_PERCENTILE
from aim_catalog.selection.options import SelectionOptions
from aim_catalog.settings import DEFAULT_METRIC, DEFAULT_PRECISION, MAX_SQL_INT

F = TypeVar("F", bound=Callable[..., Any])


def finite(value: float | None) -> float | None:
    """Option callback: numbers reach SQL, where nan and inf compare in surprising ways."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, got {value}")
    return value


MODEL_ARG = typer.Argument(..., help="Hugging Face model id, e.g. Qwen/Qwen3-32B.")
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
    None,
    "--concurrency",
    min=1,
    max=MAX_SQL_INT,
    help="Compare every config at this concurrency (interpolated between measured ones, never extrapolated).",
)
MAX_TTFT_OPT = typer.Option(
    None, "--max-ttft-ms", min=0, callback=finite, help="SLO: time to first token at --percentile."
)
MAX_TPOT_OPT = typer.Option(
    None, "--max-tpot-ms", min=0, callback=finite, help="SLO: time per output token at --percentile."
)
MAX_E2EL_OPT = typer.Option(
    None, "--max-e2el-ms", min=0, callback=finite, help="SLO: end-to-end latency at --percentile."
)
MIN_INTERACTIVITY_OPT = typer.Option(
    None,
    "--min-interactivity",
    min=0.000001,
    callback=finite,
    help="SLO: output tokens/s per user (1000 / TPOT) at --percentile.",
)
PERCENTILE_OPT = typer.Option(
    DEFAULT_PERCENTILE,
    "--percentile",
    help="The percentile SLOs are read at: p50, p90 or p99 (p99 falls back to p50 for rows "
    "that have only medians).",
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
CURRENT_ONLY_OPT = typer.Option(
    False,
    "--current-only",
    help="Leave out recipes retired upstream (status: retired; by default they compete, and a "
    "retired winner says so).",
)
HOST_GPUS_OPT = typer.Option(
    None,
    "--host-gpus",
    min=1,
    max=1024,
    help="GPUs of the host to plan replicas for (default: the detected GPUs).",
)


# SelectionOptions field -> (annotation, its declaration); the order is the help's order.
DECLARED: dict[str, tuple[Any, Any]] = {
    "model": (str, MODEL_ARG),
    "gpus": (int | None, GPUS_ARG),
    "precision": (str, PRECISION_OPT),
    "backend": (str | None, BACKEND_OPT),
    "hardware": (str | None, HARDWARE_OPT),
    "metric": (str, METRIC_OPT),
    "input_len": (int | None, INPUT_LEN_OPT),
    "output_len": (int | None, OUTPUT_LEN_OPT),
    "concurrency": (int | None, CONCURRENCY_OPT),
    "max_ttft_ms": (float | None, MAX_TTFT_OPT),
    "max_tpot_ms": (float | None, MAX_TPOT_OPT),
    "max_e2el_ms": (float | None, MAX_E2EL_OPT),
    "min_interactivity": (float | None, MIN_INTERACTIVITY_OPT),
    "percentile": (str, PERCENTILE_OPT),
    "request_rate": (float | None, REQUEST_RATE_OPT),
    "host_gpus": (int | None, HOST_GPUS_OPT),
    "goal": (str | None, GOAL_OPT),
    "recipe": (str | None, RECIPE_OPT),
    "current_only": (bool, CURRENT_ONLY_OPT),
}


def selection_options(*, exclude: tuple[str, ...] = (), model_help: str | None = None) -> Callable[[F], F]:
    """Replace the command's ``selection`` parameter by the selection options (but ``exclude``);
    the command gets one ``SelectionOptions`` built from them."""
    declared = dict(DECLARED)
    if model_help is not None:
        declared["model"] = (str, typer.Argument(..., help=model_help))
    return expanded("selection", SelectionOptions, {k: v for k, v in declared.items() if k not in exclude})


def expanded(param: str, build: Callable[..., Any], declared: dict[str, tuple[Any, Any]]) -> Callable[[F], F]:
    """Replace the command's parameter ``param`` by one parameter per ``declared`` entry
    (name -> (annotation, typer declaration)), in that order, and hand the command
    ``build(**their values)`` as ``param`` on each call.

    Typer reads the command's signature: the wrapper shows it the options in place of
    ``param``, so each option is declared once, here, for every command that takes it.
    """
    names = list(declared)

    def decorate(command: F) -> F:
        signature = inspect.signature(command)
        params = list(signature.parameters.values())
        at = [p.name for p in params].index(param)
        options = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=declared[name][1], annotation=declared[name][0]
            )
            for name in names
        ]
        # Typer reads evaluated annotations; the command's module may use ``from __future__
        # import annotations`` (strings) and import the built type only for type checking.
        resolved = typing.get_type_hints(command, localns={getattr(build, "__name__", "build"): build})
        before = [p.replace(annotation=resolved.get(p.name, p.annotation)) for p in params[:at]]
        rest = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=resolved.get(p.name, p.annotation))
            for p in params[at + 1 :]
        ]
        hints = {p.name: p.annotation for p in [*before, *rest]}

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            built = build(**{name: kwargs.pop(name) for name in names})
            return command(*args, **{param: built}, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=[*before, *options, *rest])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {**hints, **{name: declared[name][0] for name in names}}
        del wrapper.__wrapped__  # typer must see the new signature, not the wrapped one's
        return wrapper  # type: ignore[return-value]

    return decorate
