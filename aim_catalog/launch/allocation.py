"""Which GPUs a launch gets: the host's detected GPUs minus those live containers hold.

Held GPUs come from the ``aim-catalog.gpus`` label of the engine's live labelled containers
(the Docker target's ``engine.held_gpus``); ``--gpus`` names them explicitly. Pure functions: no Docker call.
"""

from __future__ import annotations

from aim_catalog.errors import LaunchFailed, UsageProblem
from aim_catalog.host.gpus import Gpu


def allocate(detected: list[Gpu], held: dict[int, str], count: int, explicit: list[int] | None) -> list[Gpu]:
    by_index = {gpu.index: gpu for gpu in detected}
    if explicit is not None:
        unknown = [i for i in explicit if i not in by_index]
        if unknown:
            raise UsageProblem(f"no GPU {unknown} on this host (detected: {sorted(by_index)})")
        if len(explicit) != count:
            raise UsageProblem(f"--gpus names {len(explicit)} GPU(s) but the config needs {count}")
        taken = {i: held[i] for i in explicit if i in held}
        if taken:
            raise LaunchFailed(f"GPU(s) already in use: {holders(taken)}")
        return [by_index[i] for i in explicit]
    free = [gpu for gpu in detected if gpu.index not in held]
    if len(free) < count:
        who = f"; held by {holders(held)}" if held else ""
        raise LaunchFailed(
            f"{count} GPU(s) needed, {len(free)} of {len(detected)} free{who} "
            "(`aim-catalog ps` lists them, `aim-catalog stop NAME` frees them)"
        )
    return free[:count]


def holders(held: dict[int, str]) -> str:
    by_name: dict[str, list[int]] = {}
    for index, name in sorted(held.items()):
        by_name.setdefault(name, []).append(index)
    return ", ".join(f"{name} (GPU {','.join(map(str, idx))})" for name, idx in by_name.items())
