"""benchmark rows carry p90, p99.9 and mean latencies, and power and energy per token

Real result files say more than p50 and p99: InferenceX's current writer
(``utils/process_result.py``) and its app's API rows give p90, p99.9 and the mean of TTFT,
TPOT, ITL and E2E latency, and, where the run measured it, the average power per GPU and
the energy per output and per total token (its ``avg_power_w``,
``joules_per_output_token``, ``joules_per_total_token``; per GPU, since 628.9 W / 198.9
tokens/s per GPU = 3.16 J per total token in its rows). vLLM's and SGLang's clients write
p90/p99.9 when asked. New nullable columns, so every existing row keeps what it had
(unknown: NULL); the downgrade drops them. The ``benchmark_results`` view (the analysts'
one row per benchmark) shows them; the other views are 0005's, unchanged. Every view is
dropped and recreated around the change (SQLite checks views when a batch migration
rebuilds the table).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The names as settings.METRIC_FIELDS / ENERGY_FIELDS of this revision spell them (a
# migration never imports the code's current lists: they move on).
LATENCY = tuple(
    f"{kind}_ms_{stat}" for kind in ("ttft", "tpot", "itl", "e2el") for stat in ("p90", "p999", "mean")
)
ENERGY = ("power_w_per_gpu", "joules_per_output_token", "joules_per_total_token")


def _previous() -> ModuleType:
    """Migration 0005, whose views this one keeps (all but ``benchmark_results``)."""
    path = Path(__file__).with_name("0005_benchmark_scenarios.py")
    spec = importlib.util.spec_from_file_location("aim_catalog_migration_0005", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _views() -> dict[str, str]:
    previous = _previous()
    views: dict[str, str] = dict(previous.VIEWS)
    views["benchmark_results"] = f"""
        SELECT r.recipe_id, r.huggingface_id AS model, r.hardware, r.precision, c.backend,
               c.gpu_count, c.enabled, b.input_len, b.output_len, b.concurrency,
               b.output_throughput, b.total_token_throughput, b.request_throughput,
               b.ttft_ms_p50, b.ttft_ms_p99, b.tpot_ms_p50, b.tpot_ms_p99,
               b.itl_ms_p50, b.itl_ms_p99, b.e2el_ms_p50, b.e2el_ms_p99,
               b.source, b.measured_at, b.image, b.origin,
               b.nominal_input_len, b.nominal_output_len, b.dataset, b.request_rate, b.failed,
               CASE WHEN {previous.RANKS} THEN 1 ELSE 0 END AS ranks,
               {", ".join("b." + name for name in LATENCY + ENERGY)}
        FROM benchmarks b
        JOIN serve_configs c ON c.id = b.serve_config_id
        JOIN recipes r ON r.id = c.recipe_pk"""
    return views


def upgrade() -> None:
    for name in _previous().VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("benchmarks") as batch:
        for name in LATENCY + ENERGY:
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))
    for name, body in _views().items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    for name in _previous().VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("benchmarks") as batch:
        for name in reversed(LATENCY + ENERGY):
            batch.drop_column(name)
    for name, body in _previous().VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")
