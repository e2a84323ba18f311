"""The recipe document: validation against the recipe format, and the parsed form.

``safe_yaml`` loads a file (refusing hostile YAML); this module checks the document and
reports every problem as ``path:line:col``, the field path and what is wrong with it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aim_catalog import flaglint
from aim_catalog.envpolicy import SECRET_FLAG_PROBLEM, denied_reason, is_secret, is_secret_flag
from aim_catalog.errors import Problem, shown
from aim_catalog.flags import served_models, split_flag
from aim_catalog.safe_yaml import Marks, Path_, Reject, load_yaml
from aim_catalog.settings import BACKENDS, MAX_SQL_INT, METRIC_FIELDS, normalize_precision

MAX_BYTES = 1 << 20
MAX_INT = MAX_SQL_INT  # scenario columns are SQL INTEGER
MAX_FLOAT = sys.float_info.max  # metric columns are SQL double precision

PRECISIONS = ("fp32", "fp16", "bf16", "fp8", "int8", "int4", "mxfp4")
REQUIRED_FIELDS = ("recipe_id", "model_id", "huggingface_id", "hardware", "precision")
# goal/profile_type/manual_selection_only: AMD AIM profile metadata (aim_profiles.py)
CONFIG_FIELDS = (
    "enabled", "args", "image", "env", "benchmarks", "goal", "profile_type", "manual_selection_only",
)  # fmt: skip
SCENARIO_FIELDS = ("input_len", "output_len", "concurrency")
PROVENANCE_FIELDS = ("source", "measured_at", "image")
PROVENANCE_LIMITS = {"source": 1000, "measured_at": 40, "image": 300}  # the column sizes
BENCHMARK_FIELDS = SCENARIO_FIELDS + METRIC_FIELDS + PROVENANCE_FIELDS
# Rows `bench import` brought in carry where they came from and their dedup key, so an
# exported catalog re-ingests them as imported rows (re-importing the file adds nothing).
ORIGIN_FIELDS = ("origin", "import_key")
_ORIGIN = re.compile(r"^[a-z]{1,16}$")
_IMPORT_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# C0 controls but tab and newline, DEL and C1: terminal escapes, NUL (PostgreSQL refuses it).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_SPACE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
TP_FLAGS = ("--tensor-parallel-size", "--tp", "--tp-size", "-tp")
PP_FLAGS = ("--pipeline-parallel-size", "--pp", "--pp-size", "-pp")

_RECIPE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
_HARDWARE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_GPU_KEY = re.compile(r"^([1-9][0-9]{0,3})_gpu$")
_SERVE_KEY = re.compile(r"^([a-z0-9]+)_serve$")
_DIGITS = re.compile(r"[0-9]{1,6}")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class ServeConfigSpec:
    backend: str
    gpu_count: int
    enabled: bool
    args: dict[str, Scalar]
    env: dict[str, str]
    image: str | None
    benchmarks: list[dict[str, Any]]
    goal: str | None = None  # latency | throughput: what an AIM profile was tuned for
    profile_type: str | None = None  # optimized | preview | unoptimized | general
    manual_only: bool = False  # chosen only when pinned (--recipe)


@dataclass(frozen=True)
class RecipeDoc:
    recipe_id: str
    model_id: str
    huggingface_id: str
    hardware: str
    precision: str
    serve_configs: list[ServeConfigSpec]
    document: dict[str, Any]
    path: str
    sha256: str
    line: int = 1
    col: int = 1
    general: bool = False  # a general AIM profile: a fallback for models no recipe names

    def id_problem(self, message: str) -> Problem:
        """A problem with this recipe's ``recipe_id``, located where the file sets it."""
        return Problem(self.path, self.line, self.col, "recipe_id", message)


# ---------------------------------------------------------------------------------------
# Validation


class _Checker:
    def __init__(self, path: str, marks: Marks) -> None:
        self.path, self.marks = path, marks
        self.problems: list[Problem] = []

    def err(self, where: Path_, message: str) -> None:
        probe = where
        while probe not in self.marks and probe:
            probe = probe[:-1]
        line, col = self.marks.get(probe, (1, 1))
        self.problems.append(Problem(self.path, line, col, _dotted(where), message))

    def mapping(self, value: Any, where: Path_) -> dict[Any, Any] | None:
        if isinstance(value, dict):
            return value
        self.err(where, f"must be a mapping, got {_kind(value)}")
        return None

    def text(
        self, value: Any, where: Path_, pattern: re.Pattern[str] | None = None, max_len: int = 300
    ) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.err(where, f"must be a non-empty string, got {_kind(value)}")
            return None
        if len(value) > max_len:
            self.err(where, f"is {len(value)} characters long; at most {max_len} are allowed")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.err(where, f"{shown(value)} does not match {pattern.pattern}")
            return None
        bad = _CONTROL_OR_SPACE_CONTROL.search(value)
        if bad:
            self.err(where, f"contains the control character {_codepoint(bad.group())}; not allowed here")
            return None
        return value


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def _dotted(where: Path_) -> str:
    parts = [p if isinstance(p, int) else _printable(str(p)[:60]) for p in where]
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(parts))


def _printable(text: str) -> str:
    return text if text.isprintable() else repr(text)[1:-1]


def _control_characters(ck: _Checker, value: Any, where: Path_) -> None:
    """Refuse NUL and control characters in every string of the document, keys included:
    they would reach terminals raw (escape sequences) or fail a PostgreSQL write far from
    the file that holds them."""
    if isinstance(value, str):
        bad = _CONTROL.search(value)
        if bad:
            ck.err(where, f"contains the control character {_codepoint(bad.group())}; not allowed")
    elif isinstance(value, dict):
        for key, item in value.items():
            # (tab and newline in a key are left to the field's own check, which names the rule)
            bad = _CONTROL.search(key) if isinstance(key, str) else None
            if bad:
                ck.err((*where, key), f"key contains the control character {_codepoint(bad.group())}")
            else:
                _control_characters(ck, item, (*where, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _control_characters(ck, item, (*where, i))


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", type(None): "null"}.get(type(value), type(value).__name__)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_document(
    doc: Any, path: str, marks: Marks, sha256: str
) -> tuple[RecipeDoc | None, list[Problem]]:
    """Check a loaded document against the recipe format; return it parsed, or the problems."""
    ck = _Checker(path, marks)
    top = ck.mapping(doc, ())
    if top is None:
        return None, ck.problems
    _control_characters(ck, top, ())
    if ck.problems:
        return None, ck.problems
    for key in top:
        if key in REQUIRED_FIELDS:
            continue
        if key == "source":  # provenance of the recipe (issue 10): checked by its own module
            from aim_catalog.provenance import check_source

            check_source(ck.err, top[key], (key,))
            continue
        serve = _SERVE_KEY.fullmatch(key) if isinstance(key, str) else None
        if serve is None:
            ck.err(
                (key,),
                f"unknown top-level key {shown(key)}; "
                f"expected {', '.join(REQUIRED_FIELDS)}, source or <backend>_serve",
            )
        elif serve.group(1) not in BACKENDS:
            ck.err((key,), f"unknown backend {shown(serve.group(1))}; known: {', '.join(BACKENDS)}")
    values: dict[str, str | None] = {}
    for name in REQUIRED_FIELDS:
        if name not in top:
            ck.err((), f"missing required field {shown(name)}")
            values[name] = None
            continue
        pattern = {"recipe_id": _RECIPE_ID, "hardware": _HARDWARE}.get(name)
        if name in ("model_id", "huggingface_id"):
            pattern = _MODEL_ID
        values[name] = ck.text(top[name], (name,), pattern)
    precision = values["precision"]
    if precision is not None:  # one name per precision: fp4 is stored as mxfp4
        precision = normalize_precision(precision)
    if precision is not None and precision not in PRECISIONS:
        ck.err(("precision",), f"unknown precision {shown(precision)}; known: {', '.join(PRECISIONS)}")
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
        precision=str(precision),
        serve_configs=configs,
        document=top,
        path=path,
        sha256=sha256,
        line=line,
        col=col,
    )
    return recipe, []


def _model_flag(ck: _Checker, config: ServeConfigSpec, huggingface_id: str, model_id: str) -> None:
    """A config may name the model only as the recipe does: a ``--model other/model`` in a
    shared catalog would otherwise make a launch of one model serve another (with the
    operator's HF_TOKEN). An AIM profile serves its ``model_id`` (the weights AMD's AIM
    catalog maps its ``aim_id`` to), so there that one is allowed too."""
    from aim_catalog import backends

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


def _serve_section(ck: _Checker, backend: str, section: Any, where: Path_) -> list[ServeConfigSpec]:
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


def _serve_config(ck: _Checker, backend: str, gpus: int, body: Any, where: Path_) -> ServeConfigSpec | None:
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
        ck.err((*where, "enabled"), f"must be true or false, got {_kind(enabled)}")
    args = _args(ck, config.get("args"), (*where, "args"), gpus)
    args = flaglint.normalize(backend, args)[0]  # canonical spellings: --tp -> --tp-size (SGLang)
    env = _env(ck, config.get("env"), (*where, "env"))
    image = config.get("image")
    if image is not None:
        image = ck.text(image, (*where, "image"))
        if image is not None and any(c.isspace() for c in image):
            ck.err((*where, "image"), f"image reference {shown(image)} contains white space")
    rows = config.get("benchmarks")
    benchmarks = []
    if rows is not None:
        if not isinstance(rows, list):
            ck.err((*where, "benchmarks"), f"must be a list, got {_kind(rows)}")
        else:
            for i, row in enumerate(rows):
                bench = _benchmark(ck, row, (*where, "benchmarks", i))
                if bench is not None:
                    benchmarks.append(bench)
    from aim_catalog.aim_profiles import check_profile_fields

    goal, profile_type, manual = check_profile_fields(ck.err, config, where)
    if len(ck.problems) != before:
        return None
    return ServeConfigSpec(
        backend, gpus, bool(enabled), args, env, image, benchmarks, goal, profile_type, manual
    )


def _args(ck: _Checker, value: Any, where: Path_, gpus: int) -> dict[str, Scalar]:
    if value is None:
        return {}
    args = ck.mapping(value, where)
    if args is None:
        return {}
    out: dict[str, Scalar] = {}
    written: dict[str, Any] = {}  # split key -> the key as the file wrote it (for locations)
    for flag, arg in args.items():
        if not isinstance(flag, str) or not flag.startswith("-") or any(c.isspace() for c in flag):
            ck.err((*where, flag), f"server flag {shown(flag)} must start with '-' and have no spaces")
            continue
        if isinstance(arg, (dict, list)):
            ck.err((*where, flag), f"flag value must be a scalar, got {_kind(arg)}")
            continue
        bad = _CONTROL_OR_SPACE_CONTROL.search(arg) if isinstance(arg, str) else None
        if bad:  # one argv word: a tab or newline would break the printed command and its quoting
            ck.err((*where, flag), f"value contains the control character {_codepoint(bad.group())}")
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
    ck: _Checker, args: dict[Any, Any], flags: Iterable[str], where: Path_, written: dict[str, Any]
) -> tuple[str, int] | None:
    found = [f for f in flags if f in args]
    if len(found) > 1:
        ck.err((*where, written.get(found[1], found[1])), f"{found[0]} and {found[1]} both given")
        return None
    if not found:
        return (next(iter(flags)), 1)
    raw = args[found[0]]
    size = raw if _is_number(raw) else None
    if isinstance(raw, str) and _DIGITS.fullmatch(raw.strip()):
        size = int(raw)
    if not isinstance(size, int) or size < 1:
        ck.err((*where, written.get(found[0], found[0])), f"must be a positive integer, got {shown(raw)}")
        return None
    return found[0], size


def _env(ck: _Checker, value: Any, where: Path_) -> dict[str, str]:
    if value is None:
        return {}
    env = ck.mapping(value, where)
    if env is None:
        return {}
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
            ck.err((*where, name), f"must be a string or number, got {_kind(val)}")
        else:
            out[name] = str(val).lower() if isinstance(val, bool) else str(val)
    return out


def _benchmark(ck: _Checker, value: Any, where: Path_) -> dict[str, Any] | None:
    row = ck.mapping(value, where)
    if row is None:
        return None
    before = len(ck.problems)
    floats = set(METRIC_FIELDS)
    for key, val in row.items():
        at = (*where, key)
        if key in SCENARIO_FIELDS:
            _integer(ck, val, at, 1)
        elif key in METRIC_FIELDS:
            _float(ck, val, at)
        elif key in PROVENANCE_FIELDS:
            ck.text(val, at, max_len=PROVENANCE_LIMITS[key])
        elif key == "origin":
            ck.text(val, at, _ORIGIN)
        elif key == "import_key":
            ck.text(val, at, _IMPORT_KEY)
        elif isinstance(key, str) and key in _table_columns():
            kind, limit = _table_columns()[key]
            if kind == "int":
                _integer(ck, val, at, 0)
            elif kind == "float":
                _float(ck, val, at)
                floats.add(key)
            else:
                ck.text(val, at, max_len=limit)
        else:
            known = [*BENCHMARK_FIELDS, *(k for k in _table_columns() if k not in BENCHMARK_FIELDS)]
            ck.err(at, f"unknown benchmark field {shown(key)}; known: {', '.join(known)}")
    if not any(k in row for k in METRIC_FIELDS):
        ck.err(
            where,
            f"a benchmark row needs at least one metric ({', '.join(METRIC_FIELDS[:3])}, ...)",
        )
    origin = row.get("origin", "recipe")
    if (origin != "recipe") != ("import_key" in row):
        ck.err(where, "a row with an origin other than 'recipe' needs an import_key, and only such a row")
    if len(ck.problems) != before:
        return None
    return {k: (float(v) if k in floats else v) for k, v in row.items()}


def _integer(ck: _Checker, val: Any, at: Path_, low: int) -> None:
    if not isinstance(val, int) or isinstance(val, bool) or not low <= val <= MAX_INT:
        ck.err(at, f"must be an integer from {low} to {MAX_INT}, got {shown(val)}")


def _float(ck: _Checker, val: Any, at: Path_) -> None:
    # Python compares a huge int with a float exactly; float() of it would overflow.
    if not _is_number(val) or val < 0:
        ck.err(at, f"must be a non-negative number, got {shown(val)}")
    elif val > MAX_FLOAT:
        ck.err(at, f"must be a number no larger than {MAX_FLOAT:.6g} (a double), got {shown(val)}")


@functools.cache
def _table_columns() -> dict[str, tuple[str, int]]:
    """Benchmark columns beyond the documented ones, with their SQL type's bounds.

    Every column of the table round-trips through ``export``, so a recipe may carry any of
    them; the table is read only when a row has such a field (``validate`` stays cheap).
    """
    from sqlalchemy import Float, Integer, String

    from aim_catalog.tables import benchmarks

    kinds: dict[str, tuple[str, int]] = {}
    for column in benchmarks.columns:
        if column.name in ("id", "serve_config_id", *BENCHMARK_FIELDS, *ORIGIN_FIELDS):
            continue
        if isinstance(column.type, Integer):
            kinds[column.name] = ("int", MAX_INT)
        elif isinstance(column.type, Float):
            kinds[column.name] = ("float", 0)
        elif isinstance(column.type, String):
            kinds[column.name] = ("text", column.type.length or 1000)
    return kinds


# ---------------------------------------------------------------------------------------
# Files


def parse_bytes(data: bytes, path: str) -> tuple[RecipeDoc | None, list[Problem]]:
    sha = hashlib.sha256(data).hexdigest()
    if len(data) > MAX_BYTES:
        return None, [too_big(path, len(data))]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [Problem(path, line, col, "", f"not valid UTF-8 (byte 0x{data[exc.start]:02x})")]
    text = text.removeprefix("\ufeff")
    try:
        doc, marks = load_yaml(text)
    except Reject as exc:
        return None, [Problem(path, exc.line, exc.col, "", exc.message)]
    if isinstance(doc, dict) and "metadata" in doc and "engine_args" in doc and "recipe_id" not in doc:
        from aim_catalog.aim_profiles import parse_profile  # an AMD AIM profile (issue 10)

        return parse_profile(doc, path, marks, sha)
    return validate_document(doc, path, marks, sha)


def read_file(path: Path) -> tuple[bytes | None, list[Problem]]:
    """A recipe file's bytes, refusing what is not a small regular file with a UTF-8 name."""
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        printable = os.fsencode(path).decode("utf-8", "replace")
        return None, [Problem(printable, 0, 0, "", "file name is not valid UTF-8; rename the file")]
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        # O_NOFOLLOW: paths here are resolved (or checked links); one that became a link
        # since is not followed.
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW
        with os.fdopen(os.open(path, flags), "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):  # a FIFO or /dev/zero would hang or never end
                return None, [Problem(name, 0, 0, "", "not a regular file")]
            if info.st_size > MAX_BYTES:  # refuse before reading a byte of it
                return None, [too_big(name, info.st_size)]
            return handle.read(MAX_BYTES + 1), []  # bounded even if the file grows meanwhile
    except OSError as exc:
        return None, [Problem(name, 0, 0, "", f"cannot read: {exc.strerror or exc}")]


def parse_file(path: Path) -> tuple[RecipeDoc | None, list[Problem]]:
    data, problems = read_file(path)
    if data is None:
        return None, problems
    return parse_bytes(data, str(path))


def too_big(name: str, size: int) -> Problem:
    return Problem(name, 0, 0, "", f"file is {size} bytes; the limit is {MAX_BYTES} (1 MiB)")


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Files named directly, plus ``*.yaml``/``*.yml`` found (recursively) in directories."""
    files: list[Path] = []
    problems: list[Problem] = []
    for p in paths:
        if p.is_dir():
            found, outside = _walk(p.resolve())
            files.extend(found)
            problems.extend(outside)
        elif p.exists():
            files.append(p.resolve())
        else:
            problems.append(Problem(str(p), 0, 0, "", "no such file or directory"))
    return list(dict.fromkeys(files)), problems


def _walk(directory: Path) -> tuple[list[Path], list[Problem]]:
    """Recipe files below a resolved ``directory``, skipping hidden files and folders (.git,
    .github...). Paths are joined, not resolved one by one (10k realpath calls cost more than
    the rest of a re-ingest); anything that is not a regular file is reported when read.

    Symbolic links are not followed out of ``directory``: a linked file is taken (as its
    target) only when the target lies inside; linked folders are not entered.
    """
    found: list[Path] = []
    problems: list[Problem] = []
    inside = str(directory).rstrip(os.sep) + os.sep
    pending = [str(directory)]
    while pending:
        root = pending.pop()
        try:
            with os.scandir(root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append(Problem(root, 0, 0, "", f"cannot list: {exc.strerror or exc}"))
            continue
        folders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.path)
                continue
            if not entry.name.endswith((".yaml", ".yml")):
                continue
            if not entry.is_symlink():
                found.append(Path(entry.path))
                continue
            target = os.path.realpath(entry.path)
            if target.startswith(inside):
                found.append(Path(target))
            else:
                problems.append(
                    Problem(
                        entry.path, 0, 0, "", f"symbolic link to a file outside {directory}; not followed"
                    )
                )
        pending.extend(reversed(folders))
    return found, problems


def load_recipes(paths: Iterable[Path], progress: Any = None) -> tuple[list[RecipeDoc], list[Problem], int]:
    """Parse and validate every recipe under ``paths``; recipe_ids must be unique across files.

    Returns ``(recipes, problems, files_seen)``; callers write nothing when problems is non-empty.
    """
    files, problems = expand_paths(paths)
    recipes, found = load_files(files, progress)
    return recipes, problems + found, len(files)


def load_files(
    files: Iterable[Path], progress: Any = None, known: Mapping[str, str] | None = None
) -> tuple[list[RecipeDoc], list[Problem]]:
    """``load_recipes`` for an already expanded list of files.

    ``known`` maps a path to the content hash the catalog already holds for it: such a
    file, unchanged, is read and hashed but not parsed again (re-ingest stays cheap).
    """
    problems: list[Problem] = []
    recipes: list[RecipeDoc] = []
    first_seen: dict[str, RecipeDoc] = {}
    for file in files:
        data, found = read_file(file)
        recipe = None
        if data is not None and not (known and known.get(str(file)) == hashlib.sha256(data).hexdigest()):
            recipe, found = parse_bytes(data, str(file))
        problems.extend(found)
        if progress is not None:
            progress()
        if recipe is None:
            continue
        other = first_seen.get(recipe.recipe_id)
        if other is not None:
            problems.append(
                recipe.id_problem(
                    f"duplicate recipe_id {shown(recipe.recipe_id)}; "
                    f"also in {other.path}:{other.line}:{other.col}"
                )
            )
            continue
        first_seen[recipe.recipe_id] = recipe
        recipes.append(recipe)
    return recipes, problems
