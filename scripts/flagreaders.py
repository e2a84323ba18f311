"""How vLLM, SGLang and ATOM define their server flags, read from their source with ``ast``
(nothing is imported or run). scripts/gen_flag_lists.py hands a reader (``READERS``) a tree
of one version's files (``Tree``: ``flagsources`` has a wheel on PyPI, a git commit and a
local directory) and records what it ``Found``. Standard library only.

* vLLM: ``vllm serve`` is ``vllm/entrypoints/cli/serve.py``; its ``make_arg_parser`` is
  followed by import to the module defining it (``vllm/entrypoints/openai/cli_args.py``
  through 0.27, ``vllm/entrypoints/common/cli_args.py`` from 0.33): its literal
  ``add_argument`` names, ``--<field>`` of each class whose ``add_cli_args`` it calls
  (``FrontendArgs`` and its bases, as ``get_kwargs`` derives them), and for the engine
  class it calls (``AsyncEngineArgs``, followed to ``vllm/engine/arg_utils.py``) every
  literal ``add_argument`` name there. ``--no-X`` for a boolean field registered from
  ``get_kwargs`` (argparse.BooleanOptionalAction; booleans read from the annotations of
  ``vllm/config*.py``, ``EngineArgs`` and the frontend classes). ``attached``: the short
  options ``FlexibleArgumentParser.parse_args`` rewrites when a value is glued on
  (``-O3``: ``-O 3`` in 0.9, ``-O.level=3`` in 0.10, ``-O.mode=3`` in 0.11,
  ``--optimization-level 3`` from 0.17), read from its ``if arg.startswith("-O")`` branches
  in the module the cli_args module imports it from (``vllm/utils.py``, then
  ``vllm/utils/__init__.py``, then ``vllm/utils/argparse_utils.py``).
* SGLang: ``sglang/srt/server_args.py``: the literal ``add_argument`` names of
  ``ServerArgs.add_cli_args`` and every field annotated ``A[T, "help"]`` / ``A[T, Arg(...)]``
  (``--<field>`` or ``cli_name``, plus ``aliases``, skipping ``no_cli``, as
  ``arg_groups/arg_utils.add_cli_args_from_dataclass`` does), on ``ServerArgs`` itself
  (through 0.5.17) or on the namespace classes server_args passes to
  ``collect_input_fields`` (0.5.23: ``arg_groups/fields/*.py``, followed by import).
* ATOM: the literal ``add_argument`` names of ``atom/model_engine/arg_utils.py`` and of the
  server module (``atom/entrypoints/openai/api_server.py``; ``openai_server.py`` before
  0.1.3). ``snake_and_kebab`` when the server's parser class (``atom/utils/arg_parser.py``'s
  ``FlexibleArgumentParser``, on main after 0.1.5) registers the snake/kebab twin of every
  long flag.

These files are what the server's parser is built from; when a new release moves them again
the reader fails loudly (a missing file, class or function; or fewer flags than
``gen_flag_lists.MIN_FLAGS``) rather than recording a short list.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol


class Tree(Protocol):
    """One version's files by path; every path read is kept in ``read_paths``."""

    names: frozenset[str]
    read_paths: list[str]

    def read(self, path: str) -> str: ...


@dataclass
class Found:
    """What one version's source defines."""

    flags: set[str] = field(default_factory=set)
    attached: dict[str, str] = field(default_factory=dict)  # "-O" -> what "-O3" is rewritten to
    snake_and_kebab: bool = False


# --- reading Python source -------------------------------------------------------------


@cache
def parse(tree: Tree, path: str) -> ast.Module:
    """One file of the tree, parsed (once: SGLang's namespace classes share modules)."""
    if path not in tree.names:
        raise SystemExit(f"no {path} in the source")
    return ast.parse(tree.read(path))


def module_path(tree: Tree, module: str) -> str:
    """The file of a dotted module name (``vllm.utils`` -> ``vllm/utils/__init__.py``)."""
    stem = module.replace(".", "/")
    for path in (f"{stem}.py", f"{stem}/__init__.py"):
        if path in tree.names:
            return path
    raise SystemExit(f"no module {module} in the source")


def imported_from(module: ast.Module, name: str) -> str | None:
    """The module ``name`` is imported from (``from X import name``, also inside functions)."""
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and node.module and any(a.name == name for a in node.names):
            return node.module
    return None


def find_class(module: ast.Module, name: str) -> ast.ClassDef | None:
    return next((n for n in ast.walk(module) if isinstance(n, ast.ClassDef) and n.name == name), None)


def find_function(scope: ast.AST, name: str) -> ast.FunctionDef | None:
    return next((n for n in ast.walk(scope) if isinstance(n, ast.FunctionDef) and n.name == name), None)


def fields_of(cls: ast.ClassDef) -> list[ast.AnnAssign]:
    return [s for s in cls.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]


def field_name(node: ast.AnnAssign) -> str:
    assert isinstance(node.target, ast.Name)
    return node.target.id


def method_calls(scope: ast.AST, name: str) -> Iterator[ast.Call]:
    """Every ``<something>.<name>(...)`` call in ``scope``."""
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
            yield node


def add_argument_calls(scope: ast.AST) -> Iterator[tuple[list[str], ast.Call]]:
    """The option strings and call of every ``*.add_argument("--x", "-y", ...)`` in ``scope``."""
    for node in method_calls(scope, "add_argument"):
        names = [
            a.value
            for a in node.args
            if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.startswith("-")
        ]
        yield names, node


def literal_flags(scope: ast.AST) -> set[str]:
    """Literal option strings of the ``add_argument`` calls in ``scope``, with ``--no-X`` for
    those whose ``action`` is argparse.BooleanOptionalAction."""
    out: set[str] = set()
    for names, call in add_argument_calls(scope):
        out.update(names)
        action = next((k.value for k in call.keywords if k.arg == "action"), None)
        if action is not None and ast.unparse(action).endswith("BooleanOptionalAction"):
            out.update("--no-" + n[2:] for n in names if n.startswith("--"))
    return out


def union_members(annotation: ast.expr) -> set[str]:
    """``bool | None`` / ``Optional[bool]`` / ``Union[bool, str]`` -> their member types."""
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return union_members(annotation.left) | union_members(annotation.right)
    wrapper = ast.unparse(annotation.value) if isinstance(annotation, ast.Subscript) else ""
    if isinstance(annotation, ast.Subscript) and wrapper in ("Optional", "Union"):
        inner = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        members = {m for e in inner for m in union_members(e)}
        return members | {"None"} if wrapper == "Optional" else members
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return union_members(ast.parse(annotation.value, mode="eval").body)
        except SyntaxError:
            return {annotation.value}
    return {ast.unparse(annotation)}


def is_bool(annotation: ast.expr, optional_valued: bool = False) -> bool:
    """A field vLLM's ``get_kwargs`` gives argparse.BooleanOptionalAction; with
    ``optional_valued`` (0.11.1 on) ``bool | str | None`` is a flag with an optional value instead."""
    members = union_members(annotation) - {"None"}
    return "bool" in members and not (optional_valued and members == {"bool", "str"})


# --- vLLM --------------------------------------------------------------------------------


def vllm_flags(tree: Tree) -> Found:
    serve = parse(tree, "vllm/entrypoints/cli/serve.py")
    cli_module = imported_from(serve, "make_arg_parser")
    if cli_module is None:
        raise SystemExit("vllm/entrypoints/cli/serve.py imports no make_arg_parser")
    cli = parse(tree, module_path(tree, cli_module))
    make = find_function(cli, "make_arg_parser")
    if make is None:
        raise SystemExit(f"no make_arg_parser in {cli_module}")
    found = Found(flags=literal_flags(make))
    frontend: list[ast.AnnAssign] = []
    engine: ast.Module | None = None
    for called in _add_cli_args_receivers(make):
        local = find_class(cli, called)
        if local is not None:  # a frontend class: --<field> for it and its bases in the module
            for cls in _with_bases(cli, local):
                found.flags |= literal_flags(cls)
                frontend += fields_of(cls)
            continue
        origin = imported_from(cli, called)
        if origin is None:
            raise SystemExit(f"make_arg_parser calls {called}.add_cli_args, defined nowhere")
        engine = parse(tree, module_path(tree, origin))
        found.flags |= literal_flags(engine)
    if engine is None:
        raise SystemExit("make_arg_parser registers no engine arguments")
    # get_kwargs' `type_hints == {bool, str, type(None)}` branch: such a field takes an optional value
    optional_valued = any(
        isinstance(n, ast.Set) and {"bool", "str"} <= {ast.unparse(e) for e in n.elts}
        for n in ast.walk(engine)
    )
    for node in frontend:
        name = "--" + field_name(node).replace("_", "-")
        found.flags.add(name)
        if is_bool(node.annotation, optional_valued):
            found.flags.add("--no-" + name[2:])
    bools: set[str] = set()
    configs = sorted(n for n in tree.names if re.fullmatch(r"vllm/config(/[^/]+)?\.py", n))
    for path in configs:
        annotated = _annotated(parse(tree, path))
        bools |= {field_name(n) for n in annotated if is_bool(n.annotation, optional_valued)}
    bools |= {field_name(n) for n in _annotated(engine) if is_bool(n.annotation, optional_valued)}
    for names, call in add_argument_calls(engine):
        derived = _kwargs_field(call)  # add_argument("--x", **group_kwargs["x"]): from get_kwargs
        if derived is not None and derived in bools:
            found.flags.update("--no-" + n[2:] for n in names if n.startswith("--"))
    parser_module = imported_from(cli, "FlexibleArgumentParser")
    if parser_module is not None:
        found.attached = attached_values(parse(tree, module_path(tree, parser_module)))
    return found


def _add_cli_args_receivers(function: ast.FunctionDef) -> list[str]:
    """``X`` of every ``X.add_cli_args(...)`` call in ``function``, in order."""
    calls = method_calls(function, "add_cli_args")
    receivers = (c.func.value for c in calls if isinstance(c.func, ast.Attribute))
    return list(dict.fromkeys(r.id for r in receivers if isinstance(r, ast.Name)))


def _with_bases(module: ast.Module, cls: ast.ClassDef) -> list[ast.ClassDef]:
    out = [cls]
    for base in cls.bases:
        parent = find_class(module, ast.unparse(base))
        if parent is not None:
            out += _with_bases(module, parent)
    return out


def _annotated(module: ast.Module) -> list[ast.AnnAssign]:
    return [n for n in ast.walk(module) if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]


def _kwargs_field(call: ast.Call) -> str | None:
    """``x`` of ``add_argument(..., **group_kwargs["x"])`` (or ``**{**group_kwargs["x"], ...}``):
    the field whose ``get_kwargs`` entry the call unpacks; None when an explicit ``action``
    overrides it."""
    if any(k.arg == "action" for k in call.keywords):
        return None
    for keyword in call.keywords:
        if keyword.arg is not None:
            continue
        for node in ast.walk(keyword.value):
            key = node.slice if isinstance(node, ast.Subscript) else None
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return key.value
    return None


def attached_values(parser_module: ast.Module) -> dict[str, str]:
    """Short options ``FlexibleArgumentParser.parse_args`` takes with a glued-on value, and what
    it rewrites them to: the branches ``if arg.startswith("-O") ...`` and the first option
    string they emit (``f"-O.level={level}"`` -> ``-O.level``; ``["--optimization-level",
    level]`` -> ``--optimization-level``)."""
    cls = find_class(parser_module, "FlexibleArgumentParser")
    method = find_function(cls, "parse_args") if cls is not None else None
    if method is None:
        raise SystemExit("no FlexibleArgumentParser.parse_args")
    out: dict[str, str] = {}
    for node in ast.walk(method):
        if not isinstance(node, ast.If):
            continue
        prefixes = [
            call.args[0].value
            for call in method_calls(node.test, "startswith")
            if call.args
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
            and re.fullmatch(r"-[A-Za-z]", call.args[0].value)
        ]
        emitted = [s for s in _strings(node.body) if s.startswith("-")]
        for prefix in prefixes:
            if emitted:
                out[prefix] = emitted[0].partition("=")[0]
    return out


def _strings(body: list[ast.stmt]) -> Iterator[str]:
    """String literals of ``body`` in source order (an f-string's leading literal part)."""
    nodes = [n for stmt in body for n in ast.walk(stmt)]
    nodes.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
    for node in nodes:
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            yield str(node.values[0].value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


# --- SGLang ------------------------------------------------------------------------------


def sglang_flags(tree: Tree) -> Found:
    path = "sglang/srt/server_args.py"
    module = parse(tree, path)
    server_args = find_class(module, "ServerArgs")
    if server_args is None:
        raise SystemExit(f"no class ServerArgs in {path}")
    add = next(
        (n for n in server_args.body if isinstance(n, ast.FunctionDef) and n.name == "add_cli_args"), None
    )
    if add is None:
        raise SystemExit("no ServerArgs.add_cli_args")
    found = Found(flags=literal_flags(add))
    for cls in [server_args, *_namespace_classes(tree, module)]:
        for node in fields_of(cls):
            found.flags |= annotated_flags(node)
    return found


def _namespace_classes(tree: Tree, module: ast.Module) -> list[ast.ClassDef]:
    """Classes listed in a module-level list the module passes to a call (SGLang 0.5.23's
    ``collect_input_fields(_INPUT_NAMESPACES)``), each read from where it is defined."""
    lists = {
        target.id: [e.id for e in node.value.elts if isinstance(e, ast.Name)]
        for node in module.body
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple))
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    passed = [
        arg.id
        for node in module.body
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        for arg in call.args
        if isinstance(arg, ast.Name) and arg.id in lists
    ]
    out = []
    for name in dict.fromkeys(n for listed in passed for n in lists[listed]):
        cls = find_class(module, name)
        origin = imported_from(module, name)
        if cls is None and origin is not None and not origin.startswith(("typing", "dataclasses")):
            try:
                cls = find_class(parse(tree, module_path(tree, origin)), name)
            except SystemExit:
                cls = None
        if cls is not None:
            out.append(cls)
    return out


def annotated_flags(node: ast.AnnAssign) -> set[str]:
    """The option strings ``add_cli_args_from_dataclass`` registers for one field: none for a
    field without ``A[T, "help"]`` / ``A[T, Arg(...)]`` or with ``no_cli=True``."""
    ann = node.annotation
    if not (isinstance(ann, ast.Subscript) and ast.unparse(ann.value) in ("A", "Annotated")):
        return set()
    parts = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
    meta = parts[1:]
    arg_call = next((m for m in meta if isinstance(m, ast.Call) and ast.unparse(m.func) == "Arg"), None)
    has_help = any(isinstance(m, ast.Constant) and isinstance(m.value, str) for m in meta)
    if arg_call is None and not has_help:
        return set()
    keywords = {k.arg: k.value for k in arg_call.keywords} if arg_call else {}
    if "no_cli" in keywords and ast.literal_eval(keywords["no_cli"]) is True:
        return set()
    name = "--" + field_name(node).replace("_", "-")
    if "cli_name" in keywords:
        name = ast.literal_eval(keywords["cli_name"])
    names = {name, *(ast.literal_eval(keywords["aliases"]) if "aliases" in keywords else ())}
    action = keywords.get("action")
    if action is not None and ast.unparse(action).endswith("BooleanOptionalAction"):
        names |= {"--no-" + n[2:] for n in names if n.startswith("--")}
    return names


# --- ATOM --------------------------------------------------------------------------------

ATOM_SERVERS = ("atom/entrypoints/openai/api_server.py", "atom/entrypoints/openai_server.py")


def atom_flags(tree: Tree) -> Found:
    engine = parse(tree, "atom/model_engine/arg_utils.py")
    found = Found(flags=literal_flags(engine))
    for path in ATOM_SERVERS:
        if path not in tree.names:
            continue
        server = parse(tree, path)
        flags = literal_flags(server)
        if not flags:
            continue  # 0.1.3 on: openai_server.py only imports main from openai/api_server.py
        found.flags |= flags
        found.snake_and_kebab = any(_adds_twins(tree, server, name) for name in _parser_classes(server))
        return found
    raise SystemExit(f"none of {ATOM_SERVERS} builds a parser")


def _parser_classes(module: ast.Module) -> list[str]:
    return [
        n.func.id
        for n in ast.walk(module)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id.endswith("ArgumentParser")
    ]


def _adds_twins(tree: Tree, module: ast.Module, name: str) -> bool:
    """Whether the parser class ``name`` registers ``--a-b`` and ``--a_b`` for each long flag
    (its ``add_argument`` swaps "_" and "-" both ways)."""
    origin = imported_from(module, name)
    if origin is None or not origin.startswith("atom"):
        return False
    cls = find_class(parse(tree, module_path(tree, origin)), name)
    method = find_function(cls, "add_argument") if cls is not None else None
    if method is None:
        return False
    calls = method_calls(method, "replace")
    swaps = {tuple(a.value for a in n.args if isinstance(a, ast.Constant)) for n in calls}
    return {("_", "-"), ("-", "_")} <= swaps


READERS: dict[str, Callable[[Tree], Found]] = {"vllm": vllm_flags, "sglang": sglang_flags, "atom": atom_flags}
