"""The server's argv for a selected config: the recipe's flags, the launcher's own flags,
and the shell wrapper that runs the config's setup steps before the server.

The recipe's flags are split (``--flag=value`` keys of older rows), translated for the
backend (vLLM names -> SGLang's), overridden by ``--arg``; the flags the launcher owns
(host, port, model) are replaced, and the tensor x pipeline parallel size is checked
against the config's GPU count. A config may serve only its recipe's model.

A config with ``setup`` (``recipes.setup``: ``pip install`` lines) runs
``/bin/sh -c SCRIPT aim-setup ARGV...`` instead of ARGV (``with_setup``, the one builder both
targets use): the script runs each step in order, each word shell-quoted, prints a marker
line before each (``aim-catalog setup 1/2: pip install amd-quark``), stops at the first
failing step with a marker naming it and that step's exit code, then ``exec "$@"``: the
server argv arrives as the shell's positional parameters and is never parsed by the shell.
``setup_stage`` reads those markers back from the container's log. Imports only ``backends``,
``errors``, ``recipes`` and ``selection.request``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from typing import Any

from aim_catalog.backends import registry as backends
from aim_catalog.backends.envpolicy import SECRET_FLAG_PROBLEM, is_secret_flag
from aim_catalog.backends.server_args import server_argv
from aim_catalog.errors import InvalidRecipeInput, Problem, UsageProblem, shown
from aim_catalog.recipes import setup as recipe_setup
from aim_catalog.recipes.flags import served_models, split_flag
from aim_catalog.selection.request import Candidate

SETUP_SHELL = "/bin/sh"  # every image a backend runs has one (Ubuntu, Debian, RHEL bases)
SETUP_NAME = "aim-setup"  # the wrapper's $0: what the shell's own messages call it
MARKER = "aim-catalog setup"
_STEP = re.compile(rf"{MARKER} (\d+/\d+): (.*)")
_FAILED = re.compile(rf"{MARKER} (\d+/\d+) failed \((exit \d+)\): (.*)")
_DONE = f"{MARKER} done: starting the server"


def _size(args: dict[str, Any], aliases: tuple[str, ...]) -> tuple[str | None, int]:
    for flag in aliases:
        if flag in args and args[flag] not in (None, False, "false"):
            try:
                return flag, int(str(args[flag]).strip())
            except ValueError as exc:
                raise UsageProblem(f"{flag} must be an integer, got {args[flag]!r}") from exc
    return None, 1


def server_command(
    candidate: Candidate, overrides: dict[str, str | bool], container_port: int
) -> tuple[list[str], list[str]]:
    """The server argv for the config, and notes about what was adjusted."""
    backend = backends.get(candidate.backend)
    notes: list[str] = []
    args = _split_keys(candidate)
    if backend.translate:
        renamed = {backend.translate.get(k, k): v for k, v in args.items()}
        changed = sorted(k for k in args if k in backend.translate)
        if changed:
            notes.append(
                f"translated vLLM flags for {backend.label}: "
                + ", ".join(f"{k} -> {backend.translate[k]}" for k in changed)
            )
        args = renamed
    for flag, value in overrides.items():
        if flag in backends.model_flags(candidate.backend):
            raise UsageProblem(f"--arg {flag}: the model served is the MODEL argument's (its recipe's)")
        args[flag] = value
    replaced = [flag for flag in backend.owned_flags if flag in args]
    for flag in replaced:
        del args[flag]
    if replaced:
        notes.append(f"recipe's {', '.join(replaced)} replaced by the launcher's")
    model = candidate.huggingface_id
    allowed = served_models(candidate.huggingface_id, candidate.model_id, candidate.profile_type)
    for flag in backends.model_flags(candidate.backend):
        named = args.pop(flag, None)
        if named is None:
            continue
        if str(named) not in allowed:  # an older or hand-edited catalog row: never serve another model
            where = f"{candidate.backend} {candidate.gpu_count}_gpu args.{flag}"
            problem = (
                f"names the model {shown(named)}, not the recipe's huggingface_id "
                f"{shown(candidate.huggingface_id)}; a config serves its recipe's model"
            )
            raise InvalidRecipeInput([Problem(candidate.recipe_id, 0, 0, where, problem)])
        model = str(named)
    if model != candidate.huggingface_id:
        notes.append(f"serves the weights {model} (the AIM profile's model_id)")
    tp_flag, tp = _size(args, backend.tp_aliases)
    _, pp = _size(args, backend.pp_aliases)
    if tp_flag is None:
        args[backend.tp_flag] = str(candidate.gpu_count)
        tp = candidate.gpu_count
    if tp * pp > candidate.gpu_count:
        raise UsageProblem(
            f"tensor x pipeline parallel size {tp} x {pp} = {tp * pp} needs more than the "
            f"{candidate.gpu_count} GPU(s) of this config"
        )
    if tp * pp < candidate.gpu_count:
        notes.append(f"TP x PP = {tp * pp} uses fewer than the {candidate.gpu_count} allocated GPUs")
    rest = [*server_argv(args), backend.host_flag, "0.0.0.0", backend.port_flag, str(container_port)]
    return backend.argv(str(model), rest), notes


def _split_keys(candidate: Candidate) -> dict[str, Any]:
    """The config's flags with ``--flag=value`` keys split (rows ingested before the
    validator split them), so the launcher's own flags and the sizes are found."""
    args: dict[str, Any] = {}
    for flag, value in candidate.args.items():
        key, value, problem = split_flag(flag, value)
        if problem is None and key in args:
            problem = f"{key} is given twice"
        if problem is None and is_secret_flag(key) and value not in (None, True, False):
            problem = SECRET_FLAG_PROBLEM.format(flag=key)  # a row from before this check
        if problem is not None:
            raise InvalidRecipeInput(
                [
                    Problem(
                        candidate.recipe_id,
                        0,
                        0,
                        f"{candidate.backend} {candidate.gpu_count}_gpu args",
                        problem,
                    )
                ]
            )
        args[key] = value
    return args


def check_setup(candidate: Candidate) -> list[str]:
    """The config's setup lines, refusing what the recipe validator refuses (a row of a shared
    catalog written by another writer, or by hand): only ``pip install`` of named packages."""
    lines = []
    for index, line in enumerate(candidate.setup):
        problem = (
            recipe_setup.line_problem(line)
            if isinstance(line, str)
            else f"must be a pip install line, got {shown(line)}"
        )
        if problem is not None:
            where = f"{candidate.backend} {candidate.gpu_count}_gpu setup[{index}]"
            raise InvalidRecipeInput([Problem(candidate.recipe_id, 0, 0, where, problem)])
        lines.append(" ".join(recipe_setup.words(line)))
    return lines


def setup_script(setup: Sequence[str]) -> str:
    """The POSIX shell script that runs ``setup`` in order, then ``exec "$@"``: one command
    a line, so that the manifest and ``docker inspect`` show it as it reads. Each word is
    quoted (a pin such as ``transformers>=4.57,<5`` holds shell redirections); the markers
    are printed with ``printf`` (``echo`` of some shells reads backslashes), their text as
    arguments, never as the format.
    """
    total = len(setup)
    parts = []
    for number, line in enumerate(setup, start=1):
        step = f"{MARKER} {number}/{total}"
        run = " ".join(shlex.quote(word) for word in recipe_setup.words(line))
        said = shlex.quote(f"{step}: {line}")
        failed = " ".join((shlex.quote(f"{step} failed"), '"$code"', shlex.quote(line)))
        parts.append(f"printf '%s\\n' {said}")
        parts.append(f"{run} || {{ code=$?; printf '%s (exit %s): %s\\n' {failed}; exit \"$code\"; }}")
    return "\n".join([*parts, f"printf '%s\\n' {shlex.quote(_DONE)}", 'exec "$@"'])


def with_setup(setup: Sequence[str], argv: list[str]) -> list[str]:
    """What the container runs: ``argv`` itself without setup, else the wrapper around it."""
    if not setup:
        return list(argv)
    return [SETUP_SHELL, "-c", setup_script(setup), SETUP_NAME, *argv]


def setup_stage(log: str) -> tuple[str, str] | None:
    """Where the setup stood when ``log`` (the container's output, its end at least) ends:
    ("failed", "step 2/2 failed (exit 1): pip install x"), ("running", "step 1/2: pip install
    y"), or None (no setup marker, or the setup finished and the server was started)."""
    for line in reversed(log.splitlines()):
        line = line.strip()
        if line == _DONE:
            return None
        failed = _FAILED.fullmatch(line)
        if failed:
            return "failed", f"step {failed[1]} failed ({failed[2]}): {failed[3]}"
        started = _STEP.fullmatch(line)
        if started:
            return "running", f"step {started[1]}: {started[2]}"
    return None
