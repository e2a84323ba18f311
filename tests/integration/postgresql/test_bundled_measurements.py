"""A new default catalog holds the bundled InferenceX measurements (both dialects), answers
DeepSeek-R1-0528 fp8 on MI355X from them with their source, exports them into recipe files
that ingest back, and the InferenceX app's API rows import through `bench import`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session
from support.paths import SHARED
from support.seed import DSR1
from support.services import reset_pg

from aim_catalog.recipes.format import MAX_BYTES
from aim_catalog.recipes.seed import bundled_rows, load_measurements, seed_catalog
from aim_catalog.storage import db
from aim_catalog.storage.resources import seed_measurement_files
from aim_catalog.storage.tables import benchmarks as benchmarks_table

API = SHARED / "reference" / "inferencex-results" / "api" / "benchmarks.528c414.json"
RUNS = "https://github.com/SemiAnalysisAI/InferenceX/actions/runs/"


def _seeded(db_url: str) -> str:
    engine = db.make_engine(db_url)
    db.upgrade(engine, on_created=seed_catalog)
    engine.dispose()
    return db_url


def _rows(url: str) -> list[tuple[Any, ...]]:
    engine = db.make_engine(url)
    names = [c.name for c in benchmarks_table.columns if c.name not in ("id", "serve_config_id")]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT r.recipe_id, c.backend, c.gpu_count, {', '.join('b.' + n for n in names)} "
                "FROM benchmarks b JOIN serve_configs c ON c.id = b.serve_config_id "
                "JOIN recipes r ON r.id = c.recipe_pk"
            )
        ).all()
    engine.dispose()
    return sorted((tuple(r) for r in rows), key=repr)


def test_a_new_default_catalog_holds_the_bundled_measurements(db_url: str) -> None:
    url = _seeded(db_url)
    engine = db.make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM benchmarks WHERE origin = 'import' AND import_key LIKE 'ix-%'")
        ).scalar()
        power = conn.execute(
            text("SELECT count(*) FROM benchmarks WHERE power_w_per_gpu IS NOT NULL")
        ).scalar()
    assert count == len(bundled_rows()) == 254
    assert power == 16  # the 2026-05-27, 06-02 and 06-11 API rows
    with Session(engine) as session:  # seeding again (or a second bundle file) adds nothing
        assert load_measurements(session, seed_measurement_files()) == 254
        session.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM benchmarks WHERE origin = 'import'")).scalar() == 254
    engine.dispose()


def test_dsr1_fp8_on_mi355x_is_answered_from_measured_rows(cli: Callable[..., Any], db_url: str) -> None:
    url = _seeded(db_url)
    ask = (DSR1, "8", "-p", "fp8", "-b", "any", "--hardware", "MI355X", "--json")
    chosen = json.loads(cli("--db", url, "select", *ask).stdout)
    # ATOM 8 GPU, 1024/1024 at concurrency 128 (run 26130617530, 2026-05-20): output_tput_per_gpu
    # 566.7953002501849 in the API file x 8 GPUs. (Which concurrency configs are compared
    # at is issue 19's point 3; today the best row of each config ranks.)
    assert (chosen["recipe_id"], chosen["backend"], chosen["gpu_count"]) == (
        "deepseek-r1-0528-mi355x-fp8",
        "atom",
        8,
    )
    assert abs(chosen["score"] - 566.7953002501849 * 8) < 1e-6
    bench = chosen["benchmark"]
    assert bench["source"] == RUNS + "26130617530/attempts/1"
    assert (bench["measured_at"], bench["concurrency"]) == ("2026-05-20", 128)
    assert bench["image"] == chosen["image"]
    verdicts = json.loads(cli("--db", url, "explain", *ask).stdout)["verdicts"]
    ranked = [v for v in verdicts if v["verdict"] in ("chosen", "ranked")]
    assert len(ranked) == 4 and all(v["score"] is not None for v in ranked)
    assert not any("no benchmark" in v["reason"] for v in ranked)
    human = cli("--db", url, "select", *ask[:-1]).stdout
    assert f"source: {RUNS}26130617530/attempts/1" in human
    # The evidence, said (issue 19, point 4, measured rows): measured on the image it launches.
    assert chosen["evidence"] == {
        "kind": "measured",
        "source": RUNS + "26130617530/attempts/1",
        "measured_at": "2026-05-20",
        "measured_image": chosen["image"],
        "launch_image": chosen["image"],
        "stale": False,
    }
    assert f"evidence: measured on {chosen['image']} (2026-05-20); the image this config runs" in human


def test_a_figure_measured_on_another_image_is_said_to_be_stale(cli: Callable[..., Any], db_url: str) -> None:
    """MI300X SGLang at 1k/8k: its rows are from v0.5.5.post3 (agg run 20609406656, dated by
    run-id order) and v0.5.9 (2026-02-27); the config now launches v0.5.12."""
    url = _seeded(db_url)
    ask = (DSR1, "8", "-p", "fp8", "-b", "sglang", "--hardware", "MI300X", "--input-len", "1024")
    chosen = json.loads(cli("--db", url, "select", *ask, "--output-len", "8192", "--json").stdout)
    evidence = chosen["evidence"]
    assert evidence["launch_image"] == chosen["image"] == "lmsysorg/sglang:v0.5.12-rocm700-mi30x"
    assert evidence["measured_image"] in (
        "lmsysorg/sglang:v0.5.5.post3-rocm700-mi30x",
        "lmsysorg/sglang:v0.5.9-rocm700-mi30x",
    )
    assert evidence["stale"] is True and evidence["measured_at"] == chosen["benchmark"]["measured_at"]
    human = cli("--db", url, "select", *ask, "--output-len", "8192").stdout
    assert (
        f"evidence: measured on {evidence['measured_image']} ({evidence['measured_at']}); this config now "
        "runs lmsysorg/sglang:v0.5.12-rocm700-mi30x: the figure may be out of date"
    ) in human


def test_export_writes_the_bundled_rows_back_and_they_ingest(
    cli: Callable[..., Any], db_url: str, tmp_path: Path
) -> None:
    url = _seeded(db_url)
    before = _rows(url)
    out = tmp_path / "exported"
    cli("export", "--out", str(out), db_url=url)
    biggest = max(out.glob("*.yaml"), key=lambda p: p.stat().st_size)
    assert biggest.stat().st_size < MAX_BYTES, biggest  # the per-file limit of a recipe
    if url.startswith("postgresql"):
        reset_pg(url)
        copy = url
    else:
        copy = f"sqlite:///{tmp_path / 'copy.db'}"
    engine = db.make_engine(copy)
    db.upgrade(engine)
    engine.dispose()
    cli("ingest", str(out), db_url=copy)
    assert _rows(copy) == before


def test_api_rows_import_into_the_bundled_configs(cli: Callable[..., Any], db_url: str) -> None:
    engine = db.make_engine(db_url)
    db.upgrade(engine)  # recipes only: the bundled rows would be found again under other keys
    engine.dispose()
    from aim_catalog.storage.resources import seed_recipe_dir

    cli("ingest", str(seed_recipe_dir()), db_url=db_url)
    out = cli("bench", "import", str(API), db_url=db_url)
    assert out.stdout.startswith("imported 89 run(s), 0 already present"), out.stdout
    skipped = [line for line in out.stderr.splitlines() if "skipped" in line]
    assert len(skipped) == 32  # 30 mori-sglang, the non-AMD summary, ATOM fp4 MTP TP4 (no config)
    assert any("315 rows on non-AMD GPUs" in line for line in skipped)
    assert any("no serve config matches" in line for line in skipped)
    again = cli("bench", "import", str(API), db_url=db_url)
    assert again.stdout.startswith("imported 0 run(s), 89 already present")
