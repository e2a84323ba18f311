"""The selection options of ``select``, ``explain`` and ``launch``, declared once.

``@selection_options()`` gives a command the model argument, the GPU count and every
selection option, and hands it one ``SelectionOptions`` (parameter ``selection``) built
from them; ``exclude`` drops the ones a command does not take.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

import typer

from aim_catalog.backends.registry import BACKENDS, DEFAULT_BACKEND
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
    "request_rate": (float | None, REQUEST_RATE_OPT),
    "host_gpus": (int | None, HOST_GPUS_OPT),
    "goal": (str | None, GOAL_OPT),
    "recipe": (str | None, RECIPE_OPT),
}
assert set(DECLARED) == {f.name for f in fields(SelectionOptions)}, "declare every selection option"


def selection_options(*, exclude: tuple[str, ...] = (), model_help: str | None = None) -> Callable[[F], F]:
    """Replace the command's ``selection`` parameter by the selection options (but ``exclude``).

    Typer reads the command's signature: the wrapper shows it the options in place of
    ``selection`` and rebuilds the ``SelectionOptions`` from them on each call.
    """
    names = [name for name in DECLARED if name not in exclude]
    declared = dict(DECLARED)
    if model_help is not None:
        declared["model"] = (str, typer.Argument(..., help=model_help))

    def decorate(command: F) -> F:
        signature = inspect.signature(command)
        params = list(signature.parameters.values())
        at = [p.name for p in params].index("selection")
        options = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=declared[name][1], annotation=declared[name][0]
            )
            for name in names
        ]
        rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params[at + 1 :]]
        hints = {p.name: p.annotation for p in [*params[:at], *rest]}
        hints = typing_hints(command, hints)

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            selection = SelectionOptions(**{name: kwargs.pop(name) for name in names})
            return command(*args, selection=selection, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=[*params[:at], *options, *rest])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {**hints, **{name: declared[name][0] for name in names}}
        del wrapper.__wrapped__  # typer must see the new signature, not the wrapped one's
        return wrapper  # type: ignore[return-value]

    return decorate


def typing_hints(command: Callable[..., Any], annotations: dict[str, Any]) -> dict[str, Any]:
    """The command's other parameters' annotations, evaluated: the module may use ``from
    __future__ import annotations``, which leaves them as strings typer cannot read."""
    namespace = getattr(command, "__globals__", {})
    return {
        name: eval(annotation, namespace) if isinstance(annotation, str) else annotation
        for name, annotation in annotations.items()
    }
