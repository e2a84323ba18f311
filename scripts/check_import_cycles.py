#!/usr/bin/env python3
"""Find import cycles among a package's modules, every import counted.

Imports at module level, inside functions and under ``if TYPE_CHECKING:`` all count: a
deferred import still makes one module depend on another, and a cycle through it is a
knot in the design even when Python can load it. Prints each cycle (a strongly connected
component of the module graph, with one path through it) and exits 1 when there is one.

    python3 scripts/check_import_cycles.py            # aim_catalog, beside this script
    python3 scripts/check_import_cycles.py path/to/pkg
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def modules_of(root: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module of the package at ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, tree: ast.AST) -> set[str]:
    """Every dotted name ``name`` (the module in ``path``) imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # a submodule, maybe
    return names


def graph(root: Path) -> dict[str, set[str]]:
    mods = modules_of(root)

    def resolve(dotted: str) -> str | None:
        while dotted and dotted not in mods:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    edges: dict[str, set[str]] = {}
    for name, path in mods.items():
        targets = {resolve(n) for n in imported(name, path, ast.parse(path.read_text(), str(path)))}
        # A module importing its own package's __init__ is how Python loads a submodule
        # anyway (the package runs first): not an edge of the design.
        edges[name] = {t for t in targets if t and t != name and not name.startswith(t + ".")}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in edges:
                    continue
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(edges[succ]))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def a_path(edges: dict[str, set[str]], component: list[str]) -> list[str]:
    """One cycle through the component's first module, for the message."""
    members = set(component)
    start = component[0]
    paths = [[start]]
    seen = {start}
    while paths:
        path = paths.pop(0)
        for succ in sorted(edges[path[-1]] & members):
            if succ == start:
                return [*path, start]
            if succ not in seen:
                seen.add(succ)
                paths.append([*path, succ])
    return component


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / "aim_catalog"
    edges = graph(root)
    found = cycles(edges)
    for component in found:
        print(f"cycle among {len(component)} modules: {' -> '.join(a_path(edges, component))}")
    print(f"{len(found)} import cycles among {len(edges)} modules of {root.name}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
