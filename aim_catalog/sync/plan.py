"""What a sync would do to the catalog: recipes added, changed, retired, unchanged, failed.

A recipe is compared with the catalog's copy as the catalog holds it (validated, flags in
their canonical spelling): per serve config its image, flags, environment, setup steps and
whether it is enabled, and the recipe's status. Every difference is one ``Difference``
(``vllm 8 GPU: image a -> b``), so the plan reads as a diff and ``--json`` gives the same
lists. Pure data: ``apply`` fills it from the catalog and writes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from aim_catalog.recipes.format import RecipeDoc


@dataclass(frozen=True)
class Difference:
    where: str  # "vllm 8 GPU", or "recipe"
    what: str  # image | args | env | setup | enabled | config | status
    name: str | None  # the flag or variable, where one
    old: Any
    new: Any

    def line(self) -> str:
        subject = f"{self.what} {self.name}" if self.name else self.what
        if self.what == "config":
            return f"{self.where}: {self.new}"
        if self.old is None:
            return f"{self.where}: {subject} added: {_shown(self.new)}"
        if self.new is None:
            return f"{self.where}: {subject} removed (was {_shown(self.old)})"
        return f"{self.where}: {subject} {_shown(self.old)} -> {_shown(self.new)}"


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value)) or "none"
    return str(value)


@dataclass(frozen=True)
class RecipeChange:
    recipe_id: str
    differences: list[Difference]

    def as_dict(self) -> dict[str, Any]:
        return {"recipe_id": self.recipe_id, "changes": [asdict(d) for d in self.differences]}


@dataclass
class Plan:
    upstream: str
    checkout: str
    commit: str | None
    added: list[str] = field(default_factory=list)
    changed: list[RecipeChange] = field(default_factory=list)
    retired: list[RecipeChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)  # recipe_id -> why (left as it is)
    skipped: list[str] = field(default_factory=list)  # upstream entries that are not ours to read
    notes: list[str] = field(default_factory=list)
    dry_run: bool = True
    written: list[str] = field(default_factory=list)  # files written with --out
    # recipe_id -> the document to write (added, changed, retired)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.retired)} retired, "
            f"{len(self.unchanged)} unchanged, {len(self.failed)} not read"
        )
        return text + (" (dry run: nothing written)" if self.dry_run else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "upstream": self.upstream,
            "checkout": self.checkout,
            "commit": self.commit,
            "dry_run": self.dry_run,
            "added": self.added,
            "changed": [c.as_dict() for c in self.changed],
            "retired": [c.as_dict() for c in self.retired],
            "unchanged": self.unchanged,
            "failed": [{"recipe_id": k, "reasons": v} for k, v in sorted(self.failed.items())],
            "skipped": self.skipped,
            "notes": self.notes,
            "written": self.written,
        }


@dataclass(frozen=True)
class Held:
    """The catalog's copy of a recipe, as compared: per (backend, GPUs) its config fields."""

    status: str
    retired_reason: str | None
    retired_on: str | None
    configs: dict[tuple[str, int], dict[str, Any]]


def held_of(recipe: RecipeDoc) -> Held:
    """A validated recipe document in the form the catalog's copy is compared in."""
    return Held(
        recipe.status,
        recipe.retired_reason,
        recipe.retired_on.isoformat() if recipe.retired_on else None,
        {
            (c.backend, c.gpu_count): {
                "enabled": c.enabled,
                "image": c.image,
                "args": dict(c.args),
                "env": dict(c.env),
                "setup": list(c.setup),
            }
            for c in recipe.serve_configs
        },
    )


def differences(old: Held, new: Held) -> list[Difference]:
    out: list[Difference] = []
    if (old.status, old.retired_on) != (new.status, new.retired_on):
        out.append(Difference("recipe", "status", None, _status(old), _status(new)))
    elif old.retired_reason != new.retired_reason and new.status == "retired":
        out.append(Difference("recipe", "retired_reason", None, old.retired_reason, new.retired_reason))
    for key in sorted(set(old.configs) | set(new.configs)):
        where = f"{key[0]} {key[1]} GPU"
        before, after = old.configs.get(key), new.configs.get(key)
        if before is None:
            out.append(Difference(where, "config", None, None, "new config"))
            continue
        if after is None:
            out.append(Difference(where, "config", None, "config", "no longer upstream"))
            continue
        for what in ("enabled", "image", "setup"):
            if before[what] != after[what]:
                out.append(Difference(where, what, None, before[what], after[what]))
        for what in ("args", "env"):
            for name in sorted(set(before[what]) | set(after[what])):
                if before[what].get(name) != after[what].get(name):
                    out.append(Difference(where, what, name, before[what].get(name), after[what].get(name)))
    return out


def _status(held: Held) -> str:
    if held.status != "retired":
        return held.status
    return f"retired on {held.retired_on}" if held.retired_on else "retired"
