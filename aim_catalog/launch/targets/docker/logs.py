"""A container's logs as users see them: secrets masked, whole lines at a time.

The values a container was started with (secret-named variables, secret-valued server
flags such as ``--api-key``) are read from the container itself and replaced by ``***``
in every log line shown: ``logs``, ``logs --follow`` and the tail a failed launch prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from docker.errors import DockerException, NotFound

from aim_catalog.backends.envpolicy import is_secret, mask_secret_flags
from aim_catalog.errors import UsageProblem
from aim_catalog.launch.runspec import MASK
from aim_catalog.notes import Write

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container


def mask(text: str, secrets: list[str]) -> str:
    for value in secrets:
        if value:
            text = text.replace(value, MASK)
    return text


def log_tail(container: Container, lines: int, secrets: list[str]) -> str:
    try:
        raw = container.logs(tail=lines)
    except DockerException:
        return ""
    return mask(raw.decode("utf-8", "replace").rstrip(), secrets)


def stream_logs(
    client: DockerClient,
    container_id: str,
    *,
    follow: bool,
    tail: int | Literal["all"],
    write: Write,
) -> None:
    try:
        container = client.containers.get(container_id)
    except NotFound as exc:
        raise UsageProblem("the container no longer exists (`aim-catalog ps --all`)") from exc
    secrets = container_secrets(container)
    if not follow:
        write(mask(container.logs(tail=tail).decode("utf-8", "replace"), secrets))
        return
    pending = b""  # whole lines only, so a secret split across two chunks is still masked
    for chunk in container.logs(stream=True, follow=True, tail=tail):
        pending += chunk
        lines, _, pending = pending.rpartition(b"\n")
        if lines:
            write(mask((lines + b"\n").decode("utf-8", "replace"), secrets))
    if pending:
        write(mask(pending.decode("utf-8", "replace"), secrets))


def container_secrets(container: Container) -> list[str]:
    """The secret values the container was started with (not this shell's, which may differ)."""
    values = []
    for item in container.attrs.get("Config", {}).get("Env") or []:
        key, _, value = item.partition("=")
        if is_secret(key) and value:
            values.append(value)
    # and the values of secret-valued server flags (--api-key KEY): servers log their args
    config = container.attrs.get("Config", {})
    argv = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
    for shown, real in zip(mask_secret_flags(argv, "\0"), argv, strict=True):
        if shown != real:
            values.append(real.split("=", 1)[1] if shown.endswith("=\0") else real)
    return values
