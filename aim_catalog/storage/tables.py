"""The catalog's tables in SQLAlchemy Core: what the migrations create, and all the
select path needs (it never imports the ORM, which costs a cold start ~45 ms).

``models.py`` maps typed ORM classes onto these same tables. Migrations create them
(never ``create_all``); a test checks that they and the migrated DDL agree on both
dialects. Indexes serve the selection query: recipes by (huggingface_id, precision,
hardware), serve configs by (recipe, backend, gpu_count), benchmarks by serve config.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from aim_catalog.settings import ENERGY_FIELDS, METRIC_FIELDS

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

recipes = Table(
    "recipes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recipe_id", String(200), nullable=False, unique=True),
    Column("model_id", String(300), nullable=False),
    Column("huggingface_id", String(300), nullable=False),
    Column("hardware", String(64), nullable=False),
    Column("precision", String(16), nullable=False),
    Column("source_path", Text),
    Column("content_sha256", String(64), nullable=False),
    Column("document", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # A general AIM profile: no model of its own, a fallback for models no recipe names.
    Column("general", Boolean, nullable=False, server_default=false()),
    # Whether upstream still runs what the recipe describes (migration 0013): current, or
    # retired with the reason and, where known, the date.
    Column("status", String(16), nullable=False, server_default="current"),
    Column("retired_reason", Text),
    Column("retired_on", Date),
    Index(None, "huggingface_id", "precision", "hardware"),
)

serve_configs = Table(
    "serve_configs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recipe_pk", ForeignKey("recipes.id", ondelete="CASCADE"), nullable=False),
    Column("backend", String(32), nullable=False),
    Column("gpu_count", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("args", JSON, nullable=False),
    Column("env", JSON, nullable=False),
    Column("image", String(300)),
    # AMD AIM profiles (migration 0006): the goal a config was tuned for, its type, and
    # whether only a pin (--recipe) may choose it.
    Column("goal", String(16)),
    Column("profile_type", String(16)),
    Column("manual_only", Boolean, nullable=False, server_default=false()),
    # `pip install` lines the container runs before the server (migration 0013).
    Column("setup", JSON, nullable=False, server_default=text("'[]'")),
    UniqueConstraint("recipe_pk", "backend", "gpu_count"),
    CheckConstraint("gpu_count > 0", name="gpu_count_positive"),
)

benchmarks = Table(
    "benchmarks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("serve_config_id", ForeignKey("serve_configs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("input_len", Integer),
    Column("output_len", Integer),
    Column("concurrency", Integer),  # the client's max concurrency
    # input_len/output_len are the mean tokens per request the run really had; the
    # nominal ones are what the client was asked for (random_input_len...).
    Column("nominal_input_len", Integer),
    Column("nominal_output_len", Integer),
    Column("dataset", String(32)),  # random, sharegpt, ...
    Column("request_rate", Float),  # requests/s; NULL = unlimited (what ranks by default)
    Column("failed", Integer),  # failed requests; a row with any never ranks
    *(Column(name, Float) for name in METRIC_FIELDS),
    *(Column(name, Float) for name in ENERGY_FIELDS),
    Column("source", Text),
    Column("measured_at", String(40)),
    Column("image", String(300)),
    # What `bench run` knows of a row it measured (migration 0012): the image's digest, the
    # server's own version, the client (with its version) and the GPU model.
    Column("image_digest", String(200)),
    Column("server_version", String(100)),
    Column("client", String(200)),
    Column("gpu_model", String(64)),
    # "recipe": written by ingest from the recipe file (replaced when the file changes);
    # "import": from `bench import`, kept across re-ingests, deduplicated by import_key.
    Column("origin", String(16), nullable=False, server_default="recipe"),
    Column("import_key", String(64)),
    Index(None, "serve_config_id", "import_key", unique=True),
)

deployments = Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, index=True),
    Column("container_id", String(80), nullable=False, unique=True),
    # Docker rows: the engine's ID (`docker info`; a fleet's hosts all say
    # unix:///var/run/docker.sock). NULL for the other targets (migration 0008).
    Column("docker_host", String(300)),
    Column("engine_name", String(300)),  # the name the engine reports (its host name), for people
    Column("serve_config_id", ForeignKey("serve_configs.id", ondelete="SET NULL")),
    Column("recipe_id", String(200), nullable=False),
    Column("model", String(300), nullable=False),
    Column("backend", String(32), nullable=False),
    Column("gpu_count", Integer, nullable=False),
    Column("gpus", JSON, nullable=False),
    Column("image", String(300), nullable=False),
    Column("port", Integer, nullable=False),
    Column("spec", JSON, nullable=False),  # command, env (no secrets), devices, labels
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The unique (location, name) index of live rows is declared in models.py: its
    # postgresql_where makes SQLAlchemy import its PostgreSQL dialect, which the select path
    # (this module, never the ORM) must not pay for on a SQLite catalog.
    # The launch target's name (docker: a container; kubernetes: Deployment + Service;
    # kserve: InferenceService; launch.targets.registry), and for the cluster targets the
    # kubeconfig context, namespace, and the objects launch created ([{apiVersion, kind,
    # name}]: what `stop` deletes).
    Column("target", String(16), nullable=False, server_default="docker"),
    Column("context", String(253)),
    Column("namespace", String(63)),
    Column("objects", JSON),
    # Where on its target it runs: the Docker engine's ID; a cluster's "<API server>/<namespace>".
    Column("location", String(300), nullable=False),
)
