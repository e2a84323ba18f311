"""Where the catalog lives, the defaults that go with it, and every environment variable.

Every variable aim-catalog reads is read here, when asked (never at import): its name is
a constant and its parsing one function, so a setting has one default, one range and one
error message. No I/O at import; imports nothing of aim_catalog but ``errors``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DB_URL_ENV = "AIM_CATALOG_DB_URL"
AUTO_MIGRATE_ENV = "AIM_CATALOG_AUTO_MIGRATE"
SYSFS_ROOT_ENV = "AIM_CATALOG_SYSFS_ROOT"
LOCK_TIMEOUT_ENV = "AIM_CATALOG_LOCK_TIMEOUT"
# How long a writer waits for another one to finish before giving up (seconds).
DEFAULT_LOCK_TIMEOUT = 300.0
LAUNCH_LOCK_TIMEOUT_ENV = "AIM_CATALOG_LAUNCH_LOCK_TIMEOUT"
# The launch lock covers GPU reading, create and record: seconds.
DEFAULT_LAUNCH_LOCK_TIMEOUT = 120.0
MAX_LOCK_TIMEOUT = 86400.0
SQL_ROLE_ENV = "AIM_CATALOG_SQL_ROLE"
SQL_PASSWORD_ENV = "AIM_CATALOG_SQL_PASSWORD"
TRUSTED_REGISTRIES_ENV = "AIM_CATALOG_TRUSTED_REGISTRIES"
DEV_ROOT_ENV = "AIM_CATALOG_DEV_ROOT"  # where /dev is (tests: fake device nodes)
# launch --timeout: big models take many minutes to download and load. At most a day: ample
# for any download, and the Kubernetes deadline/threshold built from it stay int32.
DEFAULT_LAUNCH_TIMEOUT = 3600.0
MAX_LAUNCH_TIMEOUT = 86400.0
# Largest value of a SQL INTEGER column (SQLite stores 64 bits, PostgreSQL's INTEGER 32).
MAX_SQL_INT = 2**31 - 1

DEFAULT_PRECISION = "bf16"
# --backend / --hardware value meaning "no filter": the best across backends, any GPU model.
ANY = "any"
# The huggingface_id that holds AMD AIM's general profiles: no real model has it.
GENERAL_MODEL = "aim-general"
# ``benchmarks.origin`` of `aim-catalog test --save` rows (``recipes.format.Origin.SMOKE``):
# here so that the select statement names it without importing the recipe format.
SMOKE_ORIGIN = "smoke"
# launch --target: where a config runs unless told (launch.targets.registry names them all).
DEFAULT_TARGET = "docker"
# Throughput columns a ranking may use; output_throughput falls back to
# total_token_throughput for rows that carry only that (published offline figures).
RANK_METRICS = ("output_throughput", "total_token_throughput", "request_throughput")
# Every metric a benchmark row may carry (throughputs, then latency percentiles in ms).
METRIC_FIELDS = (
    "output_throughput",
    "total_token_throughput",
    "request_throughput",
    "ttft_ms_p50",
    "ttft_ms_p99",
    "tpot_ms_p50",
    "tpot_ms_p99",
    "itl_ms_p50",
    "itl_ms_p99",
    "e2el_ms_p50",
    "e2el_ms_p99",
    # p90, p99.9 and mean (migration 0010): InferenceX's newer rows and vLLM/SGLang clients
    # asked for them have them.
    *(f"{kind}_ms_{stat}" for kind in ("ttft", "tpot", "itl", "e2el") for stat in ("p90", "p999", "mean")),
)
# Power per GPU (W) and energy per output / per total token (J), where the run measured it
# (InferenceX's avg_power_w, joules_per_output_token, joules_per_total_token).
ENERGY_FIELDS = ("power_w_per_gpu", "joules_per_output_token", "joules_per_total_token")
DEFAULT_METRIC = "output_throughput"
FALLBACK_METRIC = "total_token_throughput"

# One name per precision: on AMD Instinct GPUs "fp4" (InferenceX's name) is MXFP4.
PRECISION_ALIASES = {"fp4": "mxfp4"}
# --input-len/--output-len match rows whose mean lengths are within this fraction.
LENGTH_TOLERANCE_ENV = "AIM_CATALOG_LENGTH_TOLERANCE"
DEFAULT_LENGTH_TOLERANCE = 0.15


def normalize_precision(value: str) -> str:
    """The catalog's name for a precision (lower case, aliases folded: fp4 -> mxfp4)."""
    lowered = value.strip().lower()
    return PRECISION_ALIASES.get(lowered, lowered)


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the default catalog lives: $XDG_DATA_HOME/aim-catalog (~/.local/share/aim-catalog
    when unset)."""
    env = _environ(env)
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "aim-catalog"


def default_db_url(env: Mapping[str, str] | None = None) -> str:
    return f"sqlite:///{data_dir(env) / 'catalog.db'}"


def resolve_db_url(cli_value: str | None, env: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """The catalog's database URL (sqlite:///PATH or postgresql://...): ``--db`` wins, then
    $AIM_CATALOG_DB_URL, then the default SQLite file (``data_dir``). Returns ``(url, is_default)``."""
    env = _environ(env)
    if cli_value:
        return cli_value, False
    if env.get(DB_URL_ENV):
        return env[DB_URL_ENV], False
    return default_db_url(env), True


def auto_migrate_enabled(env: Mapping[str, str] | None = None) -> bool:
    """Whether the default catalog is created and migrated on first use ($AIM_CATALOG_AUTO_MIGRATE,
    default 1; 0/false/no/off: never, run `aim-catalog db upgrade`)."""
    env = _environ(env)
    return env.get(AUTO_MIGRATE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def lock_timeout(env: Mapping[str, str] | None = None) -> float:
    """Seconds a writer waits for the catalog write lock ($AIM_CATALOG_LOCK_TIMEOUT, default 300)."""
    return _seconds(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT, env)


def launch_lock_timeout(env: Mapping[str, str] | None = None) -> float:
    """Seconds a launch waits for another one on the same engine ($AIM_CATALOG_LAUNCH_LOCK_TIMEOUT,
    default 120)."""
    return _seconds(LAUNCH_LOCK_TIMEOUT_ENV, DEFAULT_LAUNCH_LOCK_TIMEOUT, env)


def _seconds(name: str, default: float, env: Mapping[str, str] | None) -> float:
    raw = _environ(env).get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_LOCK_TIMEOUT:  # also refuses nan and inf
        from aim_catalog.errors import UsageProblem, shown

        raise UsageProblem(
            f"{name} must be a number of seconds from 0 to {MAX_LOCK_TIMEOUT:g}, got {shown(raw)}"
        )
    return value


def sysfs_root(env: Mapping[str, str] | None = None) -> Path:
    """Where /sys is read for GPU detection: / unless $AIM_CATALOG_SYSFS_ROOT says otherwise
    (tests: a fake sysfs tree)."""
    env = _environ(env)
    return Path(env.get(SYSFS_ROOT_ENV) or "/")


def length_tolerance(env: Mapping[str, str] | None = None) -> float:
    """$AIM_CATALOG_LENGTH_TOLERANCE (a fraction, default 0.15) for --input-len/--output-len."""
    raw = _environ(env).get(LENGTH_TOLERANCE_ENV, "").strip()
    if not raw:
        return DEFAULT_LENGTH_TOLERANCE
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 <= value < 1:
        from aim_catalog.errors import UsageProblem

        raise UsageProblem(f"{LENGTH_TOLERANCE_ENV} must be a fraction from 0 to below 1, got {raw[:20]!r}")
    return value


def sql_role(env: Mapping[str, str] | None = None) -> str | None:
    """The PostgreSQL role `sql` logs in as ($AIM_CATALOG_SQL_ROLE; None: the URL's user)."""
    return _environ(env).get(SQL_ROLE_ENV) or None


def sql_password(env: Mapping[str, str] | None = None) -> str | None:
    """The password of `sql`'s role and of `db grant-readonly`'s ($AIM_CATALOG_SQL_PASSWORD)."""
    return _environ(env).get(SQL_PASSWORD_ENV) or None


def trusted_registries_setting(env: Mapping[str, str] | None = None) -> str | None:
    """$AIM_CATALOG_TRUSTED_REGISTRIES as given (None: not set; ``backends.envpolicy`` parses it)."""
    return _environ(env).get(TRUSTED_REGISTRIES_ENV)


def dev_root(env: Mapping[str, str] | None = None) -> Path:
    """Where the device nodes are (/dev under it): / unless $AIM_CATALOG_DEV_ROOT says otherwise."""
    return Path(_environ(env).get(DEV_ROOT_ENV) or "/")


def runtime_dir(env: Mapping[str, str] | None = None) -> Path | None:
    """$XDG_RUNTIME_DIR (None: not set)."""
    value = _environ(env).get("XDG_RUNTIME_DIR")
    return Path(value) if value else None


def hf_home(option: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The Hugging Face home launch mounts: ``--hf-cache``, else $HF_HOME, else
    ~/.cache/huggingface (as huggingface_hub resolves it)."""
    if option is not None:
        return option.expanduser().resolve()
    value = _environ(env).get("HF_HOME")
    if value:
        return Path(value).expanduser().resolve()
    return Path.home() / ".cache" / "huggingface"


def hf_token(env: Mapping[str, str] | None = None) -> str | None:
    """$HF_TOKEN (None: not set). Passed to launched servers; never stored or shown."""
    return _environ(env).get("HF_TOKEN") or None


def hf_endpoint(default: str, env: Mapping[str, str] | None = None) -> str:
    """$HF_ENDPOINT (the Hub's address) or ``default``, without a trailing slash."""
    return (_environ(env).get("HF_ENDPOINT") or default).rstrip("/")


def hf_offline(env: Mapping[str, str] | None = None) -> bool:
    """$HF_HUB_OFFLINE: the Hub may not be asked."""
    return (_environ(env).get("HF_HUB_OFFLINE") or "").strip().lower() in ("1", "true", "yes", "on")


def docker_host(env: Mapping[str, str] | None = None) -> str | None:
    """$DOCKER_HOST, the engine's address as the docker SDK reads it (None: the local socket)."""
    return _environ(env).get("DOCKER_HOST") or None


def kubeconfig(env: Mapping[str, str] | None = None) -> str:
    """$KUBECONFIG (one or several ':'-separated files), else ~/.kube/config."""
    return _environ(env).get("KUBECONFIG") or "~/.kube/config"


def host_env(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """A variable of the environment aim-catalog runs in, to pass on to a container
    (``--env NAME``, the host's HF_TOKEN). None: not set."""
    return _environ(env).get(name)
