"""catalog core: recipes, serve configs, benchmarks

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recipes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipe_id", sa.String(200), nullable=False),
        sa.Column("model_id", sa.String(300), nullable=False),
        sa.Column("huggingface_id", sa.String(300), nullable=False),
        sa.Column("hardware", sa.String(64), nullable=False),
        sa.Column("precision", sa.String(16), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipes")),
        sa.UniqueConstraint("recipe_id", name=op.f("uq_recipes_recipe_id")),
    )
    op.create_index(
        op.f("ix_recipes_huggingface_id_precision_hardware"),
        "recipes",
        ["huggingface_id", "precision", "hardware"],
    )
    op.create_table(
        "serve_configs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipe_pk", sa.Integer(), nullable=False),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("env", sa.JSON(), nullable=False),
        sa.Column("image", sa.String(300), nullable=True),
        sa.CheckConstraint("gpu_count > 0", name=op.f("ck_serve_configs_gpu_count_positive")),
        sa.ForeignKeyConstraint(
            ["recipe_pk"],
            ["recipes.id"],
            name=op.f("fk_serve_configs_recipe_pk_recipes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serve_configs")),
        sa.UniqueConstraint(
            "recipe_pk",
            "backend",
            "gpu_count",
            name=op.f("uq_serve_configs_recipe_pk_backend_gpu_count"),
        ),
    )
    op.create_table(
        "benchmarks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serve_config_id", sa.Integer(), nullable=False),
        sa.Column("input_len", sa.Integer(), nullable=True),
        sa.Column("output_len", sa.Integer(), nullable=True),
        sa.Column("concurrency", sa.Integer(), nullable=True),
        *(
            sa.Column(name, sa.Float(), nullable=True)
            for name in (
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
        ),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("measured_at", sa.String(40), nullable=True),
        sa.Column("image", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(
            ["serve_config_id"],
            ["serve_configs.id"],
            name=op.f("fk_benchmarks_serve_config_id_serve_configs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benchmarks")),
    )
    op.create_index(op.f("ix_benchmarks_serve_config_id"), "benchmarks", ["serve_config_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_benchmarks_serve_config_id"), table_name="benchmarks")
    op.drop_table("benchmarks")
    op.drop_table("serve_configs")
    op.drop_index(op.f("ix_recipes_huggingface_id_precision_hardware"), table_name="recipes")
    op.drop_table("recipes")
