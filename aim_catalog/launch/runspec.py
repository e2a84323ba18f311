"""What to run for a selected config: the container spec, built without touching Docker.

Pure functions: the image, the server argv (``vllm serve MODEL ...`` or
``python3 -m sglang.launch_server --model-path MODEL ...``) and the recipe's setup steps run
before it (``container_command``: ``server_command.with_setup``), ROCm devices for the
allocated GPUs, groups, IPC, the Hugging Face cache, labels, and the equivalent
``docker run`` line. The Docker target (``targets/docker/engine.py``) hands the spec to the engine.
"""

from __future__ import annotations

import grp
import re
import shlex
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aim_catalog.backends import images
from aim_catalog.backends import registry as backends
from aim_catalog.backends.envpolicy import (
    denied_reason,
    is_secret,
    is_trusted,
    mask_secret_flags,
    registry_of,
)
from aim_catalog.errors import InvalidRecipeInput, LaunchFailed, Problem, UsageProblem
from aim_catalog.launch.labels import labels_for
from aim_catalog.launch.server_command import check_setup, server_command, with_setup
from aim_catalog.recipes.flags import value_problem
from aim_catalog.selection.request import Candidate
from aim_catalog.settings import dev_root, host_env

# Backends (command, model/TP/host/port flags, container port, readiness) are data:
# aim_catalog/backends/data/backends.json via aim_catalog.backends.registry; default images per
# GPU architecture: aim_catalog/backends/data/images.json via aim_catalog.backends.images.
OWNED_FLAGS = tuple(dict.fromkeys(f for b in backends.all_backends() for f in b.owned_flags))  # launcher's
CONTAINER_HF_HOME = "/root/.cache/huggingface"
SECRET_ENV = ("HF_TOKEN",)  # passed from the host environment when set; any secret-named one is masked
MASK = "***"
# ENTRYPOINT_NOTE: launches set the image's entrypoint to the server argv's program (Docker: --entrypoint
# argv[0] + command argv[1:]; Kubernetes: the whole argv as `command`), never pass the argv
# as arguments to whatever entrypoint the image has: vLLM's official images
# (vllm/vllm-openai-rocm, built from vllm-project/vllm docker/Dockerfile.rocm) have
# `vllm serve` as entrypoint (vllm-project/vllm f1a21afd, docs/deployment/docker.rocm.inc.md:
# "a docker image with `vllm serve` as entrypoint", engine args go "after the image tag"),
# so `IMAGE vllm serve MODEL` would run `vllm serve vllm serve MODEL`; images without one
# (older rocm/vllm builds: `CMD ["/bin/bash"]`, Dockerfile.rocm at 0047fb9d) run it as is.
# A config with setup steps replaces the entrypoint the same way, by `/bin/sh -c SCRIPT
# aim-setup ARGV...` (server_command.with_setup), whose script ends in `exec "$@"`.
SETUP_NOTE = "runs in the container before the server"


@dataclass(frozen=True)
class RunSpec:
    name: str
    image: str
    command: list[str]  # the server's argv
    env: dict[str, str]
    devices: list[str]  # host:container:rwm
    group_add: list[str]
    ports: dict[str, int]  # "8000/tcp" -> host port
    volumes: dict[str, dict[str, str]]
    labels: dict[str, str]
    gpus: list[int] = field(default_factory=list)
    ipc_mode: str | None = "host"
    shm_size: str | None = None
    # An init process as PID 1: forwards SIGTERM to the server (so `stop` is prompt) and
    # reaps the worker processes inference servers spawn.
    init: bool = True
    cap_add: list[str] = field(default_factory=lambda: ["SYS_PTRACE"])
    security_opt: list[str] = field(default_factory=lambda: ["seccomp=unconfined"])
    secret_env: list[str] = field(default_factory=list)  # secret-named variables: by name only
    notes: list[str] = field(default_factory=list)
    readiness: list[str] = field(default_factory=lambda: ["/health", "/v1/models"])
    # The recipe's pip install lines, run in the container before the server (a shared
    # catalog's code in the operator's container: shown before anything runs).
    setup: list[str] = field(default_factory=list)
    # The secrets' values, for the container alone: never in as_dict(), repr or the catalog.
    secret_values: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def registry(self) -> str:
        return registry_of(self.image)

    @property
    def trusted_registry(self) -> bool:
        return is_trusted(self.image)

    @property
    def container_port(self) -> int:
        return int(next(iter(self.ports)).split("/")[0])

    @property
    def host_port(self) -> int:
        return next(iter(self.ports.values()))

    def shown_env(self) -> dict[str, str]:
        return {**self.env, **{name: MASK for name in self.secret_env}}

    def shown_command(self) -> list[str]:
        """The server argv as printed and stored: secret-valued flags (``--api-key``) masked."""
        return mask_secret_flags(self.command, MASK)

    def container_command(self) -> list[str]:
        """What the container runs: the server argv, behind the setup wrapper when there is setup."""
        return with_setup(self.setup, self.command)

    def shown_container_command(self) -> list[str]:
        """``container_command`` as printed and stored: secret-valued flags masked."""
        return with_setup(self.setup, self.shown_command())

    def docker_run(self) -> str:
        """An equivalent ``docker run`` line, quoted for a POSIX shell; secrets by name only."""
        argv = ["docker", "run", "-d", "--name", self.name, *(["--init"] if self.init else [])]
        for device in self.devices:
            argv += ["--device", device]
        for group in self.group_add:
            argv += ["--group-add", group]
        if self.ipc_mode:
            argv.append(f"--ipc={self.ipc_mode}")
        if self.shm_size:
            argv.append(f"--shm-size={self.shm_size}")
        for cap in self.cap_add:
            argv += ["--cap-add", cap]
        for opt in self.security_opt:
            argv += ["--security-opt", opt]
        for source, bind in self.volumes.items():
            argv += ["-v", f"{source}:{bind['bind']}:{bind['mode']}"]
        for key, value in self.env.items():
            argv += ["-e", f"{key}={value}"]
        for key in self.secret_env:
            argv += ["-e", key]  # docker copies the value from the caller's environment
        for container_port, host_port in self.ports.items():
            argv += ["-p", f"{host_port}:{container_port.split('/')[0]}"]
        for key, value in self.labels.items():
            argv += ["--label", f"{key}={value}"]
        # The whole server argv is ours, whatever ENTRYPOINT the image has (ENTRYPOINT_NOTE above):
        # its program replaces the entrypoint (one word there), the rest follows the image.
        command = self.shown_container_command()
        argv += ["--entrypoint", command[0]]
        return shlex.join([*argv, self.image, *command[1:]])

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["secret_values"], data["secret_env"]
        data["env"] = self.shown_env()
        data["command"] = self.shown_command()
        data["container_command"] = self.shown_container_command()
        data["docker_run"] = self.docker_run()
        data["registry"] = self.registry
        data["trusted_registry"] = self.trusted_registry
        return data


def parse_overrides(items: list[str]) -> dict[str, str | bool]:
    """``--arg --flag=value`` (or ``--flag`` alone, a bare flag; ``--flag=false`` drops it)."""
    out: dict[str, str | bool] = {}
    for item in items:
        flag, eq, value = item.partition("=")
        if not flag.startswith("-") or any(c.isspace() for c in flag) or value_problem(flag):
            raise UsageProblem(f"--arg takes --flag=value or --flag, got {item!r}")
        if flag in OWNED_FLAGS:
            raise UsageProblem(f"{flag} is set by the launcher (use --port for the published port)")
        refused = value_problem(value)
        if refused is not None:
            raise UsageProblem(f"--arg {flag}: {refused}")
        out[flag] = value if eq else True
    return out


def parse_env(items: list[str]) -> dict[str, str]:
    """``--env KEY=VALUE``, or ``--env NAME`` to pass NAME's value from this environment
    (how secrets are best passed: a command line is visible to every local user)."""
    out: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise UsageProblem(f"--env takes KEY=VALUE or NAME, got {shown_arg(item, key)}")
        if key in SECRET_ENV and eq:
            raise UsageProblem(f"{key} is taken from the host environment; do not pass it with --env")
        if not eq:
            passed = host_env(key)
            if passed is None:
                raise UsageProblem(
                    f"--env takes KEY=VALUE, or NAME when NAME is set in your environment; {key} is not"
                )
            value = passed
        out[key] = value
    return out


def shown_arg(item: str, key: str) -> str:
    """An --env argument for a message: a secret-named one without its value."""
    return repr(key + "=***") if is_secret(key) and "=" in item else repr(item[:80])


def check_name(name: str) -> str:
    if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+", name):
        raise UsageProblem(f"container name {name!r}: use 2 or more of a-z A-Z 0-9 _ . - (no leading _ . -)")
    return name


def parse_shm_size(value: str | None) -> str | None:
    """Docker's size syntax: a number with an optional b, k, m or g unit (16g)."""
    if value is None:
        return None
    if not re.fullmatch(r"[1-9][0-9]*[bkmgBKMG]?", value.strip()):
        raise UsageProblem(f"--shm-size takes a size like 16g or 512m, got {value!r}")
    return value.strip().lower()


def served_model_name(spec: RunSpec) -> str:
    """The name clients use in requests: --served-model-name if the command sets one."""
    command = spec.command
    if "--served-model-name" in command:
        index = command.index("--served-model-name") + 1
        if index < len(command):
            return command[index]
    for backend in backends.all_backends():
        if tuple(command[: len(backend.command)]) == backend.command:
            found = backend.served_model(command)
            if found is not None:
                return found
    raise UsageProblem(f"cannot tell the served model from {shlex.join(command[:4])}")


def container_name(candidate: Candidate) -> str:
    """The original system's pattern: ``aim-<model>-<N>gpu-<precision>-<backend>``."""
    model = candidate.huggingface_id.rsplit("/", 1)[-1].lower()
    slug = re.sub(r"[^a-z0-9]+", "-", model).strip("-") or "model"
    return f"aim-{slug}-{candidate.gpu_count}gpu-{candidate.precision}-{candidate.backend}"


def check_recipe_env(candidate: Candidate) -> dict[str, str]:
    """The config's env, refusing what the recipe validator refuses (rows written before
    the deny-list existed, or by another writer of a shared catalog)."""
    env = {str(k): str(v) for k, v in candidate.env.items()}
    for name in env:
        reason = "looks like a secret" if is_secret(name) else denied_reason(name)
        if reason is not None:
            raise InvalidRecipeInput(
                [
                    Problem(
                        candidate.recipe_id,
                        0,
                        0,
                        f"{candidate.backend} {candidate.gpu_count}_gpu env.{name}",
                        f"{name} {reason}; a recipe may not set it (fix the recipe and ingest it again)",
                    )
                ]
            )
    return env


def device_paths(render_minors: list[int], root: Path | None = None, *, check: bool) -> list[str]:
    """``/dev/kfd`` plus each allocated GPU's render node, host path mapped to /dev/..."""
    base = root or dev_root()
    wanted = ["kfd"] + [f"dri/renderD{minor}" for minor in render_minors]
    devices = []
    for rel in wanted:
        host = base / "dev" / rel
        if check and not host.exists():
            hint = " (is the ROCm driver loaded?)" if rel == "kfd" else ""
            raise LaunchFailed(
                f"{host} not found{hint}: this host cannot run ROCm containers; "
                "use --dry-run to see what would be launched"
            )
        devices.append(f"{host}:/dev/{rel}:rwm")
    return devices


def video_groups() -> list[str]:
    """video and render as the host's GIDs (which own the device nodes), else by name."""
    out = []
    for name in ("video", "render"):
        try:
            out.append(str(grp.getgrnam(name).gr_gid))
        except KeyError:
            out.append(name)  # resolved in the image's /etc/group
    return out


def build_spec(
    candidate: Candidate,
    *,
    name: str,
    gpus: list[int],
    render_minors: list[int] | None = None,
    port: int,
    image: str | None = None,
    env: dict[str, str] | None = None,
    overrides: dict[str, str | bool] | None = None,
    hf_cache: Path | None = None,
    catalog: str,
    shm_size: str | None = None,
    check_devices: bool = True,
    host_hardware: str | None = None,
) -> RunSpec:
    """The spec of one container. ``render_minors``: the GPUs' render nodes to map, with
    ``/dev/kfd`` (None: no device is mapped here, a cluster's device plugin does it);
    ``hf_cache``: the host directory mounted as the Hugging Face cache (None: none is,
    a cluster target mounts its own volume)."""
    container_port = backends.get(candidate.backend).container_port
    command, notes = server_command(candidate, overrides or {}, container_port)
    setup = check_setup(candidate)
    if setup:  # said before anything runs: a shared catalog's code in this operator's container
        notes.insert(0, f"setup (from recipe {candidate.recipe_id}, {SETUP_NOTE}): {'; '.join(setup)}")
    if candidate.retired:  # what select says of a retired winner, a launch says too
        notes.insert(0, f"{candidate.recipe_id}: {candidate.retired}")
    given = {**check_recipe_env(candidate), **(env or {}), "HF_HOME": CONTAINER_HF_HOME}
    secrets = {k: v for k, v in given.items() if is_secret(k)}
    secrets.update({k: v for k in SECRET_ENV if (v := host_env(k)) and k not in secrets})
    all_env = {k: v for k, v in given.items() if k not in secrets}
    labels = labels_for(
        recipe_id=candidate.recipe_id,
        model=candidate.huggingface_id,
        backend=candidate.backend,
        gpu_count=candidate.gpu_count,
        gpus=gpus,
        port=port,
        catalog=catalog,
        launch_id=uuid.uuid4().hex,
    )
    return RunSpec(
        name=name,
        # The GPUs it runs on decide the image's architecture: the detected ones, else the recipe's.
        image=images.choose_image(
            candidate.backend, host_hardware or candidate.hardware, candidate.image, image
        ),
        command=command,
        env=all_env,
        devices=[] if render_minors is None else device_paths(render_minors, check=check_devices),
        group_add=video_groups(),
        ports={f"{container_port}/tcp": port},
        volumes={} if hf_cache is None else {str(hf_cache): {"bind": CONTAINER_HF_HOME, "mode": "rw"}},
        labels=labels,
        gpus=list(gpus),
        ipc_mode=None if shm_size else "host",
        shm_size=shm_size,
        secret_env=list(secrets),
        notes=notes,
        readiness=list(backends.get(candidate.backend).readiness),
        setup=setup,
        secret_values=secrets,
    )
