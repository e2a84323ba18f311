"""The server's argv for a selected config: the recipe's flags, the launcher's own flags.

The recipe's flags are split (``--flag=value`` keys of older rows), translated for the
backend (vLLM names -> SGLang's), overridden by ``--arg``; the flags the launcher owns
(host, port, model) are replaced, and the tensor x pipeline parallel size is checked
against the config's GPU count. A config may serve only its recipe's model.
"""

from __future__ import annotations

from typing import Any

from aim_catalog.backends import registry as backends
from aim_catalog.backends.envpolicy import SECRET_FLAG_PROBLEM, is_secret_flag
from aim_catalog.backends.server_args import server_argv
from aim_catalog.errors import InvalidRecipeInput, Problem, UsageProblem, shown
from aim_catalog.recipes.flags import served_models, split_flag
from aim_catalog.selection.request import Candidate


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
