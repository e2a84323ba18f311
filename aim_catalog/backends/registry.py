"""The inference servers the catalog knows, read from ``data/backends.json``.

Each backend is described once there: how to start it (command, how the model is passed),
its tensor/pipeline-parallel flags and their aliases, the host and port flags the launcher
owns, the port it listens on in the container, the endpoints that say it is ready, the
vLLM flag names it translates (the original AIM Engine recipes put vLLM names in SGLang
sections), and how its images' tags name the release they hold. Adding a backend is a
change to that file plus tests; no other module names one.

The file is small JSON, read once per process (``json`` is cheap; no YAML on this path).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "backends.json"


@dataclass(frozen=True)
class Backend:
    name: str
    label: str
    command: tuple[str, ...]
    model_positional: bool
    model_flags: tuple[str, ...]
    tp_flag: str
    tp_aliases: tuple[str, ...]
    pp_aliases: tuple[str, ...]
    host_flag: str
    port_flag: str
    owned_flags: tuple[str, ...]  # host/port spellings the launcher sets itself
    container_port: int
    readiness: tuple[str, ...]
    translate: dict[str, str]
    # Its parser takes a unique prefix of a long option as that option (argparse's
    # allow_abbrev): SGLang's --tp is --tp-size. flaglint normalises such spellings.
    argparse_abbrev: bool = False
    # The backend whose flag names its sections are known to carry by mistake (the original
    # AIM Engine recipes put vLLM flags in SGLang sections): flaglint says so by name.
    translates_flags_of: str | None = None
    title: str = ""  # the project's own spelling, for messages (label is AIM Engine's output)
    default: bool = False  # what --backend means when not given (the first one marked so)
    # Regular expressions that read the release an image's tag names (group "version"):
    # ``images.image_version`` applies them; flag lint checks a config against that release.
    image_version_patterns: tuple[str, ...] = ()

    def model_in(self, args: dict[str, Any]) -> str | None:
        """The model a config's args name, if any (under any of the backend's model flags)."""
        for flag in self.model_flags:
            if args.get(flag) not in (None, True, False):
                return str(args[flag])
        return None

    def argv(self, model: str, rest: list[str]) -> list[str]:
        """The server command: the model positionally or under the backend's model flag."""
        if self.model_positional:
            return [*self.command, model, *rest]
        return [*self.command, self.model_flags[0], model, *rest]

    def served_model(self, command: list[str]) -> str | None:
        """The model name clients send, from a command built by ``argv``."""
        if "--served-model-name" in command:
            index = command.index("--served-model-name") + 1
            if index < len(command):
                return command[index]
        if self.model_positional and len(command) > len(self.command):
            return command[len(self.command)]
        for flag in self.model_flags:
            if flag in command and command.index(flag) + 1 < len(command):
                return command[command.index(flag) + 1]
        return None


def _load() -> dict[str, Backend]:
    raw = json.loads(DATA.read_text(encoding="utf-8"))["backends"]
    out: dict[str, Backend] = {}
    for name, spec in raw.items():
        out[name] = Backend(
            name=name,
            label=spec["label"],
            command=tuple(spec["command"]),
            model_positional=bool(spec["model"]["positional"]),
            model_flags=tuple(spec["model"]["flags"]),
            tp_flag=spec["tp_flag"],
            tp_aliases=tuple(spec["tp_aliases"]),
            pp_aliases=tuple(spec["pp_aliases"]),
            host_flag=spec["host_flag"],
            port_flag=spec["port_flag"],
            owned_flags=(spec["host_flag"], spec["port_flag"], *spec.get("owned_flags", [])),
            container_port=int(spec["container_port"]),
            readiness=tuple(spec["readiness"]),
            translate=dict(spec.get("translate", {})),
            argparse_abbrev=bool(spec.get("argparse_abbrev", False)),
            translates_flags_of=spec.get("translates_flags_of"),
            title=str(spec.get("title") or spec["label"]),
            default=bool(spec.get("default", False)),
            image_version_patterns=tuple(spec.get("image_version_patterns", ())),
        )
    return out


_BACKENDS = _load()  # the data file is read once, at import (a few KB)
_DEFAULTS = [name for name, b in _BACKENDS.items() if b.default]

BACKENDS: tuple[str, ...] = tuple(_BACKENDS)
BACKEND_LABELS: dict[str, str] = {name: b.label for name, b in _BACKENDS.items()}
DEFAULT_BACKEND: str = _DEFAULTS[0] if _DEFAULTS else BACKENDS[0]
# Every spelling of a TP / PP flag any backend knows (the recipe validator checks them all).
TP_FLAGS: tuple[str, ...] = tuple(dict.fromkeys(f for b in _BACKENDS.values() for f in b.tp_aliases))
PP_FLAGS: tuple[str, ...] = tuple(dict.fromkeys(f for b in _BACKENDS.values() for f in b.pp_aliases))


def get(name: str) -> Backend:
    """The backend called ``name``; KeyError for one the data file does not describe."""
    return _BACKENDS[name]


def model_flags(name: str) -> tuple[str, ...]:
    """Every spelling that names the model in a ``name`` config: the backend's model flags
    and the vLLM names it translates to one of them."""
    backend = _BACKENDS[name]
    translated = (k for k, v in backend.translate.items() if v in backend.model_flags)
    return tuple(dict.fromkeys((*backend.model_flags, *translated)))


def all_backends() -> list[Backend]:
    return list(_BACKENDS.values())
