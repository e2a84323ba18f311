"""A local InferenceX checkout: its commit, its AMD master configs, ``MODELS.md`` and scripts.

The checkout is read as it is on disk, at whatever commit (``git rev-parse HEAD`` when it
has git metadata; without it, recipes record no commit and the plan says so). The AMD
configs are ``configs/amd-*.yaml`` (active; ``amd-master.yaml`` first) and
``configs/deprecated/amd-*.yaml`` (archived: benchmarks InferenceX no longer runs).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aim_catalog.errors import UsageProblem

REPOSITORY = "https://github.com/SemiAnalysisAI/InferenceX"
MASTER = "configs/amd-master.yaml"


@dataclass(frozen=True)
class ConfigFile:
    path: str  # relative to the checkout
    deprecated: bool
    entries: dict[str, Any] | str  # entry name -> entry; or why the file cannot be read


@dataclass(frozen=True)
class Checkout:
    root: Path
    commit: str | None  # None: no git metadata
    modified: bool = False  # tracked files differ from the commit (git status)

    @classmethod
    def open(cls, root: Path) -> Checkout:
        if not (root / MASTER).is_file():
            raise UsageProblem(f"{root}: not an InferenceX checkout (no {MASTER})")
        commit = _commit(root)
        return cls(root, commit, commit is not None and _modified(root))

    def read(self, path: str) -> str | None:
        """A file of the checkout (None when it has none at ``path``)."""
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root.resolve()) or not target.is_file():
            return None
        return target.read_text(encoding="utf-8", errors="replace")

    def config_files(self) -> list[ConfigFile]:
        """The AMD master configs: active ones first (amd-master.yaml leading), then archived."""
        import yaml

        active = sorted(
            self.root.glob("configs/amd-*.yaml"), key=lambda p: (p.name != "amd-master.yaml", p.name)
        )
        archived = sorted(self.root.glob("configs/deprecated/amd-*.yaml"))
        out = []
        for path in [*active, *archived]:
            rel = path.relative_to(self.root).as_posix()
            try:
                data = yaml.load(
                    path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
                )
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                out.append(ConfigFile(rel, path in archived, f"cannot be read: {str(exc).splitlines()[0]}"))
                continue
            if not isinstance(data, dict):
                out.append(ConfigFile(rel, path in archived, "is not a mapping of entry names to entries"))
                continue
            out.append(ConfigFile(rel, path in archived, data))
        return out

    def models_md(self) -> str | None:
        return self.read("MODELS.md")


def _modified(root: Path) -> bool:
    """Whether the checkout's tracked files differ from its commit."""
    git = shutil.which("git")
    done = subprocess.run(
        [str(git), "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and bool(done.stdout.strip())


def _commit(root: Path) -> str | None:
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return None
    done = subprocess.run(
        [git, "-C", str(root), "rev-parse", "--verify", "HEAD"], capture_output=True, text=True, check=False
    )
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and len(commit) == 40 else None
