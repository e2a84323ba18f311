"""What the catalog has for a model: its configs, the original AIM Engine's "supported
configurations" lines, the message when nothing suits a request, and recipe summaries."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select

from aim_catalog.backends.registry import BACKEND_LABELS, BACKENDS
from aim_catalog.selection.request import ConfigLine, Executor, Request
from aim_catalog.storage import tables


def backend_label(backend: str) -> str:
    return BACKEND_LABELS.get(backend, backend)


def configurations(session: Executor, model: str) -> list[ConfigLine]:
    r, sc = tables.recipes, tables.serve_configs
    rows = session.execute(
        select(
            r.c.recipe_id,
            r.c.hardware,
            r.c.precision,
            sc.c.backend,
            sc.c.gpu_count,
            sc.c.enabled,
            sc.c.manual_only,
            r.c.status,
        )
        .select_from(r.join(sc, sc.c.recipe_pk == r.c.id))
        .where(r.c.huggingface_id == model)
    ).all()
    order = {name: i for i, name in enumerate(BACKENDS)}
    lines = [ConfigLine(*row[:6], manual_only=bool(row.manual_only), status=row.status) for row in rows]
    return sorted(lines, key=lambda c: (order.get(c.backend, 99), c.precision, c.gpu_count, c.recipe_id))


def supported_configurations(
    session: Executor, model: str, configs: list[ConfigLine] | None = None
) -> list[str]:
    """AIM Engine's lines: ``- 4 GPU, bf16, vLLM: ✅ Enabled`` (one per distinct config);
    a config enabled only as manual-selection-only AIM profiles says ``(only with --recipe)``;
    one whose every enabled recipe upstream retired says ``(retired upstream)``. ``configs``:
    the model's ``configurations``, when the caller has read them already."""
    merged: dict[tuple[str, str, int], tuple[bool, bool, bool]] = {}
    for c in configurations(session, model) if configs is None else configs:
        key = (c.backend, c.precision, c.gpu_count)
        automatic, pinned, current = merged.get(key, (False, False, False))
        merged[key] = (
            automatic or (c.enabled and not c.manual_only),
            pinned or c.enabled,
            current or (c.enabled and c.status == "current"),
        )
    if not merged:
        return []
    lines = [f"{model} supported configurations:"]
    for (backend, precision, gpus), (automatic, enabled, current) in merged.items():
        state = "✅ Enabled" if automatic else "✅ Enabled (only with --recipe)" if enabled else "❌ Disabled"
        retired = " (retired upstream)" if enabled and not current else ""
        lines.append(f"- {gpus} GPU, {precision}, {backend_label(backend)}: {state}{retired}")
    return lines


def no_match_message(session: Executor, request: Request, configs: list[ConfigLine] | None = None) -> str:
    """The seed's message and supported configurations, plus a hint when the hardware filter,
    not the configurations, is what ruled every recipe out (``configs``: as above)."""
    model = request.model
    configs = configurations(session, model) if configs is None else configs
    text = f"No suitable recipe found for {model}"
    if request.recipe is not None and request.recipe not in {c.recipe_id for c in configs}:
        r = tables.recipes
        owner = session.execute(select(r.c.huggingface_id).where(r.c.recipe_id == request.recipe)).scalar()
        if owner is None:
            text += f" (no such recipe: {request.recipe}; `aim-catalog list-recipes` shows the catalog's)"
        else:
            text += f" (the pinned recipe {request.recipe} is one of {owner}'s, not {model}'s)"
    if not configs:
        return (
            text + f"\n(the catalog has no recipe for {model}; `aim-catalog list-recipes` shows what it has)"
        )
    text += "\n" + "\n".join(supported_configurations(session, model, configs))
    if request.hardware is not None:
        wanted = request.hardware.upper()
        kinds = sorted({c.hardware for c in configs})
        if wanted not in kinds:
            text += (
                f"\n(hardware {wanted} was required, from this host's GPUs or --hardware; this model's "
                f"recipes are for {', '.join(kinds)}: --hardware any lifts the filter)"
            )
    return text


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; the catalog stores UTC, so say so."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class RecipeSummary:
    recipe_id: str
    model_id: str
    huggingface_id: str
    hardware: str
    precision: str
    source_path: str | None
    configs: list[dict[str, Any]]
    benchmarks: int
    updated_at: str
    status: str = "current"  # current | retired (upstream no longer runs it)
    retired_reason: str | None = None
    retired_on: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_recipes(session: Executor, model: str | None = None) -> list[RecipeSummary]:
    r, sc, b = tables.recipes, tables.serve_configs, tables.benchmarks
    bench_count = select(func.count(b.c.id)).where(b.c.serve_config_id == sc.c.id).scalar_subquery()
    query = (
        select(r, sc.c.backend, sc.c.gpu_count, sc.c.enabled, bench_count.label("n_bench"))
        .select_from(r.outerjoin(sc, sc.c.recipe_pk == r.c.id))
        .order_by(r.c.recipe_id, sc.c.backend, sc.c.gpu_count)
    )
    if model is not None:
        query = query.where(r.c.huggingface_id == model)
    by_recipe: dict[str, list[Any]] = {}
    for row in session.execute(query):
        by_recipe.setdefault(row.recipe_id, []).append(row)
    return [_summary(rows) for rows in by_recipe.values()]


def _summary(rows: list[Any]) -> RecipeSummary:
    """One recipe's rows (one per config, or one without a config) as its summary."""
    first = rows[0]
    configured = [row for row in rows if row.backend is not None]
    return RecipeSummary(
        first.recipe_id,
        first.model_id,
        first.huggingface_id,
        first.hardware,
        first.precision,
        first.source_path,
        [
            {"backend": row.backend, "gpu_count": row.gpu_count, "enabled": bool(row.enabled)}
            for row in configured
        ],
        sum(row.n_bench or 0 for row in configured),
        _utc(first.updated_at).isoformat(),
        first.status,
        first.retired_reason,
        first.retired_on.isoformat() if first.retired_on else None,
    )


def models(session: Executor) -> list[str]:
    """The Hugging Face ids the catalog has recipes for, sorted."""
    ids = session.execute(select(tables.recipes.c.huggingface_id).distinct())
    return sorted(str(m) for (m,) in ids)
