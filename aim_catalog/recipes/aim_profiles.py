"""AMD AIM runtime profiles as catalog recipes.

AIM (AMD Inference Microservices, github.com/amd-enterprise-ai/aim-build, format of tag 0.9:
``schemas/general_profile_schema.json`` and ``model_profile_schema.json``) describes each
tuned configuration as one *profile* file, ``profiles/<org>/<model>/<engine>-<gpu>-
<precision>-tp<N>-<metric>.yaml``::

    aim_id: meta-llama/Llama-3.1-8B-Instruct      # what users ask for (absent: a general profile)
    model_id: amd/Llama-3.1-8B-Instruct-FP8-KV    # the weights served
    metadata: {engine: vllm, gpu: MI300X, gpu_count: 1, precision: fp8, metric: latency,
               type: optimized, manual_selection_only: false}
    engine_args: {max-model-len: 32768, no-enable-prefix-caching: null, ...}   # flags without --
    env_vars: {VLLM_ROCM_USE_AITER: '1'}

Each profile file becomes one recipe (file and recipe stay one to one, so re-ingest and
--prune work as for recipes) with one serve config, keeping ``metric`` as the config's goal,
``type`` and ``manual_selection_only``. Its ``recipe_id`` is the profile's id: ``aim-`` +
the aim_id (or ``general``) + the file name, so the latency and the throughput profile of
one engine/GPU/precision/TP are both kept. General profiles (no aim_id) are stored under
``GENERAL_MODEL`` and answer only for models no recipe names (``select`` says so).

The profile is converted to the recipe format and checked by the recipe validator, so the
same rules apply (secret or denied env, parallel sizes, control characters), with problems
reported at the profile's own lines and fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from aim_catalog.errors import Problem, shown
from aim_catalog.recipes.format import GOALS, PROFILE_TYPES
from aim_catalog.settings import GENERAL_MODEL

METADATA_FIELDS = ("engine", "gpu", "gpu_count", "precision", "metric", "type", "manual_selection_only")
TOP_FIELDS = ("aim_id", "model_id", "metadata", "engine_args", "env_vars")

Err = Callable[[tuple[Any, ...], str], None]


def looks_like_profile(doc: Any) -> bool:
    return isinstance(doc, dict) and "metadata" in doc and "engine_args" in doc and "recipe_id" not in doc


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.")


def profile_id(doc: dict[str, Any], path: str) -> str:
    """``aim-<aim_id>-<file stem>`` (``aim-custom-...`` for profiles under ``custom/``)."""
    stem = re.sub(r"\.ya?ml$", "", path.replace("\\", "/").rsplit("/", 1)[-1])
    owner = doc.get("aim_id") if isinstance(doc.get("aim_id"), str) else "general"
    custom = "custom-" if "/custom/" in path.replace("\\", "/") else ""
    return _slug(f"aim-{custom}{owner}-{stem}")[:200]


def _value(value: Any) -> Any:
    """An engine_args value as a recipe flag value: null -> bare flag, a mapping -> JSON."""
    if value is None:
        return True
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return value


Marks = dict[Any, tuple[int, int]]


def to_recipe(
    doc: dict[str, Any], path: str, marks: Marks
) -> tuple[dict[str, Any] | None, Marks, dict[str, str], list[Problem]]:
    """The recipe document for a profile, its marks, field renames for messages, and the
    problems of the profile's own fields (metadata, aim_id/model_id)."""
    from aim_catalog.recipes.checker import locate

    problems: list[Problem] = []

    def err(where: tuple[Any, ...], message: str) -> None:
        line, col = locate(marks, where)
        field = ".".join(str(p) for p in where)
        problems.append(Problem(path, line, col, field, message))

    for key in doc:
        if key not in TOP_FIELDS:
            err((key,), f"unknown profile key {shown(key)}; expected {', '.join(TOP_FIELDS)}")
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        err(("metadata",), "must be a mapping")
        return None, {}, {}, problems
    _check_metadata(meta, err)
    general = "aim_id" not in doc and "model_id" not in doc
    if not general:
        for key in ("aim_id", "model_id"):
            if not isinstance(doc.get(key), str):
                err((key,) if key in doc else (), f"a model profile needs {key} (a general one has neither)")
    args = doc.get("engine_args")
    env = doc.get("env_vars") or {}
    if not isinstance(args, dict):
        err(("engine_args",), "must be a mapping of flag names (without --) to values")
    if not isinstance(env, dict):
        err(("env_vars",), "must be a mapping")
    if problems or not isinstance(args, dict):
        return None, {}, {}, problems
    section, gpus = f"{meta['engine']}_serve", f"{meta['gpu_count']}_gpu"
    recipe = _recipe_document(doc, path, meta, args, env, general)
    renames = {f"{section}.{gpus}.args.--": "engine_args.", f"{section}.{gpus}.env.": "env_vars."}
    return recipe, _recipe_marks(marks, section, gpus), renames, []


def _check_metadata(meta: dict[str, Any], err: Err) -> None:
    for key in METADATA_FIELDS:
        if key not in meta:
            err(("metadata",), f"missing required field {shown(key)}")
    for key in meta:
        if key not in METADATA_FIELDS:
            err(("metadata", key), f"unknown metadata field {shown(key)}")
    from aim_catalog.backends.registry import BACKENDS

    engine, gpu, count = meta.get("engine"), meta.get("gpu"), meta.get("gpu_count")
    if "engine" in meta and engine not in BACKENDS:
        err(("metadata", "engine"), f"unknown engine {shown(engine)}; known: {', '.join(BACKENDS)}")
    if "gpu" in meta and (not isinstance(gpu, str) or not re.fullmatch(r"[A-Za-z0-9]{1,32}", gpu)):
        err(("metadata", "gpu"), f"must be a GPU model name such as MI300X, got {shown(gpu)}")
    bad_count = not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1024
    if "gpu_count" in meta and bad_count:
        err(("metadata", "gpu_count"), f"must be a positive integer, got {shown(count)}")
    if "metric" in meta and meta["metric"] not in GOALS:
        err(("metadata", "metric"), f"must be one of {', '.join(GOALS)}, got {shown(meta['metric'])}")
    if "type" in meta and meta["type"] not in PROFILE_TYPES:
        err(("metadata", "type"), f"must be one of {', '.join(PROFILE_TYPES)}, got {shown(meta['type'])}")
    if "manual_selection_only" in meta and not isinstance(meta["manual_selection_only"], bool):
        err(("metadata", "manual_selection_only"), "must be true or false")


def _recipe_document(
    doc: dict[str, Any],
    path: str,
    meta: dict[str, Any],
    args: dict[Any, Any],
    env: dict[Any, Any],
    general: bool,
) -> dict[str, Any]:
    """The recipe a checked profile stands for: one serve config of its engine and GPU count."""
    flags = {f"--{name}" if isinstance(name, str) else name: _value(v) for name, v in args.items()}
    model = GENERAL_MODEL if general else str(doc["aim_id"])
    served = None if general else str(doc["model_id"])
    if served and served != model:
        flags = {"--model": served, **flags}  # the weights AIM serves for this aim_id
    return {
        "recipe_id": profile_id(doc, path),
        "model_id": served or model,
        "huggingface_id": model,
        "hardware": meta["gpu"],
        "precision": meta["precision"],
        f"{meta['engine']}_serve": {
            f"{meta['gpu_count']}_gpu": {
                "enabled": True,
                "args": flags,
                "env": env,
                "goal": meta["metric"],
                "profile_type": meta["type"],
                "manual_selection_only": meta["manual_selection_only"],
            }
        },
    }


def _recipe_marks(marks: Marks, section: str, gpus: str) -> Marks:
    """The profile's marks under the recipe's field paths: problems point into the profile."""
    base = (section, gpus)
    new_marks: dict[Any, tuple[int, int]] = {(): marks.get((), (1, 1))}
    for key in ("recipe_id", "model_id", "huggingface_id"):
        new_marks[(key,)] = marks.get(("aim_id",), marks.get(("metadata",), (1, 1)))
    new_marks[("hardware",)] = marks.get(("metadata", "gpu"), (1, 1))
    new_marks[("precision",)] = marks.get(("metadata", "precision"), (1, 1))
    new_marks[(section,)] = new_marks[base] = marks.get(("metadata",), (1, 1))
    new_marks[(*base, "args")] = marks.get(("engine_args",), (1, 1))
    new_marks[(*base, "env")] = marks.get(("env_vars",), (1, 1))
    for mark, where in marks.items():
        if len(mark) >= 2 and mark[0] == "engine_args":
            new_marks[(*base, "args", f"--{mark[1]}", *mark[2:])] = where
        elif len(mark) >= 2 and mark[0] == "env_vars":
            new_marks[(*base, "env", *mark[1:])] = where
    return new_marks


def parse_profile(
    doc: dict[str, Any], path: str, marks: dict[Any, tuple[int, int]], sha256: str
) -> tuple[Any, list[Problem]]:
    """A profile file as a ``RecipeDoc`` (or its problems, located in the profile)."""
    from dataclasses import replace

    from aim_catalog.recipes.validate import validate_document

    recipe, new_marks, renames, problems = to_recipe(doc, path, marks)
    if recipe is None:
        return None, problems
    parsed, problems = validate_document(recipe, path, new_marks, sha256)
    if problems:
        out = []
        for p in problems:
            field = p.field
            for old, new in renames.items():
                field = field.replace(old, new)
            out.append(replace(p, field=field))
        return None, out
    assert parsed is not None
    return replace(parsed, document=doc, general=recipe["huggingface_id"] == GENERAL_MODEL), []
