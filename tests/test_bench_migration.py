"""Migration 0005 (benchmark scenario columns and views) keeps a catalog's imported rows,
up and down, on both dialects."""

from __future__ import annotations

from sqlalchemy import inspect, text

from aim_catalog.storage import db

NOW = "2026-01-01 00:00:00"
NEW_COLUMNS = {"nominal_input_len", "nominal_output_len", "dataset", "request_rate", "failed"}


def fill_0004(url: str) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO recipes (id, recipe_id, model_id, huggingface_id, hardware, precision, "
                "content_sha256, document, created_at, updated_at) "
                "VALUES (1, 'old', 'o/m', 'o/m', 'MI300X', 'bf16', 'x', '{}', :now, :now)"
            ),
            {"now": NOW},
        )
        for config, gpus in ((1, 4), (2, 8)):
            conn.execute(
                text(
                    "INSERT INTO serve_configs (id, recipe_pk, backend, gpu_count, enabled, args, env) "
                    "VALUES (:id, 1, 'vllm', :gpus, :on, '{}', '{}')"
                ),
                {"id": config, "gpus": gpus, "on": True},
            )
        conn.execute(
            text(
                "INSERT INTO benchmarks (serve_config_id, input_len, output_len, concurrency, "
                "output_throughput, source, origin, import_key) VALUES "
                "(1, 1024, 1024, 64, 4000.0, 'vllm bench serve: a.json', 'import', :key1), "
                "(1, 128, 2048, 32, 3000.0, 'AMD', 'recipe', NULL), "
                "(2, 1024, 1024, 64, 6000.0, 'vllm bench serve: b.json', 'import', :key2)"
            ),
            {"key1": "a" * 64, "key2": "b" * 64},
        )
    engine.dispose()


def snapshot(url: str) -> list[tuple[object, ...]]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT serve_config_id, input_len, output_len, concurrency, output_throughput, source, "
                "origin, import_key FROM benchmarks ORDER BY id"
            )
        ).all()
    engine.dispose()
    return [tuple(row) for row in found]


def test_upgrade_keeps_imported_rows_and_the_views_rank_them(db_url: str) -> None:
    fill_0004(db_url)
    before = snapshot(db_url)
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    assert {c["name"] for c in inspect(engine).get_columns("benchmarks")} >= NEW_COLUMNS
    assert snapshot(db_url) == before
    with engine.connect() as conn:
        new = conn.execute(text("SELECT dataset, request_rate, failed FROM benchmarks")).all()
        assert {tuple(row) for row in new} == {(None, None, None)}  # unlimited, failures unknown: they rank
        board = conn.execute(
            text("SELECT gpu_count, throughput, throughput_per_gpu, input_len FROM leaderboard ORDER BY 1")
        ).all()
        assert [tuple(row) for row in board] == [(4, 4000.0, 1000.0, 1024), (8, 6000.0, 750.0, 1024)]
        ranks = conn.execute(text("SELECT DISTINCT ranks FROM benchmark_results")).scalars().all()
        assert ranks == [1]
        # A failed or rate-capped row stops ranking in every view.
        conn.execute(text("UPDATE benchmarks SET failed = 2 WHERE output_throughput = 6000.0"))
        conn.execute(text("UPDATE benchmarks SET request_rate = 1.5 WHERE output_throughput = 4000.0"))
        best = conn.execute(text("SELECT best_throughput FROM serve_config_scores ORDER BY gpu_count")).all()
        assert [tuple(row) for row in best] == [(3000.0,), (None,)]
        conn.rollback()
    # And back down: the rows stay, the columns and new view columns go.
    db.downgrade(engine, "0004")
    assert not NEW_COLUMNS & {c["name"] for c in inspect(engine).get_columns("benchmarks")}
    assert snapshot(db_url) == before
    with engine.connect() as conn:
        board = conn.execute(text("SELECT gpu_count, throughput FROM leaderboard ORDER BY 1")).all()
        assert [tuple(row) for row in board] == [(4, 4000.0), (8, 6000.0)]
    db.upgrade(engine)
    assert snapshot(db_url) == before
    engine.dispose()
