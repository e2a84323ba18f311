"""benchmark imports (origin, import_key) and reporting views

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain SQL that SQLite and PostgreSQL both run; analysts query these directly.
SCORE = "COALESCE(b.output_throughput, b.total_token_throughput)"
VIEWS = {
    "serve_config_scores": f"""
        SELECT r.recipe_id, r.huggingface_id AS model, r.hardware, r.precision,
               c.id AS serve_config_id, c.backend, c.gpu_count, c.enabled, c.image,
               MAX({SCORE}) AS best_throughput, COUNT(b.id) AS benchmarks
        FROM recipes r
        JOIN serve_configs c ON c.recipe_pk = r.id
        LEFT JOIN benchmarks b ON b.serve_config_id = c.id
        GROUP BY r.recipe_id, r.huggingface_id, r.hardware, r.precision,
                 c.id, c.backend, c.gpu_count, c.enabled, c.image""",
    "leaderboard": f"""
        SELECT model, precision, hardware, gpu_count, recipe_id, backend, throughput, metric,
               input_len, output_len, concurrency, source, image
        FROM (
            SELECT r.huggingface_id AS model, r.precision, r.hardware, c.gpu_count, r.recipe_id,
                   c.backend, {SCORE} AS throughput,
                   CASE WHEN b.output_throughput IS NOT NULL THEN 'output_throughput'
                        ELSE 'total_token_throughput' END AS metric,
                   b.input_len, b.output_len, b.concurrency, b.source,
                   COALESCE(b.image, c.image) AS image,
                   ROW_NUMBER() OVER (
                       PARTITION BY r.huggingface_id, r.precision, r.hardware, c.gpu_count
                       ORDER BY {SCORE} DESC, r.recipe_id, c.backend
                   ) AS place
            FROM recipes r
            JOIN serve_configs c ON c.recipe_pk = r.id
            JOIN benchmarks b ON b.serve_config_id = c.id
            WHERE c.enabled AND {SCORE} IS NOT NULL
        ) ranked
        WHERE place = 1""",
    "coverage": """
        SELECT r.huggingface_id AS model, r.precision, r.hardware, c.backend, c.gpu_count,
               SUM(CASE WHEN c.enabled THEN 1 ELSE 0 END) AS enabled_configs,
               COUNT(*) AS configs
        FROM recipes r
        JOIN serve_configs c ON c.recipe_pk = r.id
        GROUP BY r.huggingface_id, r.precision, r.hardware, c.backend, c.gpu_count""",
    "benchmark_results": """
        SELECT r.recipe_id, r.huggingface_id AS model, r.hardware, r.precision, c.backend,
               c.gpu_count, c.enabled, b.input_len, b.output_len, b.concurrency,
               b.output_throughput, b.total_token_throughput, b.request_throughput,
               b.ttft_ms_p50, b.ttft_ms_p99, b.tpot_ms_p50, b.tpot_ms_p99,
               b.itl_ms_p50, b.itl_ms_p99, b.e2el_ms_p50, b.e2el_ms_p99,
               b.source, b.measured_at, b.image, b.origin
        FROM benchmarks b
        JOIN serve_configs c ON c.id = b.serve_config_id
        JOIN recipes r ON r.id = c.recipe_pk""",
}


def upgrade() -> None:
    with op.batch_alter_table("benchmarks") as batch:
        batch.add_column(sa.Column("origin", sa.String(16), server_default="recipe", nullable=False))
        batch.add_column(sa.Column("import_key", sa.String(64), nullable=True))
    op.create_index(
        op.f("ix_benchmarks_serve_config_id_import_key"),
        "benchmarks",
        ["serve_config_id", "import_key"],
        unique=True,
    )
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW {name}")
    op.drop_index(op.f("ix_benchmarks_serve_config_id_import_key"), table_name="benchmarks")
    with op.batch_alter_table("benchmarks") as batch:
        batch.drop_column("import_key")
        batch.drop_column("origin")
