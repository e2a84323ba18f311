"""Typed ORM classes over the Core tables of ``tables.py`` (used by the write paths).

The columns come from the tables; the annotations here type them for mypy and readers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, text
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from aim_catalog.storage import tables


class Base(DeclarativeBase):
    metadata = tables.metadata


class Recipe(Base):
    __table__ = tables.recipes

    id: Mapped[int]
    recipe_id: Mapped[str]
    model_id: Mapped[str]
    huggingface_id: Mapped[str]
    hardware: Mapped[str]
    precision: Mapped[str]
    source_path: Mapped[str | None]
    content_sha256: Mapped[str]
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    general: Mapped[bool]
    status: Mapped[str]
    retired_reason: Mapped[str | None]
    retired_on: Mapped[date | None]

    serve_configs: Mapped[list[ServeConfig]] = relationship(
        back_populates="recipe", cascade="all, delete-orphan", passive_deletes=True
    )


class ServeConfig(Base):
    __table__ = tables.serve_configs

    id: Mapped[int]
    recipe_pk: Mapped[int]
    backend: Mapped[str]
    gpu_count: Mapped[int]
    enabled: Mapped[bool]
    args: Mapped[dict[str, Any]]
    env: Mapped[dict[str, Any]]
    image: Mapped[str | None]
    goal: Mapped[str | None]
    profile_type: Mapped[str | None]
    manual_only: Mapped[bool]
    setup: Mapped[list[str]]

    recipe: Mapped[Recipe] = relationship(back_populates="serve_configs")
    benchmarks: Mapped[list[Benchmark]] = relationship(
        back_populates="serve_config", cascade="all, delete-orphan", passive_deletes=True
    )


class Benchmark(Base):
    __table__ = tables.benchmarks

    id: Mapped[int]
    serve_config_id: Mapped[int]
    input_len: Mapped[int | None]
    output_len: Mapped[int | None]
    concurrency: Mapped[int | None]
    nominal_input_len: Mapped[int | None]
    nominal_output_len: Mapped[int | None]
    dataset: Mapped[str | None]
    request_rate: Mapped[float | None]
    failed: Mapped[int | None]
    output_throughput: Mapped[float | None]
    total_token_throughput: Mapped[float | None]
    request_throughput: Mapped[float | None]
    ttft_ms_p50: Mapped[float | None]
    ttft_ms_p99: Mapped[float | None]
    tpot_ms_p50: Mapped[float | None]
    tpot_ms_p99: Mapped[float | None]
    itl_ms_p50: Mapped[float | None]
    itl_ms_p99: Mapped[float | None]
    e2el_ms_p50: Mapped[float | None]
    e2el_ms_p99: Mapped[float | None]
    source: Mapped[str | None]
    measured_at: Mapped[str | None]
    image: Mapped[str | None]
    origin: Mapped[str]
    import_key: Mapped[str | None]

    serve_config: Mapped[ServeConfig] = relationship(back_populates="benchmarks")


class Deployment(Base):
    """A launched container and a snapshot of what it runs (kept after it stops)."""

    __table__ = tables.deployments

    id: Mapped[int]
    name: Mapped[str]
    container_id: Mapped[str]
    docker_host: Mapped[str | None]
    engine_name: Mapped[str | None]
    serve_config_id: Mapped[int | None]
    recipe_id: Mapped[str]
    model: Mapped[str]
    backend: Mapped[str]
    gpu_count: Mapped[int]
    gpus: Mapped[list[int]]
    image: Mapped[str]
    port: Mapped[int]
    spec: Mapped[dict[str, Any]]
    status: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    target: Mapped[str]
    context: Mapped[str | None]
    namespace: Mapped[str | None]
    objects: Mapped[list[dict[str, str]] | None]
    location: Mapped[str]


# A name is unique per place (a Docker engine, a cluster namespace) among live deployments,
# as Docker's container names are; stopped and failed rows keep their names as history
# (migrations 0004, 0008). Declared here, off the select path: a dialect keyword argument
# imports that dialect (see tables.py).
LIVE_DEPLOYMENTS = text("status IN ('starting', 'running')")
Index(
    None,
    tables.deployments.c.location,
    tables.deployments.c.name,
    unique=True,
    sqlite_where=LIVE_DEPLOYMENTS,
    postgresql_where=LIVE_DEPLOYMENTS,
)
