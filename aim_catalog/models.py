"""The catalog's tables as typed SQLAlchemy 2.0 models.

Migrations create these tables (never ``create_all``); a test checks that the models and
the migrated DDL agree on both dialects. Indexes serve the selection query: recipes by
(huggingface_id, precision, hardware), serve configs by (recipe, backend, gpu_count), and
benchmarks by serve config.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class Recipe(Base):
    __tablename__ = "recipes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipe_id: Mapped[str] = mapped_column(String(200), unique=True)
    model_id: Mapped[str] = mapped_column(String(300))
    huggingface_id: Mapped[str] = mapped_column(String(300))
    hardware: Mapped[str] = mapped_column(String(64))
    precision: Mapped[str] = mapped_column(String(16))
    source_path: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    serve_configs: Mapped[list[ServeConfig]] = relationship(
        back_populates="recipe", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (Index(None, "huggingface_id", "precision", "hardware"),)


class ServeConfig(Base):
    __tablename__ = "serve_configs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipe_pk: Mapped[int] = mapped_column(ForeignKey("recipes.id", ondelete="CASCADE"))
    backend: Mapped[str] = mapped_column(String(32))
    gpu_count: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean)
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    env: Mapped[dict[str, Any]] = mapped_column(JSON)
    image: Mapped[str | None] = mapped_column(String(300))

    recipe: Mapped[Recipe] = relationship(back_populates="serve_configs")
    benchmarks: Mapped[list[Benchmark]] = relationship(
        back_populates="serve_config", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("recipe_pk", "backend", "gpu_count"),
        CheckConstraint("gpu_count > 0", name="gpu_count_positive"),
    )


class Benchmark(Base):
    __tablename__ = "benchmarks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serve_config_id: Mapped[int] = mapped_column(
        ForeignKey("serve_configs.id", ondelete="CASCADE"), index=True
    )
    input_len: Mapped[int | None] = mapped_column(Integer)
    output_len: Mapped[int | None] = mapped_column(Integer)
    concurrency: Mapped[int | None] = mapped_column(Integer)
    output_throughput: Mapped[float | None] = mapped_column(Float)
    total_token_throughput: Mapped[float | None] = mapped_column(Float)
    request_throughput: Mapped[float | None] = mapped_column(Float)
    ttft_ms_p50: Mapped[float | None] = mapped_column(Float)
    ttft_ms_p99: Mapped[float | None] = mapped_column(Float)
    tpot_ms_p50: Mapped[float | None] = mapped_column(Float)
    tpot_ms_p99: Mapped[float | None] = mapped_column(Float)
    itl_ms_p50: Mapped[float | None] = mapped_column(Float)
    itl_ms_p99: Mapped[float | None] = mapped_column(Float)
    e2el_ms_p50: Mapped[float | None] = mapped_column(Float)
    e2el_ms_p99: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(Text)
    measured_at: Mapped[str | None] = mapped_column(String(40))
    image: Mapped[str | None] = mapped_column(String(300))
    # "recipe": written by ingest from the recipe file (replaced when the file changes);
    # "import": from `bench import`, kept across re-ingests, deduplicated by import_key.
    origin: Mapped[str] = mapped_column(String(16), server_default="recipe")
    import_key: Mapped[str | None] = mapped_column(String(64))

    serve_config: Mapped[ServeConfig] = relationship(back_populates="benchmarks")

    __table_args__ = (Index(None, "serve_config_id", "import_key", unique=True),)


class Deployment(Base):
    """A launched container and a snapshot of what it runs (kept after it stops)."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    container_id: Mapped[str] = mapped_column(String(80), unique=True)
    docker_host: Mapped[str] = mapped_column(String(300))
    serve_config_id: Mapped[int | None] = mapped_column(ForeignKey("serve_configs.id", ondelete="SET NULL"))
    recipe_id: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(300))
    backend: Mapped[str] = mapped_column(String(32))
    gpu_count: Mapped[int] = mapped_column(Integer)
    gpus: Mapped[list[int]] = mapped_column(JSON)
    image: Mapped[str] = mapped_column(String(300))
    port: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)  # command, env (no secrets), devices, labels
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
