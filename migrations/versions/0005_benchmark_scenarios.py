"""benchmark scenarios: true lengths, dataset, request rate, failed requests

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

Existing rows keep their values: their lengths become the rows' lengths (nothing better is
known), their request rate NULL (unlimited) and failed count NULL (unknown), so every row
that ranked before still ranks. The views are recreated with the new columns and with the
ranking rules of ``select``: only rows at unlimited request rate, without failed requests
and not smoke tests (origin 'smoke') rank, and (as ``select`` without --input-len and
--output-len) only rows of the scenario most configs of the group have rows for. The
leaderboard names the benchmark's image and the config's apart (``benchmark_image``,
``config_image``: what ran, and what a launch would use).
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("nominal_input_len", sa.Integer()),
    ("nominal_output_len", sa.Integer()),
    ("dataset", sa.String(32)),
    ("request_rate", sa.Float()),
    ("failed", sa.Integer()),
)

# Plain SQL that SQLite and PostgreSQL both run. RANKS is select's rule for which rows count.
SCORE = "COALESCE(b.output_throughput, b.total_token_throughput)"
RANKS = "(b.request_rate IS NULL AND COALESCE(b.failed, 0) = 0 AND b.origin <> 'smoke')"
# Which rows of a (model, precision, hardware, GPU count) compete, as select without
# --input-len/--output-len: those within the default length tolerance (15%) of the
# scenario (nominal, else mean lengths) the most configs of the group have rows for (ties:
# the most configs of the model, then the most rows of the model, then shorter lengths).
TOLERANCE = 0.15
VIEWS = {
    "serve_config_scores": f"""
        SELECT r.recipe_id, r.huggingface_id AS model, r.hardware, r.precision,
               c.id AS serve_config_id, c.backend, c.gpu_count, c.enabled, c.image,
               MAX(CASE WHEN {RANKS} THEN {SCORE} END) AS best_throughput,
               COUNT(b.id) AS benchmarks
        FROM recipes r
        JOIN serve_configs c ON c.recipe_pk = r.id
        LEFT JOIN benchmarks b ON b.serve_config_id = c.id
        GROUP BY r.recipe_id, r.huggingface_id, r.hardware, r.precision,
                 c.id, c.backend, c.gpu_count, c.enabled, c.image""",
    "leaderboard": f"""
        WITH ranking AS (
            SELECT r.huggingface_id AS model, r.precision, r.hardware, c.gpu_count, r.recipe_id,
                   c.backend, c.id AS serve_config_id, b.id AS benchmark_id, {SCORE} AS throughput,
                   CASE WHEN b.output_throughput IS NOT NULL THEN 'output_throughput'
                        ELSE 'total_token_throughput' END AS metric,
                   b.input_len, b.output_len, b.concurrency, b.source,
                   b.image AS benchmark_image, c.image AS config_image,
                   b.dataset, b.nominal_input_len, b.nominal_output_len, b.request_rate, b.failed,
                   COALESCE(b.nominal_input_len, b.input_len) AS key_in,
                   COALESCE(b.nominal_output_len, b.output_len) AS key_out
            FROM recipes r
            JOIN serve_configs c ON c.recipe_pk = r.id
            JOIN benchmarks b ON b.serve_config_id = c.id
            WHERE c.enabled AND {SCORE} IS NOT NULL AND {RANKS}
        ),
        model_wide AS (
            SELECT model, key_in, key_out, COUNT(DISTINCT serve_config_id) AS model_configs,
                   COUNT(*) AS model_runs
            FROM ranking
            WHERE key_in IS NOT NULL AND key_out IS NOT NULL
            GROUP BY model, key_in, key_out
        ),
        buckets AS (
            SELECT counted.model, precision, hardware, gpu_count, counted.key_in, counted.key_out,
                   ROW_NUMBER() OVER (
                       PARTITION BY counted.model, precision, hardware, gpu_count
                       ORDER BY configs DESC, model_configs DESC, model_runs DESC,
                                counted.key_in, counted.key_out
                   ) AS pick
            FROM (
                SELECT model, precision, hardware, gpu_count, key_in, key_out,
                       COUNT(DISTINCT serve_config_id) AS configs
                FROM ranking
                WHERE key_in IS NOT NULL AND key_out IS NOT NULL
                GROUP BY model, precision, hardware, gpu_count, key_in, key_out
            ) counted
            JOIN model_wide m
              ON m.model = counted.model AND m.key_in = counted.key_in AND m.key_out = counted.key_out
        )
        SELECT model, precision, hardware, gpu_count, recipe_id, backend, throughput, metric,
               input_len, output_len, concurrency, source, benchmark_image, config_image,
               throughput_per_gpu, dataset, nominal_input_len, nominal_output_len,
               request_rate, failed, scenario_input_len, scenario_output_len
        FROM (
            SELECT g.*, g.throughput / g.gpu_count AS throughput_per_gpu,
                   s.key_in AS scenario_input_len, s.key_out AS scenario_output_len,
                   ROW_NUMBER() OVER (
                       PARTITION BY g.model, g.precision, g.hardware, g.gpu_count
                       ORDER BY g.throughput DESC, g.recipe_id, g.backend, g.benchmark_id
                   ) AS place
            FROM ranking g
            LEFT JOIN buckets s
              ON s.pick = 1 AND s.model = g.model AND s.precision = g.precision
             AND s.hardware = g.hardware AND s.gpu_count = g.gpu_count
            WHERE s.key_in IS NULL
               OR (g.input_len >= s.key_in * {1 - TOLERANCE} AND g.input_len <= s.key_in * {1 + TOLERANCE}
                   AND g.output_len >= s.key_out * {1 - TOLERANCE}
                   AND g.output_len <= s.key_out * {1 + TOLERANCE})
        ) ranked
        WHERE place = 1""",
    "coverage": """
        SELECT r.huggingface_id AS model, r.precision, r.hardware, c.backend, c.gpu_count,
               SUM(CASE WHEN c.enabled THEN 1 ELSE 0 END) AS enabled_configs,
               COUNT(*) AS configs
        FROM recipes r
        JOIN serve_configs c ON c.recipe_pk = r.id
        GROUP BY r.huggingface_id, r.precision, r.hardware, c.backend, c.gpu_count""",
    "benchmark_results": f"""
        SELECT r.recipe_id, r.huggingface_id AS model, r.hardware, r.precision, c.backend,
               c.gpu_count, c.enabled, b.input_len, b.output_len, b.concurrency,
               b.output_throughput, b.total_token_throughput, b.request_throughput,
               b.ttft_ms_p50, b.ttft_ms_p99, b.tpot_ms_p50, b.tpot_ms_p99,
               b.itl_ms_p50, b.itl_ms_p99, b.e2el_ms_p50, b.e2el_ms_p99,
               b.source, b.measured_at, b.image, b.origin,
               b.nominal_input_len, b.nominal_output_len, b.dataset, b.request_rate, b.failed,
               CASE WHEN {RANKS} THEN 1 ELSE 0 END AS ranks
        FROM benchmarks b
        JOIN serve_configs c ON c.id = b.serve_config_id
        JOIN recipes r ON r.id = c.recipe_pk""",
}


def _previous() -> ModuleType:
    """Migration 0003, whose views a downgrade puts back."""
    path = Path(__file__).with_name("0003_benchmark_imports_and_views.py")
    spec = importlib.util.spec_from_file_location("aim_catalog_migration_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _drop_views(names: Sequence[str]) -> None:
    for name in names:
        op.execute(f"DROP VIEW IF EXISTS {name}")


def upgrade() -> None:
    # Views go first: SQLite checks views when a batch migration renames the table back.
    _drop_views(list(VIEWS))
    with op.batch_alter_table("benchmarks") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    _drop_views(list(VIEWS))
    with op.batch_alter_table("benchmarks") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
    for name, body in _previous().VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")
