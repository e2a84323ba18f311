"""Selection commands: ``select`` (the best config) and ``explain`` (why every other lost)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from aim_catalog.backends.registry import BACKEND_LABELS
from aim_catalog.cli.app import app, catalog_of, describe_request
from aim_catalog.cli.selection_opts import selection_options

if TYPE_CHECKING:
    from aim_catalog.selection.options import SelectionOptions
    from aim_catalog.selection.request import Candidate, Request


@app.command("select")
@selection_options()
def select_cmd(
    ctx: typer.Context,
    selection: SelectionOptions,
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
    from aim_catalog.cli import render
    from aim_catalog.selection.best import goal_note

    catalog = catalog_of(ctx)
    request = catalog.request(selection, note=render.note)
    chosen = catalog.select(request)
    alternative = catalog.single_copy(request, chosen) if not as_json else None
    note = goal_note(request, chosen)
    if note:
        render.note(note)
    if as_json:
        from aim_catalog.selection.evidence import evidence_of

        render.emit_json(
            {**chosen.as_dict(), "retired": chosen.retired, "evidence": evidence_of(chosen).as_dict()}
        )
        return
    _show_choice(request, chosen, alternative)


def _show_choice(request: Request, chosen: Candidate, alternative: Candidate | None) -> None:
    from aim_catalog.backends.server_args import server_argv
    from aim_catalog.cli import render

    label = BACKEND_LABELS.get(chosen.backend, chosen.backend)
    render.line(
        f"Selected {chosen.recipe_id} for {chosen.huggingface_id}: "
        f"{chosen.gpu_count} GPU, {chosen.precision}, {label} on {chosen.hardware}"
    )
    if chosen.retired:
        render.line(f"  status: {chosen.retired} (--current-only leaves it out)")
    if chosen.fallback:
        render.line(f"  fallback: a general AIM profile (no recipe names {chosen.huggingface_id})")
    if chosen.any_backend:
        from aim_catalog.selection.fallback import no_default_backend

        render.line(f"  backend: {label}, the best of its backends ({no_default_backend(chosen)})")
    if chosen.goal or chosen.profile_type:
        render.line(f"  profile: {chosen.profile_type or '-'}, tuned for {chosen.goal or '-'}")
    if request.gpus is None:
        among = "the counts that fit" if request.host is not None else "every count (host GPUs unknown)"
        render.line(f"  GPU count: {chosen.gpu_count} won among {among}, per GPU")
    if chosen.replicas is not None:
        render.line("  host:   " + _replica_text(chosen, alternative))
    _show_score(request, chosen)
    render.line(f"  image:  {chosen.image or '(backend default)'}")
    render.line(f"  args:   {' '.join(server_argv(chosen.args))}")
    if chosen.setup:
        render.line(f"  setup:  {'; '.join(chosen.setup)} (runs in the container before the server)")


def _show_score(request: Request, chosen: Candidate) -> None:
    from aim_catalog.cli import render
    from aim_catalog.selection.compare import comparison_sentence
    from aim_catalog.selection.evidence import evidence_of
    from aim_catalog.selection.ranking import order_keys

    compared = comparison_sentence(chosen.comparison)
    if compared:
        render.line(f"  {compared}")
    if chosen.score is None:
        why = chosen.unreached or "no benchmark"
        render.line(f"  score:  {why} (order: {order_keys(request)})")
        return
    bench = chosen.benchmark or {}
    point = chosen.operating_point
    keys = ("input_len", "output_len") if point else ("input_len", "output_len", "concurrency")
    scenario = ", ".join(f"{k} {bench[k]}" for k in keys if bench.get(k))
    fallback = " (the row has no output_throughput)" if chosen.metric != request.metric else ""
    render.line(f"  score:  {chosen.metric} {chosen.score:g}{fallback}")
    if point:
        render.line(f"  operating point: {_point_text(point, chosen.metric)}")
    if scenario:
        render.line(f"  scenario: {scenario}{_scenario_note(chosen)}")
    said = evidence_of(chosen)
    if said.source:
        render.line(f"  source: {said.source}")
    if said.sentence():
        render.line(f"  evidence: {said.sentence()}")
    if point and point.get("warning"):
        render.line(f"  note: {point['warning']}")


def _point_text(point: dict[str, Any], metric: str | None) -> str:
    """``concurrency 48 (interpolated between 32 and 64): 3,026 tok/s (378 per GPU), TTFT p99
    ...``: the operating point's figures, each one only when the rows have it."""
    where = f"concurrency {point['concurrency']:g}"
    if point["between"]:
        low, high = point["between"]
        where += f" (interpolated between {low:g} and {high:g})"
    else:
        where += " (measured)"
    parts = [f"{_rate(point['throughput'], metric)} ({_rate(point['throughput_per_gpu'], metric)} per GPU)"]
    p = point["percentile"]
    for name, label in (("ttft_ms", "TTFT"), ("tpot_ms", "TPOT"), ("e2el_ms", "E2EL")):
        if point[name] is not None:
            parts.append(f"{label} {p} {point[name]:,.1f} ms")
    if point["interactivity"] is not None:
        parts.append(f"{point['interactivity']:,.1f} tok/s per user")
    if point["power_w_per_gpu"] is not None:
        parts.append(f"{point['power_w_per_gpu']:,.0f} W per GPU")
    return f"{where}: " + ", ".join(parts)


@app.command("explain")
@selection_options(model_help="Hugging Face model id.")
def explain_cmd(
    ctx: typer.Context,
    selection: SelectionOptions,
    as_json: bool = typer.Option(False, "--json", help="Print the verdicts as JSON."),
) -> None:
    """Show every recipe of a model with its verdict: chosen, ranked k of n, or why not.

    Exits 3, like select, when no recipe qualifies.

    \b
    Example: aim-catalog explain amd/Llama-3.1-405B-Instruct-FP8-KV 8 --precision fp8
    """
    from aim_catalog.cli import render
    from aim_catalog.errors import NoSuitableRecipe

    explained = catalog_of(ctx).explain(selection, note=render.note)
    verdicts, request = explained.verdicts, explained.request
    if verdicts and as_json:
        render.emit_json({"request": describe_request(request), "verdicts": [v.as_dict() for v in verdicts]})
    elif verdicts:
        render.line(f"Explain {describe_request(request)}:")
        rows = [
            (
                v.recipe_id,
                v.backend or "",
                v.gpu_count or "",
                v.verdict,
                v.image or "",
                f"{v.reason}; {v.retired}" if v.retired else v.reason,
            )
            for v in verdicts
        ]
        render.table(("recipe", "backend", "GPUs", "verdict", "image", "reason"), rows)
    if explained.no_match is not None:  # the same exit code select gives, after the explanation
        raise NoSuitableRecipe(explained.no_match)


def _scenario_note(chosen: Candidate) -> str:
    asked = chosen.scenario or {}
    if not asked.get("default") or all(asked.get(name) is None for name in asked["default"]):
        return ""
    return " (the scenario most candidates have rows for; --input-len/--output-len choose one)"


def _rate(value: float, metric: str | None) -> str:
    """A throughput with its unit: requests/s keep a decimal, tokens/s are whole."""
    if metric == "request_throughput":
        return f"{value:,.1f} req/s"
    return f"{value:,.0f} tok/s"


def _replica_text(chosen: Candidate, alternative: Candidate | None) -> str:
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
