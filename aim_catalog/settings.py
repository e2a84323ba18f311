"""Where the catalog lives and the defaults that go with it. No I/O at import; imports
nothing of aim_catalog but ``errors`` (inside the functions that raise)."""

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
# launch --timeout: big models take many minutes to download and load. At most a day: ample
# for any download, and the Kubernetes deadline/threshold built from it stay int32.
DEFAULT_LAUNCH_TIMEOUT = 3600.0
MAX_LAUNCH_TIMEOUT = 86400.0
# Largest value of a SQL INTEGER column (SQLite stores 64 bits, PostgreSQL's INTEGER 32).
MAX_SQL_INT = 2**31 - 1

DEFAULT_PRECISION = "bf16"
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
)
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
    env = _environ(env)
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "aim-catalog"


def default_db_url(env: Mapping[str, str] | None = None) -> str:
    return f"sqlite:///{data_dir(env) / 'catalog.db'}"


def resolve_db_url(cli_value: str | None, env: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """Return ``(url, is_default)``: the flag wins, then the environment, then the default."""
    env = _environ(env)
    if cli_value:
        return cli_value, False
    if env.get(DB_URL_ENV):
        return env[DB_URL_ENV], False
    return default_db_url(env), True


def auto_migrate_enabled(env: Mapping[str, str] | None = None) -> bool:
    env = _environ(env)
    return env.get(AUTO_MIGRATE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def lock_timeout(env: Mapping[str, str] | None = None) -> float:
    """Seconds a writer waits for the catalog write lock ($AIM_CATALOG_LOCK_TIMEOUT, default 300)."""
    raw = _environ(env).get(LOCK_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:  # also refuses nan and inf
        from aim_catalog.errors import UsageProblem, shown

        raise UsageProblem(
            f"{LOCK_TIMEOUT_ENV} must be a number of seconds from 0 to 86400, got {shown(raw)}"
        )
    return value


def sysfs_root(env: Mapping[str, str] | None = None) -> Path:
    env = _environ(env)
    return Path(env.get(SYSFS_ROOT_ENV) or "/")
