"""Checking a loaded recipe document against the recipe format.

Every problem is reported as ``path:line:col``, the field path and what is wrong with it
(``checker``); a valid document becomes a ``RecipeDoc``. Benchmark rows are checked
by ``bench_rows``, AIM profile fields (``goal``, ``profile_type``,
``manual_selection_only``) here, ``source`` by ``provenance``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from aim_catalog.backends.envpolicy import SECRET_FLAG_PROBLEM, denied_reason, is_secret, is_secret_flag
from aim_catalog.backends.registry import BACKENDS
from aim_catalog.errors import Problem, shown
from aim_catalog.recipes import flaglint
from aim_catalog.recipes.bench_rows import benchmark_rows
from aim_catalog.recipes.checker import Checker, is_number, kind
from aim_catalog.recipes.flags import served_models, split_flag, value_problem
from aim_catalog.recipes.format import (
    CONFIG_FIELDS,
    GOALS,
    HARDWARE_RE,
    MODEL_ID_RE,
    PP_FLAGS,
    PRECISIONS,
    PROFILE_TYPES,
    RECIPE_ID_RE,
    REQUIRED_FIELDS,
    STATUS_FIELDS,
    TP_FLAGS,
    RecipeDoc,
    Scalar,
    ServeConfigSpec,
)
from aim_catalog.recipes.safe_yaml import Marks, Path_
from aim_catalog.recipes.setup import check_setup
from aim_catalog.recipes.status import check_status
from aim_catalog.settings import normalize_precision

_GPU_KEY = re.compile(r"^([1-9][0-9]{0,3})_gpu$")
_SERVE_KEY = re.compile(r"^([a-z0-9]+)_serve$")
_DIGITS = re.compile(r"[0-9]{1,6}")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_document(
    doc: Any, path: str, marks: Marks, sha256: str
) -> tuple[RecipeDoc | None, list[Problem]]:
    """Check a loaded document against the recipe format; return it parsed, or the problems."""
    ck = Checker(path, marks)
    top = ck.mapping(doc, ())
    if top is None:
        return None, ck.problems
    ck.control_characters(top, ())
    if ck.problems:
        return None, ck.problems
    _top_level_keys(ck, top)
    values = _required_values(ck, top)
    status, retired_reason, retired_on = check_status(ck.err, top)
    configs: list[ServeConfigSpec] = []
    for backend in BACKENDS:
        section_key = f"{backend}_serve"
        if section_key in top:
            configs.extend(_serve_section(ck, backend, top[section_key], (section_key,)))
    if values["huggingface_id"] is not None:
        for config in configs:
            _model_flag(ck, config, values["huggingface_id"], str(values["model_id"]))
    if ck.problems:
        return None, ck.problems
    line, col = marks.get(("recipe_id",), (1, 1))
    recipe = RecipeDoc(
        recipe_id=str(values["recipe_id"]),
        model_id=str(values["model_id"]),
        huggingface_id=str(values["huggingface_id"]),
        hardware=str(values["hardware"]).upper(),
        precision=str(values["precision"]),
        serve_configs=configs,
        document=top,
        path=path,
        sha256=sha256,
        line=line,
        col=col,
        status=status,
        retired_reason=retired_reason,
        retired_on=retired_on,
    )
    return recipe, []


def _top_level_keys(ck: Checker, top: dict[Any, Any]) -> None:
    """Only the required fields, the status fields, ``source`` and ``<backend>_serve`` sections
    of known backends."""
    for key in top:
        if key in REQUIRED_FIELDS or key in STATUS_FIELDS:  # status fields: status.check_status
            continue
        if key == "source":  # where the recipe's flags and numbers come from: provenance checks it
            from aim_catalog.recipes.provenance import check_source

            check_source(ck.err, top[key], (key,))
            continue
        serve = _SERVE_KEY.fullmatch(key) if isinstance(key, str) else None
        if serve is None:
            ck.err(
                (key,),
                f"unknown top-level key {shown(key)}; "
                f"expected {', '.join(REQUIRED_FIELDS + STATUS_FIELDS)}, source or <backend>_serve",
            )
        elif serve.group(1) not in BACKENDS:
            ck.err((key,), f"unknown backend {shown(serve.group(1))}; known: {', '.join(BACKENDS)}")


def _required_values(ck: Checker, top: dict[Any, Any]) -> dict[str, str | None]:
    """The required fields' values (None where missing or invalid); precision normalized."""
    values: dict[str, str | None] = {}
    for name in REQUIRED_FIELDS:
        if name not in top:
            ck.err((), f"missing required field {shown(name)}")
            values[name] = None
            continue
        pattern = {"recipe_id": RECIPE_ID_RE, "hardware": HARDWARE_RE}.get(name)
        if name in ("model_id", "huggingface_id"):
            pattern = MODEL_ID_RE
        values[name] = ck.text(top[name], (name,), pattern)
    precision = values["precision"]
    if precision is not None:  # one name per precision: fp4 is stored as mxfp4
        precision = values["precision"] = normalize_precision(precision)
    if precision is not None and precision not in PRECISIONS:
        ck.err(("precision",), f"unknown precision {shown(precision)}; known: {', '.join(PRECISIONS)}")
    return values


def _model_flag(ck: Checker, config: ServeConfigSpec, huggingface_id: str, model_id: str) -> None:
    """A config may name the model only as the recipe does: a ``--model other/model`` in a
    shared catalog would otherwise make a launch of one model serve another (with the
    operator's HF_TOKEN). An AIM profile serves its ``model_id`` (the weights AMD's AIM
    catalog maps its ``aim_id`` to), so there that one is allowed too."""
    from aim_catalog.backends import registry as backends

    allowed = served_models(huggingface_id, model_id, config.profile_type)
    for flag in backends.model_flags(config.backend):
        if flag in config.args and str(config.args[flag]) not in allowed:
            where = (f"{config.backend}_serve", f"{config.gpu_count}_gpu", "args")
            written = [
                p[-1]
                for p in ck.marks
                if p[:-1] == where and isinstance(p[-1], str) and p[-1].partition("=")[0] == flag
            ]
            ck.err(
                (*where, written[0] if written else flag),
                f"names the model {shown(config.args[flag])}, not the recipe's huggingface_id "
                f"{shown(huggingface_id)}; a config serves its recipe's model",
            )


def _serve_section(ck: Checker, backend: str, section: Any, where: Path_) -> list[ServeConfigSpec]:
    mapping = ck.mapping(section, where)
    if mapping is None:
        return []
    out = []
    for key, body in mapping.items():
        match = _GPU_KEY.fullmatch(key) if isinstance(key, str) else None
        if match is None:
            ck.err((*where, key), f"{shown(key)} is not a '<N>_gpu' key with N a positive integer")
            continue
        spec = _serve_config(ck, backend, int(match.group(1)), body, (*where, key))
        if spec is not None:
            out.append(spec)
    return out


def _serve_config(ck: Checker, backend: str, gpus: int, body: Any, where: Path_) -> ServeConfigSpec | None:
    config = ck.mapping(body, where)
    if config is None:
        return None
    before = len(ck.problems)
    for key in config:
        if key not in CONFIG_FIELDS:
            ck.err((*where, key), f"unknown key {shown(key)}; expected one of {', '.join(CONFIG_FIELDS)}")
    enabled = config.get("enabled")
    if "enabled" not in config:
        ck.err(where, "missing required field 'enabled'")
    elif not isinstance(enabled, bool):
        ck.err((*where, "enabled"), f"must be true or false, got {kind(enabled)}")
    args = _args(ck, config.get("args"), (*where, "args"), gpus)
    args = flaglint.normalize(backend, args)[0]  # canonical spellings: --tp -> --tp-size (SGLang)
    env = _env(ck, config.get("env"), (*where, "env"))
    image = config.get("image")
    if image is not None:
        image = ck.text(image, (*where, "image"))
        if image is not None and any(c.isspace() for c in image):
            ck.err((*where, "image"), f"image reference {shown(image)} contains white space")
    setup = check_setup(ck.err, config.get("setup"), (*where, "setup"))
    benchmarks = benchmark_rows(ck, config.get("benchmarks"), (*where, "benchmarks"))
    goal, profile_type, manual = check_profile_fields(ck.err, config, where)
    if len(ck.problems) != before:
        return None
    return ServeConfigSpec(
        backend, gpus, bool(enabled), args, env, image, benchmarks, goal, profile_type, manual, setup
    )


def _args(ck: Checker, value: Any, where: Path_, gpus: int) -> dict[str, Scalar]:
    args = ck.optional_mapping(value, where)
    out: dict[str, Scalar] = {}
    written: dict[str, Any] = {}  # split key -> the key as the file wrote it (for locations)
    for flag, arg in args.items():
        if not isinstance(flag, str) or not flag.startswith("-") or any(c.isspace() for c in flag):
            ck.err((*where, flag), f"server flag {shown(flag)} must start with '-' and have no spaces")
            continue
        if isinstance(arg, (dict, list)):
            ck.err((*where, flag), f"flag value must be a scalar, got {kind(arg)}")
            continue
        refused = value_problem(arg)
        if refused is not None:
            ck.err((*where, flag), refused)
            continue
        key, arg, problem = split_flag(flag, arg)  # --port=9999 is --port: the launcher's checks apply
        if problem is not None:
            ck.err((*where, flag), problem)
        elif key in written:
            ck.err((*where, flag), f"{shown(key)} is given twice (also as {shown(written[key])})")
        elif is_secret_flag(key) and arg not in (None, True, False):
            ck.err((*where, flag), SECRET_FLAG_PROBLEM.format(flag=key))
        else:
            out[key], written[key] = arg, flag
    tp = _parallel(ck, out, TP_FLAGS, where, written)
    pp = _parallel(ck, out, PP_FLAGS, where, written)
    if tp is not None and pp is not None and tp[1] * pp[1] > gpus:
        ck.err(
            (*where, written.get(tp[0], tp[0])),
            f"tensor x pipeline parallel size {tp[1]} x {pp[1]} = {tp[1] * pp[1]} exceeds {gpus} GPU(s)",
        )
    return out


def _parallel(
    ck: Checker, args: dict[Any, Any], flags: Iterable[str], where: Path_, written: dict[str, Any]
) -> tuple[str, int] | None:
    found = [f for f in flags if f in args]
    if len(found) > 1:
        ck.err((*where, written.get(found[1], found[1])), f"{found[0]} and {found[1]} both given")
        return None
    if not found:
        return (next(iter(flags)), 1)
    raw = args[found[0]]
    size = raw if is_number(raw) else None
    if isinstance(raw, str) and _DIGITS.fullmatch(raw.strip()):
        size = int(raw)
    if not isinstance(size, int) or size < 1:
        ck.err((*where, written.get(found[0], found[0])), f"must be a positive integer, got {shown(raw)}")
        return None
    return found[0], size


def _env(ck: Checker, value: Any, where: Path_) -> dict[str, str]:
    env = ck.optional_mapping(value, where)
    out: dict[str, str] = {}
    for name, val in env.items():
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
            ck.err((*where, name), f"{shown(name)} is not a valid environment variable name")
        elif is_secret(name):
            ck.err(
                (*where, name),
                f"{name} looks like a secret; pass it from the host environment, never in a recipe",
            )
        elif denied_reason(name) is not None:
            ck.err(
                (*where, name),
                f"{name} {denied_reason(name)}; a recipe may not set it (an operator can: launch --env)",
            )
        elif isinstance(val, (dict, list)) or val is None:
            ck.err((*where, name), f"must be a string or number, got {kind(val)}")
        else:
            out[name] = str(val).lower() if isinstance(val, bool) else str(val)
    return out


def check_profile_fields(
    err: Callable[[tuple[Any, ...], str], None], config: dict[str, Any], where: tuple[Any, ...]
) -> tuple[str | None, str | None, bool]:
    """A serve config's optional profile fields: ``goal``, ``profile_type``, ``manual_selection_only``."""
    goal = config.get("goal")
    if goal is not None and goal not in GOALS:
        err((*where, "goal"), f"must be one of {', '.join(GOALS)}, got {shown(goal)}")
        goal = None
    kind = config.get("profile_type")
    if kind is not None and kind not in PROFILE_TYPES:
        err((*where, "profile_type"), f"must be one of {', '.join(PROFILE_TYPES)}, got {shown(kind)}")
        kind = None
    manual = config.get("manual_selection_only", False)
    if not isinstance(manual, bool):
        err((*where, "manual_selection_only"), f"must be true or false, got {shown(manual)}")
        manual = False
    return goal, kind, manual
