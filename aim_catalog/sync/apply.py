"""A sync from the catalog's side: the plan against what the catalog holds, then the write.

Nothing is lost: a recipe's own benchmark rows travel into its new version, a config
upstream no longer runs stays (disabled, said), and rows imported or measured into a config
stay with it. A recipe some of whose entries could not be read is left as the catalog has
it (and added, with what could be read, when the catalog has none). An InferenceX recipe
of the catalog that the checkout no longer has at all is retired (``status: retired``).
Every document is validated as ``ingest`` validates a file before anything is written, and
the catalog is written in one transaction (with ``out``: the files first, in one atomic
write, and the catalog then points at them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from aim_catalog.errors import InvalidRecipeInput, NoCatalog
from aim_catalog.notes import Note, quiet
from aim_catalog.recipes.export import NoAliasDumper
from aim_catalog.recipes.files import parse_bytes
from aim_catalog.recipes.format import RecipeDoc
from aim_catalog.recipes.provenance import recipe_source
from aim_catalog.storage.work import Work
from aim_catalog.sync.plan import Held, Plan, RecipeChange, differences, held_of

GENERATED_BY = "aim-catalog catalog sync inferencex"
ARCHIVE = "configs/deprecated/"
HEADER = "# Written by `aim-catalog catalog sync inferencex` from SemiAnalysis InferenceX\n"


def render(doc: dict[str, Any], header: str = HEADER) -> bytes:
    text = yaml.dump(doc, Dumper=NoAliasDumper, sort_keys=False, width=110, allow_unicode=False)
    return (header + text).encode("utf-8")


def sync_inferencex(
    work: Work,
    checkout_path: Path,
    *,
    dry_run: bool = False,
    out: Path | None = None,
    note: Note = quiet,
    generated_by: str = GENERATED_BY,
) -> Plan:
    """Plan a sync of the catalog with the InferenceX checkout at ``checkout_path``; unless
    ``dry_run``, write it (and, with ``out``, the recipe files)."""
    from aim_catalog.sync.inferencex.capture import bash
    from aim_catalog.sync.inferencex.checkout import Checkout
    from aim_catalog.sync.inferencex.convert import convert_checkout, document

    checkout = Checkout.open(checkout_path)
    bash()  # one clear line before any work when there is none
    try:
        held = _catalog(work)  # before the scripts run: a catalog that cannot be read fails fast
    except NoCatalog:
        if not dry_run:
            raise
        held = {}  # a dry run creates nothing: every recipe would be added
    note(f"reading {checkout_path} ({checkout.commit or 'no git metadata'}): running its AMD launch scripts")
    conversion = convert_checkout(checkout)
    plan = Plan(
        "InferenceX", str(checkout_path), checkout.commit, dry_run=dry_run, skipped=conversion.skipped
    )
    if checkout.commit is None:
        plan.notes.append("the checkout has no git metadata: the recipes record no commit")
    modified = (
        [f"read from a checkout of {checkout.commit[:12]} with local modifications (git status)"]
        if checkout.modified and checkout.commit
        else []
    )
    plan.notes += modified
    if checkout.models_md() is None:
        plan.notes.append("the checkout has no MODELS.md: retired recipes say no date")
    where = out if out is not None else Path(f"inferencex@{(checkout.commit or 'checkout')[:12]}")
    parsed: dict[str, RecipeDoc] = {}
    # An active master config that cannot be read may hold any entry: nothing may be retired
    # on the word of the archive (it repeats the active names) or of an absence.
    blind = [f"{path}: {why}" for path, why in conversion.unreadable.items() if not path.startswith(ARCHIVE)]
    for recipe_id, draft in sorted(conversion.drafts.items()):
        stored = held.get(recipe_id)
        unread = (
            [conversion.unread[e] for e in _entries(stored[1]) if e in conversion.unread] if stored else []
        )
        if (draft.failed or unread) and (stored is not None or not draft.configs):
            plan.failed[recipe_id] = list(dict.fromkeys([*draft.failed, *unread]))  # left as it is
            continue
        if blind and draft.configs and all(c.deprecated for c in draft.configs.values()):
            plan.failed[recipe_id] = [f"{b}; cannot tell whether it is still current" for b in blind]
            continue
        doc = document(
            draft, checkout.commit, generated_by, [*modified, *(f"not converted: {f}" for f in draft.failed)]
        )
        if stored is not None:
            _carry_over(doc, stored[1], plan.commit)
        recipe = _validated(doc, where / f"{recipe_id}.yaml", plan)
        if recipe is not None:
            parsed[recipe_id] = recipe
            _classify(plan, recipe, stored[0] if stored else None, doc)
    gone = sorted(rid for rid, (h, doc) in held.items() if _ours(doc) and rid not in conversion.drafts)
    for recipe_id in gone:
        old, doc = held[recipe_id]
        unread = [conversion.unread[e] for e in _entries(doc) if e in conversion.unread]
        unread += [
            f"{path}: {why}; the recipe came from it"
            for path, why in conversion.unreadable.items()
            if any(f.split("@")[0] == path for f in _files(doc))
        ]
        unread += [
            f"{e}: still in the checkout's configs, but no longer gives this recipe (its runner, "
            "framework or model changed)"
            for e in _entries(doc)
            if e in conversion.names and e not in conversion.unread
        ]
        unread += [f"{b}; cannot tell whether the recipe is gone" for b in blind]
        if unread:  # still upstream in a form not understood, or under another recipe: left alone
            plan.failed[recipe_id] = unread
            continue
        if old.status == "retired":
            plan.unchanged.append(recipe_id)
            continue
        doc = {k: v for k, v in doc.items() if k not in ("status", "retired_reason", "retired_on")}
        at = f"at {checkout.commit[:12]}" if checkout.commit else "in the checkout"
        doc = _with_status(doc, f"no longer in InferenceX's AMD master configs {at}")
        recipe = _validated(doc, where / f"{recipe_id}.yaml", plan)
        if recipe is not None:
            parsed[recipe_id] = recipe
            _classify(plan, recipe, old, doc)
    if dry_run or not plan.documents:
        return plan
    writes = [parsed[rid] for rid in sorted(plan.documents)]
    if out is not None:
        from aim_catalog.writing import write_files

        files = {f"{rid}.yaml": render(plan.documents[rid]) for rid in sorted(plan.documents)}
        plan.written = [str(p) for p in write_files(out, files)]
        writes = [_reparsed(out / name, data) for name, data in files.items()]
    from aim_catalog.recipes.ingest import ingest

    with work.write() as session:
        ingest(session, writes)
    return plan


def _ours(doc: dict[str, Any]) -> bool:
    from aim_catalog.sync.inferencex.checkout import REPOSITORY

    source = recipe_source(doc)
    return source is not None and source.get("repository") == REPOSITORY


def _entries(doc: dict[str, Any]) -> list[str]:
    return _strings(doc, "entries")


def _files(doc: dict[str, Any]) -> list[str]:
    return _strings(doc, "files")


def _strings(doc: dict[str, Any], key: str) -> list[str]:
    found = (recipe_source(doc) or {}).get(key)
    return [e for e in found if isinstance(e, str)] if isinstance(found, list) else []


def _with_status(doc: dict[str, Any], reason: str) -> dict[str, Any]:
    names: tuple[str, ...] = ("recipe_id", "model_id", "huggingface_id", "hardware", "precision")
    head: dict[str, Any] = {k: doc[k] for k in names if k in doc}
    rest = {k: v for k, v in doc.items() if k not in head}
    return {**head, "status": "retired", "retired_reason": reason, **rest}


def _classify(plan: Plan, recipe: RecipeDoc, old: Held | None, doc: dict[str, Any]) -> None:
    new = held_of(recipe)
    if old is None:
        plan.added.append(recipe.recipe_id)
    else:
        found = differences(old, new)
        if not found:
            plan.unchanged.append(recipe.recipe_id)
            return
        bucket = plan.retired if old.status != "retired" and new.status == "retired" else plan.changed
        bucket.append(RecipeChange(recipe.recipe_id, found))
    plan.documents[recipe.recipe_id] = doc


def _validated(doc: dict[str, Any], path: Path, plan: Plan) -> RecipeDoc | None:
    recipe, problems = parse_bytes(render(doc), str(path))
    if recipe is None:
        plan.failed[str(doc.get("recipe_id"))] = [f"the recipe it gives is invalid: {p}" for p in problems]
    return recipe


def _reparsed(path: Path, data: bytes) -> RecipeDoc:
    recipe, problems = parse_bytes(data, str(path))
    if recipe is None:  # pragma: no cover - validated above from the same bytes
        raise InvalidRecipeInput(problems)
    return recipe


def _carry_over(doc: dict[str, Any], stored: dict[str, Any], commit: str | None) -> None:
    """Into ``doc``, what the catalog's copy ``stored`` has that upstream does not give: its
    configs' own benchmark rows, and its configs upstream dropped (kept, disabled)."""
    notes = doc["source"].setdefault("notes", [])
    for section, configs in stored.items():
        if not section.endswith("_serve") or not isinstance(configs, dict):
            continue
        for gpus, body in configs.items():
            if not isinstance(body, dict):
                continue
            mine = doc.setdefault(section, {}).get(gpus)
            if mine is None:
                kept = {**body, "enabled": False}
                doc[section][gpus] = kept
                at = f" at {commit[:12]}" if commit else ""
                notes.append(
                    f"{section[: -len('_serve')]} {gpus}: InferenceX no longer runs this config{at}; "
                    "kept disabled with its measurements"
                )
            elif body.get("benchmarks") and "benchmarks" not in mine:
                mine["benchmarks"] = body["benchmarks"]


def _catalog(work: Work) -> dict[str, tuple[Held, dict[str, Any]]]:
    """Every recipe of the catalog as compared, with its stored document."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from aim_catalog.storage.models import Recipe

    out: dict[str, tuple[Held, dict[str, Any]]] = {}
    with work.read() as session:
        for recipe in session.scalars(select(Recipe).options(selectinload(Recipe.serve_configs))):
            configs = {
                (c.backend, c.gpu_count): {
                    "enabled": c.enabled,
                    "image": c.image,
                    "args": dict(c.args or {}),
                    "env": dict(c.env or {}),
                    "setup": list(c.setup or []),
                }
                for c in recipe.serve_configs
            }
            when = recipe.retired_on.isoformat() if recipe.retired_on else None
            held = Held(recipe.status, recipe.retired_reason, when, configs)
            out[recipe.recipe_id] = (held, dict(recipe.document or {}))
    return out
