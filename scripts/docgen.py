"""The generated parts of the docs, called from cog markers in README.md and docs/**/*.md.

``scripts/docs`` runs cogapp over those files with ``from docgen import *`` in scope:

    <!-- [[[cog run("aim-catalog select Qwen/Qwen3-32B 4") ]]] -->
    ...written by cog...
    <!-- [[[end]]] -->

What each function writes, and where it reads it (never a hand-kept copy):

- ``cli_reference()``: every command and subcommand, its usage, help, arguments and options
  (type, default) and the exit codes, from the Typer app (``aim_catalog.cli.app``) and
  ``aim_catalog.errors``;
- ``images_reference()``: the backends, the default image per backend and GPU architecture
  and the server versions whose flags the lint knows, from ``aim_catalog/backends/data/``;
- ``environment_reference()``: every environment variable, from ``aim_catalog/settings.py``
  (where every variable is read, one function each: its docstring says what it means);
- ``run(command)``: the command run in a fresh sandbox (its own HOME and default catalog, no
  GPU, no Docker engine, UTC), as a ``console`` block of its real output (piped, so tables are
  as wide as their content, one row a line, as in a script or a pager).

Generation is deterministic: the sandbox's path is shown as ``~`` and a launch's random
label as ``<random>``. With ``-D check=1`` (``scripts/docs --check``) a ``--plot`` file is
written into the sandbox instead of the tree, so checking never rewrites a picture; plots
are made with a fixed SVG hash salt and ``SOURCE_DATE_EPOCH``, so regenerating one on the
same matplotlib gives the same bytes.
"""

from __future__ import annotations

import ast
import atexit
import inspect
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["bounds_reference", "cli_reference", "environment_reference", "images_reference", "run"]


def _out(text: str) -> None:
    import cog  # only while cog runs this module

    cog.out(text)


# ------------------------------------------------------------------------- commands run


class _Sandbox:
    """A HOME, data and cache directory of its own, made on first use, removed at exit."""

    path: Path | None = None

    @classmethod
    def env(cls) -> dict[str, str]:
        if cls.path is None:
            cls.path = Path(tempfile.mkdtemp(prefix="aim-catalog-docs-"))
            atexit.register(shutil.rmtree, cls.path, True)
            (cls.path / "runtime").mkdir(mode=0o700)
            (cls.path / "matplotlibrc").write_text("svg.hashsalt: aim-catalog-docs\n", encoding="utf-8")
        home = cls.path
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIM_CATALOG_", "HF_", "XDG_", "DOCKER_", "KUBE", "LC_", "COLUMNS"))
        }
        env.update(
            HOME=str(home),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_RUNTIME_DIR=str(home / "runtime"),
            TERM="dumb",
            NO_COLOR="1",
            TZ="UTC",
            LC_ALL="C.UTF-8",
            PYTHONHASHSEED="0",
            MATPLOTLIBRC=str(home / "matplotlibrc"),
            SOURCE_DATE_EPOCH="0",
            # No Docker engine and no cluster: what a reader without them sees.
            DOCKER_HOST="unix:///nonexistent/docker.sock",
            KUBECONFIG=str(home / "no-kubeconfig"),
        )
        return env


def _checking() -> bool:
    return str(globals().get("check", "")) == "1"


def _argv(command: str) -> list[str]:
    words = shlex.split(command)
    if not words or words[0] != "aim-catalog":
        raise ValueError(f"run() runs aim-catalog commands only, got {command!r}")
    if _checking() and "--plot" in words:  # a check never rewrites the tree's picture
        at = words.index("--plot") + 1
        words[at] = str(_Sandbox.path) + "/" + Path(words[at]).name
    return [sys.executable, "-m", "aim_catalog", *words[1:]]


def _shown(text: str) -> str:
    sandbox = str(_Sandbox.path)
    text = text.replace(sandbox, "~")
    text = re.sub(r"(aim-catalog\.launch[=:]\s*\"?)[0-9a-f]{32}", r"\1<random>", text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def run(command: str, code: int = 0) -> None:
    """Write ``command`` and its real output (stdout and stderr as they interleave) as a
    console block. A different exit code than ``code`` fails the generation."""
    env = _Sandbox.env()
    argv = _argv(command)
    done = subprocess.run(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300
    )
    if done.returncode != code:
        raise SystemExit(f"docgen: `{command}` exited {done.returncode}, not {code}:\n{done.stdout}")
    shown = _shown(done.stdout)
    _out(f"```console\n$ {command}\n{shown}\n```\n")


# ------------------------------------------------------------------------ CLI reference


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(param: Any) -> str:
    if getattr(param, "is_flag", False):
        return "off" if not param.default else "on"
    if param.show_default is False or param.default is None or callable(param.default):
        return ""
    value = param.default
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) if value else ""
    return f"`{value}`"


_TYPE_NAMES = {
    "str": "text",
    "int": "integer",
    "int range": "integer",
    "float": "number",
    "float range": "number",
}


def _type(param: Any) -> str:
    if getattr(param, "is_flag", False):
        return ""
    kind = param.type
    choices = getattr(kind, "choices", None)
    if choices:
        return " \\| ".join(f"`{c}`" for c in choices)
    name = _TYPE_NAMES.get(kind.name, kind.name)
    low, high = getattr(kind, "min", None), getattr(kind, "max", None)
    if low is not None and high is not None:
        name += f" {low:g} to {high:g}" if isinstance(low, float) else f" {low} to {high}"
    elif low is not None:
        name += f" ≥ {low:g}"
    elif high is not None:
        name += f" ≤ {high:g}"
    return name


def _help(text: str) -> list[str]:
    """A command's help: its paragraphs, then its examples as one ``sh`` block (the docs
    tests run every ``sh`` block). An example is a line ``Example: COMMAND`` and the indented
    lines under it: a ``\\`` continuation stays indented, another line is another command."""
    paragraphs: list[str] = []
    examples: list[str] = []
    for line in inspect.cleandoc(text).splitlines():
        if line.strip() == "\b":  # click's "do not rewrap the next paragraph"
            continue
        if line.startswith("Example: "):
            examples.append(line.removeprefix("Example: ").strip())
        elif examples and line.startswith(" ") and line.strip():
            continued = examples[-1].endswith("\\")
            examples.append(("    " if continued else "") + line.strip())
        else:
            paragraphs.append(line)
    lines = re.sub(r"\n{3,}", "\n\n", "\n".join(paragraphs)).strip().splitlines()
    if examples:
        lines += ["", "```sh", *examples, "```"]
    return [*lines, ""]


def _option_table(params: list[Any]) -> list[str]:
    """The table of a command's visible options: names, type, default, help."""
    from typer import core

    options = [p for p in params if isinstance(p, core.TyperOption) and not p.hidden]
    if not options:
        return []
    lines = ["| option | type | default | help |", "|---|---|---|---|"]
    for p in options:
        names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
        lines.append(f"| {names} | {_type(p)} | {_default(p)} | {_cell(p.help or '')} |")
    return [*lines, ""]


def _command_section(name: str, command: Any, parent: Any, depth: int) -> list[str]:
    from typer import core
    from typer._click.core import Context  # typer's own click (typer >= 0.26 vendors it)

    ctx = Context(command, info_name=name, parent=parent)
    lines = [f"{'#' * depth} `aim-catalog {ctx.command_path.split(' ', 1)[1]}`", ""]
    lines += ["```text", command.get_usage(ctx), "```", "", *_help(command.help or "")]
    arguments = [p for p in command.params if isinstance(p, core.TyperArgument)]
    if arguments:
        lines += ["| argument | type | required | help |", "|---|---|---|---|"]
        for p in arguments:
            lines.append(
                f"| `{p.human_readable_name}` | {_type(p)} | {'yes' if p.required else 'no'} "
                f"| {_cell(getattr(p, 'help', None) or '')} |"
            )
        lines.append("")
    lines += _option_table(command.params)
    if isinstance(command, core.TyperGroup):
        for sub in command.list_commands(ctx):
            lines += _command_section(sub, command.get_command(ctx, sub), ctx, depth + 1)
    return lines


def _exit_codes() -> list[str]:
    """The exit code of every ``CatalogError`` subclass in the package (each module imported),
    with the first paragraph of its docstring."""
    import importlib
    import pkgutil

    import aim_catalog
    from aim_catalog.errors import CatalogError

    for module in pkgutil.walk_packages(aim_catalog.__path__, "aim_catalog."):
        if module.name != "aim_catalog.__main__":  # that one runs the CLI
            importlib.import_module(module.name)
    codes: dict[int, list[str]] = {0: ["success"]}
    for cls in sorted([CatalogError, *_subclasses(CatalogError)], key=lambda c: (c.__module__, c.__name__)):
        if "exit_code" in vars(cls):
            doc = _cell(inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0])
            where = f"`{cls.__module__.removeprefix('aim_catalog.')}.{cls.__name__}`"
            codes.setdefault(cls.exit_code, []).append(f"{where}: {doc}" if doc else where)
    rows = ["| exit code | raised as |", "|---|---|"]
    rows += [f"| {code} | {'<br>'.join(what)} |" for code, what in sorted(codes.items())]
    return rows


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def cli_reference() -> None:
    """Every command of ``aim-catalog`` as the app defines it, and the exit codes."""
    from typer._click.core import Context
    from typer.main import get_command

    from aim_catalog.cli.app import app

    root = get_command(app)
    ctx = Context(root, info_name="aim-catalog")
    lines = ["## Global options", "", "```text", root.get_usage(ctx), "```", ""]
    lines += [*_option_table(root.params), "## Exit codes", "", *_exit_codes(), "", "## Commands", ""]
    for name in root.list_commands(ctx):
        command = root.get_command(ctx, name)
        if command is not None and not command.hidden:
            lines += _command_section(name, command, ctx, 3)
    _out("\n".join(lines).rstrip() + "\n")


# ------------------------------------------------------------ backends, images, flags


def images_reference() -> None:
    """The backends, their default images and the server versions the flag lint knows."""
    from aim_catalog.backends import images, registry

    lines = ["## Backends", "", "| backend | starts | model passed as | port in the container | ready when |"]
    lines.append("|---|---|---|---|---|")
    for backend in registry.all_backends():
        model = " or ".join(f"`{f}`" for f in backend.model_flags)
        if backend.model_positional:
            model = "positional"
        ready = ", ".join(f"`{path}`" for path in backend.readiness)
        lines.append(
            f"| {backend.label} (`{backend.name}`) | `{' '.join(backend.command)}` | {model} "
            f"| {backend.container_port} | {ready} answer |"
        )
    lines += ["", "## Default images", ""]
    lines += ["A config's own image wins; otherwise the default for its backend and GPU architecture.", ""]
    lines += ["| backend | architecture | GPUs | image | evidence |", "|---|---|---|---|---|"]
    for d in images.defaults():
        label = registry.BACKEND_LABELS.get(d.backend, d.backend)
        lines.append(
            f"| {label} | {d.architecture} | {', '.join(d.hardware)} | `{d.image}` | {_cell(d.evidence)} |"
        )
    flags_file = ROOT / "aim_catalog" / "backends" / "data" / "flags.json"
    flags = json.loads(flags_file.read_text(encoding="utf-8"))
    lines += ["", "## Server versions the flag lint knows", ""]
    lines += ["`validate` and `ingest` check a config's flags against the version its image's tag names.", ""]
    lines += ["| backend | version | recorded because | read from |", "|---|---|---|---|"]
    for name, entry in flags.items():
        if name.startswith("_"):
            continue
        for version in entry["versions"]:
            source = version.get("source") or {}
            where = source.get("kind", "")
            if "unreadable" in version:
                where = "unreadable: " + _cell(version["unreadable"])
            lines.append(
                f"| {registry.BACKEND_LABELS.get(name, name)} | {version['version']} "
                f"| {_cell('; '.join(version.get('named_by', [])))} | {where} |"
            )
    _out("\n".join(lines) + "\n")


# ------------------------------------------------------------------ environment variables


def environment_reference() -> None:
    """Each variable ``aim_catalog/settings.py`` reads, with the docstring of the function
    that reads it (settings reads every variable; a function there reads one or two)."""
    source = (ROOT / "aim_catalog" / "settings.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        names = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id.endswith("_ENV") and sub.id in constants:
                names.add(constants[sub.id])
            elif isinstance(sub, ast.Call) and getattr(sub.func, "attr", None) == "get" and sub.args:
                arg = sub.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names.add(arg.value)
        doc = ast.get_docstring(node)
        for name in names:
            if not doc:
                raise SystemExit(f"docgen: settings.{node.name} reads ${name} but has no docstring")
            found.setdefault(name, []).append(f"{_cell(doc)} (`settings.{node.name}`)")
    lines = ["| variable | what it sets |", "|---|---|"]
    lines += [f"| `{name}` | {'<br>'.join(what)} |" for name, what in sorted(found.items())]
    _out("\n".join(lines) + "\n")


# ----------------------------------------------------------------------- figure bounds


def bounds_reference() -> None:
    """What a benchmark figure may be, from ``aim_catalog.recipes.bounds`` (every row is
    checked against these after every unit conversion and derivation)."""
    from aim_catalog.recipes import bounds

    rows = [
        ("output and total throughput", f"at most {bounds.MAX_TOKENS_PER_S_PER_GPU:.0e} tokens/s per GPU"),
        ("request throughput", f"at most {bounds.MAX_REQUESTS_PER_S_PER_GPU:.0e} requests/s per GPU"),
        *(
            (f"{kind.upper()} (every percentile, mean)", f"{low:g} ms to {bounds.MAX_LATENCY_MS:,.0f} ms")
            for kind, low in bounds.MIN_LATENCY_MS.items()
        ),
        ("power", f"at most {bounds.MAX_POWER_W_PER_GPU:,.0f} W per GPU"),
        ("energy per output or total token", f"at most {bounds.MAX_JOULES_PER_TOKEN:,.0f} J"),
        ("input and output length", f"at most {bounds.MAX_LENGTH:,} tokens"),
        ("concurrency", f"at most {bounds.MAX_CONCURRENCY:,}"),
        ("GPU count when a row does not say", f"{bounds.NODE_GPUS} (one node)"),
    ]
    lines = ["| figure | bound |", "|---|---|", *(f"| {what} | {bound} |" for what, bound in rows)]
    _out("Every figure must be finite and positive, and:\n\n" + "\n".join(lines) + "\n")
