"""``aim-catalog plan MODEL``: how many GPUs of which config serve a target load within the
SLOs, and at what cost (``selection.capacity``), as a table, JSON or a chart."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from aim_catalog.cli.app import app, catalog_of
from aim_catalog.cli.selection_opts import (
    CURRENT_ONLY_OPT,
    INPUT_LEN_OPT,
    MAX_E2EL_OPT,
    MAX_TPOT_OPT,
    MAX_TTFT_OPT,
    MIN_INTERACTIVITY_OPT,
    OUTPUT_LEN_OPT,
    PERCENTILE_OPT,
    finite,
)
from aim_catalog.errors import UsageProblem

if TYPE_CHECKING:
    from aim_catalog.selection.capacity import CapacityPlan

ONE_HOST_GPUS = 8  # a launch line for one host when the plan fits an 8-GPU node
MAX_REPLICAS = 1000  # launch --replicas' bound
MAX_TARGET = 1e9


@app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Hugging Face model id."),
    rate: float | None = typer.Option(
        None, "--rate", min=0, max=MAX_TARGET, callback=finite, help="Target: requests/s."
    ),
    tokens: float | None = typer.Option(
        None, "--tokens-per-s", min=0, max=MAX_TARGET, callback=finite, help="Target: output tokens/s."
    ),
    users: int | None = typer.Option(
        None, "--users", min=1, max=int(MAX_TARGET), help="Target: concurrent streams."
    ),
    input_len: int | None = INPUT_LEN_OPT,
    output_len: int | None = OUTPUT_LEN_OPT,
    max_ttft_ms: float | None = MAX_TTFT_OPT,
    max_tpot_ms: float | None = MAX_TPOT_OPT,
    max_e2el_ms: float | None = MAX_E2EL_OPT,
    min_interactivity: float | None = MIN_INTERACTIVITY_OPT,
    percentile: str = PERCENTILE_OPT,
    precision: list[str] | None = typer.Option(
        None, "--precision", "-p", help="Precisions to consider (repeat or comma-separate; default: any)."
    ),
    backend: str | None = typer.Option(None, "--backend", "-b", help="One backend (default: any)."),
    hardware: list[str] | None = typer.Option(
        None, "--hardware", help="GPU models to consider (repeat or comma-separate; default: any)."
    ),
    gpus: list[str] | None = typer.Option(
        None, "--gpus", help="GPU counts per replica allowed (repeat or comma-separate; default: any)."
    ),
    current_only: bool = CURRENT_ONLY_OPT,
    gpu_hour_cost: str | None = typer.Option(
        None,
        "--gpu-hour-cost",
        help="Price per GPU-hour by GPU model, MI300X=2.10,MI355X=3.40, or a YAML file of them "
        "(no price is bundled). Ranks by cost when every candidate has one.",
    ),
    power_cost: float | None = typer.Option(
        None, "--power-cost", min=0, callback=finite, help="Price per kWh, applied to the measured power."
    ),
    top: int = typer.Option(5, "--top", min=1, max=1000, help="How many plans to show."),
    as_json: bool = typer.Option(False, "--json", help="Print every plan as JSON."),
    plot: str | None = typer.Option(
        None, "--plot", help="Also draw GPUs (or cost) vs load for the best plans to FILE (.png/.svg)."
    ),
) -> None:
    """Plan capacity: the GPUs, config and cost that serve a target load within the SLOs.

    Give one target (--rate, --tokens-per-s or --users). Per candidate config: its operating
    point under the SLOs (measured, or interpolated between measured concurrencies, never
    extrapolated), what one replica sustains there, the replicas and GPUs the target needs,
    the headroom, and with prices the cost per hour and per million output tokens. Ranked by
    total GPUs, or by cost. Exits 3 when no config meets the SLOs, naming the one that binds.

    \b
    Example: aim-catalog plan deepseek-ai/DeepSeek-R1-0528 --tokens-per-s 20000 \\
                 --input-len 8192 --output-len 1024 --max-tpot-ms 50 -p fp8 \\
                 --gpu-hour-cost MI300X=2.10,MI355X=3.40
    """
    from aim_catalog.cli import render
    from aim_catalog.selection.capacity import PlanOptions, Prices, Target

    given = [(k, v) for k, v in (("rate", rate), ("tokens", tokens), ("users", users)) if v is not None]
    if len(given) != 1:
        raise UsageProblem("plan needs one target: --rate R, --tokens-per-s T or --users N")
    ((kind, value),) = given
    if value <= 0:
        raise UsageProblem(f"the target must be above 0, got {value:g}")
    if power_cost is not None and gpu_hour_cost is None:
        raise UsageProblem("--power-cost adds the energy to --gpu-hour-cost: give both")
    path = None if plot is None else Path(plot)
    if path is not None and path.suffix.lower() not in (".png", ".svg"):
        raise UsageProblem(f"--plot writes PNG or SVG: name the file *.png or *.svg, not {path.name!r}")
    options = PlanOptions(
        model,
        Target(kind, float(value)),  # type: ignore[arg-type]
        input_len=input_len,
        output_len=output_len,
        max_ttft_ms=max_ttft_ms,
        max_tpot_ms=max_tpot_ms,
        max_e2el_ms=max_e2el_ms,
        min_interactivity=min_interactivity,
        percentile=percentile,
        precisions=tuple(_items(precision)),
        backend=backend,
        hardware=tuple(h.upper() for h in _items(hardware)),
        gpus=tuple(_count(g) for g in _items(gpus)),
        current_only=current_only,
        prices=Prices(_prices(gpu_hour_cost), power_cost),
    )
    capacity = catalog_of(ctx).plan(options)
    if path is not None:
        from aim_catalog.measurements.plan_plot import plot as draw

        draw(capacity, path, top)
        render.note(f"chart written to {path}")
    if as_json:
        render.emit_json({**capacity.as_dict(), "launch": _launch_line(capacity)})
        return
    _show(capacity, top)


def _items(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1024:
        raise UsageProblem(f"--gpus takes GPU counts from 1 to 1024, got {text!r}")
    return int(text)


MAX_PRICE_FILE = 1 << 20


def _prices(given: str | None) -> dict[str, float]:
    """``MI300X=2.10,MI355X=3.40``, or a YAML file (at most 1 MiB) mapping GPU models to prices."""
    if given is None:
        return {}
    pairs: list[tuple[Any, Any]]
    path = Path(given)
    if "=" not in given or path.is_file():
        where = given
        pairs = list(_price_file(path).items())
    else:
        where = "--gpu-hour-cost"
        pairs = []
        for item in given.split(","):
            name, eq, price = item.partition("=")
            if not eq or not name.strip() or not price.strip():
                raise UsageProblem(f"--gpu-hour-cost: {item.strip()!r} is not NAME=PRICE (e.g. MI300X=2.10)")
            pairs.append((name, price))
    prices: dict[str, float] = {}
    for name, price in pairs:
        key = str(name).strip().upper()
        try:
            number = float(price) if not isinstance(price, bool) else -1.0
        except (TypeError, ValueError):
            number = -1.0
        if not (0 <= number < float("inf")) or not key:
            raise UsageProblem(f"{where}: {name}: the price must be a finite number >= 0, got {price!r}")
        if key in prices:
            raise UsageProblem(f"{where}: {key} is priced twice")
        prices[key] = number + 0.0  # -0.0 is 0
    if not prices:
        raise UsageProblem(
            f"{where}: give prices as MI300X=2.10,MI355X=3.40 (a mapping of GPU model to price)"
        )
    return prices


def _price_file(path: Path) -> dict[Any, Any]:
    from aim_catalog.recipes.safe_yaml import Reject, load_yaml

    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PRICE_FILE + 1)
        if len(data) > MAX_PRICE_FILE:
            raise UsageProblem(f"--gpu-hour-cost {path}: larger than 1 MiB; a price file is a few lines")
        source, _ = load_yaml(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, Reject) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageProblem(
            f"--gpu-hour-cost {path}: not NAME=PRICE pairs, and not a readable YAML file ({why})"
        ) from None
    if not isinstance(source, dict):
        raise UsageProblem(f"--gpu-hour-cost {path}: give a mapping of GPU model to price (MI300X: 2.10)")
    return source


def _launch_line(capacity: CapacityPlan) -> str:
    """The winner as a launch command: on one host when its GPUs fit a node, else on a cluster."""
    import shlex

    best = capacity.best
    words = [
        "aim-catalog", "launch", capacity.model, str(best.gpus_per_replica),
        "-p", best.precision, "-b", best.backend, "--hardware", best.hardware, "--recipe", best.recipe_id,
    ]  # fmt: skip
    if best.gpus > ONE_HOST_GPUS:
        words += ["--target", "kubernetes"]
    if best.replicas > MAX_REPLICAS:
        return f"none: {best.replicas} replicas exceed what one launch starts ({MAX_REPLICAS})"
    if best.replicas > 1:
        words += ["--replicas", str(best.replicas)]
    return shlex.join(words)


def _show(capacity: CapacityPlan, top: int) -> None:
    from aim_catalog.cli import render

    warning = capacity.warning()
    if warning:
        render.line(f"Note: {warning}.")
    slo = ", ".join(f"{k} {capacity.percentile} <= {v:g} ms" for k, v in capacity.slo.items()) or "no SLO"
    scenario = ", ".join(f"{k} {v}" for k, v in capacity.scenario.items() if v is not None) or "any"
    render.line(f"Plan for {capacity.model}: {capacity.target.describe()}, {slo}, scenario {scenario}")
    unit = capacity.target.kind
    rows = []
    for n, p in enumerate(capacity.plans[:top], start=1):
        rows.append(
            (
                n,
                p.recipe_id + (" (retired)" if p.retired else ""),
                f"{p.hardware} {p.backend}",
                p.gpus_per_replica,
                f"{p.concurrency:g} ({p.kind})",
                f"{p.per_replica[unit]:.4g}",
                p.replicas,
                p.gpus,
                f"{p.headroom:.0%}",
                "" if p.cost_per_hour is None else f"{p.cost_per_hour:.2f}",
                "" if p.cost_per_million_tokens is None else f"{p.cost_per_million_tokens:.3f}",
                "" if p.joules_per_output_token is None else f"{p.joules_per_output_token:.3g}",
            )
        )
    render.table(
        ("#", "recipe", "GPU backend", "GPUs/replica", "at concurrency", f"per replica ({unit})",
         "replicas", "GPUs", "headroom", "cost/h", "cost/1M tok", "J/tok"),
        rows,
    )  # fmt: skip
    for n, p in enumerate(capacity.plans[:top], start=1):
        extra = f"; {'; '.join(p.derived)}" if p.derived else ""
        render.line(f"  {n}. evidence: {p.evidence_sentence()}{extra}")
    render.line(f"Launch the best: {_launch_line(capacity)}")
    for u in capacity.unplanned:
        render.note(
            f"not planned: {u.recipe_id} {u.backend} {u.gpus_per_replica} GPU ({u.hardware}): {u.reason}"
        )
    for text in capacity.notes:
        render.note(text)
