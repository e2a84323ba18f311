#!/usr/bin/env python3
"""Regenerate aim_catalog/backends/data/flags.json: the server option names of vLLM, SGLang and ATOM.

Read statically (``ast``, nothing imported or run) from each tool's own argument
definitions, and record the version and files read:

* vLLM: ``vllm/engine/arg_utils.py`` (``EngineArgs.add_cli_args``: every literal
  ``add_argument`` name; ``--no-X`` for the boolean fields, which ``get_kwargs`` gives
  ``argparse.BooleanOptionalAction``) and ``vllm/entrypoints/openai/cli_args.py``
  (``make_arg_parser`` literals, and ``--<field>`` for every ``BaseFrontendArgs`` /
  ``FrontendArgs`` field, as ``add_cli_args`` derives them). Boolean fields are read from
  the annotations of ``vllm/config/*.py`` and the frontend classes.
* SGLang: ``python/sglang/srt/server_args.py`` (``ServerArgs`` fields annotated
  ``A[T, "help"]`` / ``A[T, Arg(...)]``: ``--<field>`` or ``cli_name``, plus ``aliases``,
  skipping ``no_cli``, as ``arg_groups/arg_utils.add_cli_args_from_dataclass`` does; and
  the literal ``add_argument`` names of ``ServerArgs.add_cli_args``).
* ATOM: ``atom/model_engine/arg_utils.py`` and ``atom/entrypoints/openai/api_server.py``
  literal ``add_argument`` names; ``atom/utils/arg_parser.FlexibleArgumentParser`` adds
  the snake/kebab twin of every long flag, which the lint accepts generically.

Usage (unpacked wheels from PyPI and a checkout/mirror of ROCm/ATOM):

    pip download --no-deps -d /tmp/pkgs vllm==0.27.1 sglang==0.5.17
    unzip -q /tmp/pkgs/vllm-*.whl 'vllm/*' -d /tmp/vllm
    unzip -q /tmp/pkgs/sglang-*.whl 'sglang/*' -d /tmp/sglang
    python scripts/gen_flag_lists.py --vllm /tmp/vllm=0.27.1 --vllm /tmp/vllm-0.10.1=0.10.1 \
        --sglang /tmp/sglang --sglang-version 0.5.17 --atom-git /path/to/ATOM.git --atom-commit <sha>
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "aim_catalog" / "backends" / "data" / "flags.json"


def literal_flags(tree: ast.AST, within: str | None = None) -> set[str]:
    """Option strings of every ``*.add_argument("--x", "-y", ...)`` call (in ``within``)."""
    scope: ast.AST = tree
    if within is not None:
        found = [
            n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == within
        ]
        if not found:
            raise SystemExit(f"no {within} in the source")
        scope = found[0]
    out: set[str] = set()
    for node in ast.walk(scope):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_argument"
        ):
            names = [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.startswith("-")
            ]
            out.update(names)
            action = next((k.value for k in node.keywords if k.arg == "action"), None)
            if action is not None and ast.unparse(action).endswith("BooleanOptionalAction"):
                out.update("--no-" + n[2:] for n in names if n.startswith("--"))
    return out


def class_fields(tree: ast.AST, name: str) -> list[ast.AnnAssign]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == name:
            return [s for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
    raise SystemExit(f"no class {name}")


def is_bool(annotation: ast.expr) -> bool:
    text = ast.unparse(annotation)
    return text in ("bool", "bool | None", "Optional[bool]", "None | bool") or text.startswith("bool |")


def vllm_flags(root: Path) -> tuple[list[str], list[str]]:
    files = ["vllm/engine/arg_utils.py", "vllm/entrypoints/openai/cli_args.py"]
    engine = ast.parse((root / files[0]).read_text())
    frontend = ast.parse((root / files[1]).read_text())
    flags = literal_flags(engine) | literal_flags(frontend, "make_arg_parser")
    bools: set[str] = set()
    frontend_classes = [
        n.name
        for n in ast.walk(frontend)
        if isinstance(n, ast.ClassDef) and n.name in ("BaseFrontendArgs", "FrontendArgs")
    ]
    for cls in frontend_classes:
        for field in class_fields(frontend, cls):
            assert isinstance(field.target, ast.Name)
            flags.add("--" + field.target.id.replace("_", "-"))
            if is_bool(field.annotation):
                bools.add(field.target.id)
    configs = sorted((root / "vllm" / "config").glob("*.py")) + sorted((root / "vllm").glob("config.py"))
    for config in configs:
        files.append(str(config.relative_to(root)))
        for node in ast.walk(ast.parse(config.read_text())):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and is_bool(node.annotation)
            ):
                bools.add(node.target.id)
    for field in class_fields(engine, "EngineArgs"):
        assert isinstance(field.target, ast.Name)
        if is_bool(field.annotation):
            bools.add(field.target.id)
    flags |= {"--no-" + f[2:] for f in list(flags) if f.startswith("--") and f[2:].replace("-", "_") in bools}
    return sorted(flags), files


def sglang_flags(root: Path) -> tuple[list[str], list[str]]:
    files = ["sglang/srt/server_args.py"]
    tree = ast.parse((root / files[0]).read_text())
    flags = literal_flags(tree, "add_cli_args")
    for field in class_fields(tree, "ServerArgs"):
        assert isinstance(field.target, ast.Name)
        ann = field.annotation
        if not (isinstance(ann, ast.Subscript) and ast.unparse(ann.value) in ("A", "Annotated")):
            continue
        parts = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        meta = parts[1:]
        arg_call = next((m for m in meta if isinstance(m, ast.Call) and ast.unparse(m.func) == "Arg"), None)
        has_help = any(isinstance(m, ast.Constant) and isinstance(m.value, str) for m in meta)
        if arg_call is None and not has_help:
            continue  # no CLI metadata: add_cli_args_from_dataclass skips it
        keywords = {k.arg: k.value for k in arg_call.keywords} if arg_call else {}
        if "no_cli" in keywords and ast.literal_eval(keywords["no_cli"]) is True:
            continue
        name = "--" + field.target.id.replace("_", "-")
        if "cli_name" in keywords:
            name = ast.literal_eval(keywords["cli_name"])
        flags.add(name)
        if "aliases" in keywords:
            flags.update(ast.literal_eval(keywords["aliases"]))
    return sorted(flags), files


def atom_flags(git_dir: Path, commit: str) -> tuple[list[str], list[str]]:
    files = ["atom/model_engine/arg_utils.py", "atom/entrypoints/openai/api_server.py"]
    flags: set[str] = set()
    for path in files:
        text = subprocess.run(
            ["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        flags |= literal_flags(ast.parse(text))
    return sorted(flags), files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--vllm",
        action="append",
        required=True,
        metavar="DIR=VERSION",
        help="unpacked vllm wheel (the dir holding vllm/) and its version; repeat for several versions",
    )
    parser.add_argument(
        "--sglang", type=Path, required=True, help="unpacked sglang wheel (the dir holding sglang/)"
    )
    parser.add_argument("--sglang-version", required=True)
    parser.add_argument("--atom-git", type=Path, required=True, help="git dir of ROCm/ATOM")
    parser.add_argument("--atom-commit", required=True)
    parser.add_argument("--out", type=Path, default=OUT)
    opts = parser.parse_args(argv)
    data: dict[str, Any] = {
        "_comment": "Generated by scripts/gen_flag_lists.py from each tool's own argument definitions; "
        "do not edit by hand. Used by `validate`/`ingest` to flag unknown server flags.",
    }
    versions = []
    for item in opts.vllm:
        root, _, version = item.rpartition("=")
        vflags, vfiles = vllm_flags(Path(root))
        versions.append(
            {
                "version": version,
                "source": "PyPI wheel vllm==" + version,
                "files": [*vfiles[:2], "vllm/config*.py (boolean fields)"],
                "flags": vflags,
            }
        )
    data["vllm"] = {"versions": versions}
    sglang, sfiles = sglang_flags(opts.sglang)
    data["sglang"] = {
        "versions": [
            {
                "version": opts.sglang_version,
                "source": "PyPI wheel sglang==" + opts.sglang_version,
                "files": sfiles,
                "flags": sglang,
            }
        ]
    }
    atom, afiles = atom_flags(opts.atom_git, opts.atom_commit)
    data["atom"] = {
        "snake_and_kebab": True,
        "versions": [
            {
                "version": f"git {opts.atom_commit[:12]}",
                "source": "https://github.com/ROCm/ATOM",
                "files": afiles,
                "flags": atom,
            }
        ],
    }
    opts.out.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    counts = [len(v["flags"]) for v in versions]
    print(f"vllm {counts}, sglang {len(sglang)}, atom {len(atom)} flags -> {opts.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
