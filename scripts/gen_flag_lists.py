#!/usr/bin/env python3
"""Regenerate aim_catalog/backends/data/flags.json: every recorded version's server option
names of vLLM, SGLang and ATOM, each with where it was read.

One command, from the checkout (PyPI reachable; a clone or mirror of github.com/ROCm/ATOM
on disk, its tags fetched):

    .venv/bin/python scripts/gen_flag_lists.py --atom-git /path/to/ATOM.git

Which versions (each entry's ``named_by`` says why it is there):

* every release a bundled image's tag names (``image:`` of ``seed_recipes/**/*.yaml``,
  configs and benchmark rows) and a default image's (``backends/data/images.json``), as
  ``aim_catalog.backends.images.image_version`` reads tags: the lint checks a config
  against its image's version, so those are the versions it needs;
* the current release: PyPI's for vLLM and SGLang, the newest ``vX.Y.Z`` tag for ATOM;
* every version the previous flags.json recorded (nothing is dropped silently;
  ``--drop vllm=0.9.0.1`` drops one), and ``--add vllm=0.33.0`` for one more.

Where from (``source``, ``files``): vLLM and SGLang from their PyPI wheels, read with HTTP
Range requests (``flagsources.WheelTree``: only the files below, each checked against the
wheel's RECORD; the wheel's URL and PyPI's sha256 are recorded); ATOM, not on PyPI, from the
git tag ``v<version>`` (or ``git <sha>`` for a commit) of the ROCm/ATOM repository. A
release with no source (not on PyPI, no wheel, no tag: ATOM 0.1.2.post has none) is
recorded with ``unreadable`` and no flags; the lint then falls back to every readable
version and says so. rocm/vllm and rocm/atom images are AMD's builds of those releases.

How each tool's flags are read, from which files: ``scripts/flagreaders.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from flagreaders import READERS

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "aim_catalog" / "backends" / "data" / "flags.json"
ATOM_REPOSITORY = "https://github.com/ROCm/ATOM"
# Fewer flags than this means the definitions changed shape (SGLang 0.5.23 gave the old reader 9):
# vLLM 0.9 defines ~180, SGLang 0.5.9 ~340, ATOM 0.1.2 27.
MIN_FLAGS = {"vllm": 150, "sglang": 300, "atom": 20}
PYPI_PROJECTS = {"vllm": "vllm", "sglang": "sglang"}  # ATOM is not on PyPI: its git tags


# --- which versions ----------------------------------------------------------------------


def bundled_images(recipes: Path) -> dict[str, set[str]]:
    """backend -> every ``image`` its sections of the bundled recipes name (configs and rows)."""
    import yaml

    from aim_catalog.backends import registry

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out: dict[str, set[str]] = {b: set() for b in registry.BACKENDS}
    for path in sorted(recipes.rglob("*.yaml")):
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # a safe loader
        for backend in registry.BACKENDS:
            section = doc.get(f"{backend}_serve") if isinstance(doc, dict) else None
            for config in (section or {}).values():
                if not isinstance(config, dict):
                    continue
                rows = [config, *(r for r in config.get("benchmarks") or [] if isinstance(r, dict))]
                out[backend] |= {str(r["image"]) for r in rows if r.get("image")}
    return out


def wanted_versions(
    previous: dict[str, Any], recipes: Path, newest: dict[str, str], add: list[str], drop: list[str]
) -> dict[str, dict[str, list[str]]]:
    """backend -> version -> why it is recorded."""
    from aim_catalog.backends import images

    wanted: dict[str, dict[str, list[str]]] = {b: {} for b in READERS}

    def want(backend: str, version: str, why: str) -> None:
        wanted[backend].setdefault(version, []).append(why)

    for backend, refs in bundled_images(recipes).items():
        for ref in sorted(refs):
            version = images.image_version(backend, ref)
            if version and backend in wanted:
                want(backend, version, f"bundled image {ref}")
    for default in images.defaults():
        version = images.image_version(default.backend, default.image)
        if version and default.backend in wanted:
            want(default.backend, version, f"default image {default.image} ({default.architecture})")
    for backend, version in newest.items():
        want(backend, version, "the current release" + (" on PyPI" if backend in PYPI_PROJECTS else " tag"))
    for item in add:
        backend, _, version = item.partition("=")
        want(backend, version, "asked for (--add)")
    for backend in wanted:
        for entry in previous.get(backend, {}).get("versions", []):
            if entry["version"] not in wanted[backend]:
                want(backend, entry["version"], "recorded before (kept; --drop removes it)")
    for item in drop:
        backend, _, version = item.partition("=")
        wanted.get(backend, {}).pop(version, None)
    return wanted


def version_key(version: str) -> tuple[int, Any]:
    """Release order; a ``git <sha>`` snapshot (not a release) sorts after the releases."""
    from packaging.version import InvalidVersion, Version

    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


def release_tags(tags: list[str]) -> list[str]:
    """``vX.Y.Z`` tags (not ``-rc`` ones)."""
    return [t for t in tags if re.fullmatch(r"v\d+(\.\d+)+(\.post\d*)?", t)]


def newest_tag(tags: list[str]) -> str:
    return max(release_tags(tags), key=lambda t: version_key(t[1:]))[1:]


# --- reading one version -----------------------------------------------------------------


def read_version(backend: str, version: str, atom_git: Path, client: Any) -> dict[str, Any]:
    """The recorded entry of one version: its flags and where they were read, or why not."""
    from flagsources import GitTree, Unpublished, git_tags, open_wheel

    try:
        if backend in PYPI_PROJECTS:
            tree, source = open_wheel(client, PYPI_PROJECTS[backend], version)
        else:
            snapshot = re.fullmatch(r"git ([0-9a-f]{7,40})", version)
            tag = f"v{version}"
            if snapshot is None and tag not in git_tags(atom_git):
                # a post release is its own build: no other tag is read in its place
                releases = sorted(release_tags(git_tags(atom_git)), key=lambda t: version_key(t[1:]))
                listed = ", ".join(releases)
                raise Unpublished(f"no tag {tag} in {ATOM_REPOSITORY} (its release tags: {listed})")
            tree = GitTree(atom_git, snapshot.group(1) if snapshot else tag)
            source = {"kind": "git", "repository": ATOM_REPOSITORY, "commit": tree.commit, "date": tree.date}
            if snapshot is None:
                source["tag"] = tag
    except Unpublished as gone:
        return {"version": version, "unreadable": str(gone)}
    found = READERS[backend](tree)
    if len(found.flags) < MIN_FLAGS[backend]:
        raise SystemExit(
            f"{backend} {version}: only {len(found.flags)} flags; its definitions changed shape, "
            f"update {READERS[backend].__name__} in flagreaders.py"
        )
    files = [p for p in dict.fromkeys(tree.read_paths) if not re.fullmatch(r"vllm/config/[^/]+\.py", p)]
    if any(re.fullmatch(r"vllm/config/[^/]+\.py", p) for p in tree.read_paths):
        files.append("vllm/config/*.py (boolean fields)")
    entry: dict[str, Any] = {"version": version, "source": source, "files": files}
    if found.attached:
        entry["attached"] = dict(sorted(found.attached.items()))
    if found.snake_and_kebab:
        entry["snake_and_kebab"] = True
    entry["flags"] = sorted(found.flags)
    return entry


COMMENT = (
    "Generated by scripts/gen_flag_lists.py (its docstring: the one command, which versions, "
    "how each tool's flags are read); do not edit by hand. Per backend, each version's option names "
    "(oldest first), why it is recorded ('named_by') and where it was read ('source', 'files': a "
    "wheel's files were read by HTTP Range requests and each matched the wheel's RECORD; 'sha256' is "
    "PyPI's digest of the whole wheel); 'unreadable' says why a version has no list. 'attached': "
    "short options the server's parser takes with a value glued on (vLLM -O3) and what it rewrites "
    "them to; 'snake_and_kebab': the parser accepts both spellings of every long flag. "
    "validate/ingest lint a config against the version its image's tag names (recipes/flaglint.py)."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--atom-git", type=Path, required=True, help="git dir of a ROCm/ATOM clone or mirror")
    parser.add_argument("--recipes", type=Path, default=REPO / "seed_recipes", help="the bundled recipes")
    parser.add_argument("--add", action="append", default=[], metavar="BACKEND=VERSION")
    parser.add_argument("--drop", action="append", default=[], metavar="BACKEND=VERSION")
    parser.add_argument("--out", type=Path, default=OUT)
    opts = parser.parse_args(argv)

    import httpx
    from flagsources import TIMEOUT, git_tags, newest_release

    previous = json.loads(opts.out.read_text(encoding="utf-8")) if opts.out.exists() else {}
    newest = {b: newest_release(p) for b, p in PYPI_PROJECTS.items()}
    newest["atom"] = newest_tag(git_tags(opts.atom_git))
    wanted = wanted_versions(previous, opts.recipes, newest, opts.add, opts.drop)
    data: dict[str, Any] = {"_comment": COMMENT}
    with httpx.Client(timeout=TIMEOUT, follow_redirects=True) as client:
        for backend, versions in wanted.items():
            entries = []
            for version in sorted(versions, key=version_key):
                entry = read_version(backend, version, opts.atom_git, client)
                entries.append({"version": version, "named_by": sorted(versions[version]), **entry})
                count = len(entry.get("flags", []))
                print(f"{backend} {version}: {count or 'unreadable: ' + entry.get('unreadable', '')}")
            data[backend] = {"versions": entries}
    opts.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"-> {opts.out}")
    return 0


if __name__ == "__main__":  # run as a script: the checkout's aim_catalog (tests import the installed one)
    sys.path.insert(0, str(REPO))
    sys.exit(main())
