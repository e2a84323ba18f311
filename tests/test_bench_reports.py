"""Benchmark results in (vLLM and SGLang files), scenario- and SLO-aware selection, reports
out (views, read-only SQL), and export that ingests back into the same catalog.

The result files are made here in the shape the tools document: `vllm bench serve
--save-result` writes one JSON object (with per-request lists unless trimmed);
`python -m sglang.bench_serving --output-file` appends one JSON object per run (JSONL).
The numbers are test data, not measurements.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from support.bench_results import sglang_line, vllm_result
from support.services import reset_pg

from aim_catalog.recipes.format import BENCHMARK_FIELDS
from aim_catalog.storage import db
from aim_catalog.storage.models import Benchmark, Recipe, ServeConfig
from aim_catalog.storage.resources import seed_recipe_dir

MODEL = "org/bench-model"


BENCH_RECIPES: dict[str, dict[str, Any]] = {
    "bench-a": {
        "model": MODEL,
        "configs": {"vllm": {4: {"enabled": True}}, "sglang": {4: {"enabled": True}}},
    },
    "bench-b": {"model": MODEL, "configs": {"vllm": {4: {"enabled": True}, 8: {"enabled": True}}}},
}


@pytest.fixture
def bench_catalog(make_catalog: Callable[..., Any], db_url: str) -> str:
    """Two recipes of MODEL: 'bench-a' (vLLM and SGLang, 4 GPUs) and 'bench-b' (vLLM 4 and 8 GPUs)."""
    return str(make_catalog(BENCH_RECIPES, into=db_url))


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc))
    return path


def write_jsonl(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def benchmark_rows(db_url: str) -> list[dict[str, Any]]:
    engine = db.make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.recipe_id, c.backend, c.gpu_count, b.* FROM benchmarks b "
                "JOIN serve_configs c ON c.id = b.serve_config_id JOIN recipes r ON r.id = c.recipe_pk "
                "ORDER BY b.id"
            )
        )
        out = [dict(row._mapping) for row in rows]
    engine.dispose()
    return out


# --------------------------------------------------------------------------- import


def test_vllm_result_maps_onto_the_benchmark_columns(
    cli: Callable[..., Any], bench_catalog: str, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "vllm-c64.json", vllm_result())
    assert path.stat().st_size > 1_000_000  # the per-request lists are there...
    out = cli(
        "bench", "import", str(path), "--recipe", "bench-b", "-b", "vllm", "--gpus", "4", db_url=bench_catalog
    )
    assert out.stdout.strip() == "imported 1 run(s), 0 already present (1 into bench-b/vllm/4 GPU)"
    (row,) = benchmark_rows(bench_catalog)
    assert (row["recipe_id"], row["backend"], row["gpu_count"], row["origin"]) == (
        "bench-b",
        "vllm",
        4,
        "import",
    )
    assert (row["input_len"], row["output_len"], row["concurrency"]) == (1024, 512, 64)
    assert (row["output_throughput"], row["total_token_throughput"], row["request_throughput"]) == (
        1999.4,
        5998.1,
        3.905,
    )
    assert (row["ttft_ms_p50"], row["ttft_ms_p99"], row["tpot_ms_p99"], row["itl_ms_p99"]) == (
        380.5,
        812.0,
        35.5,
        60.2,
    )
    assert (row["e2el_ms_p50"], row["e2el_ms_p99"]) == (15600.0, 18100.0)
    assert row["measured_at"] == "2025-11-20T10:15:00"
    assert row["source"] == "vllm bench serve: vllm-c64.json"
    # ...but none of them reached the database.
    assert len(json.dumps(row, default=str)) < 2000
    again = cli(
        "bench", "import", str(path), "--recipe", "bench-b", "-b", "vllm", "--gpus", "4", db_url=bench_catalog
    )
    assert again.stdout.startswith("imported 0 run(s), 1 already present")
    assert len(benchmark_rows(bench_catalog)) == 1


def test_sglang_jsonl_runs_are_inferred_to_their_config(
    cli: Callable[..., Any], bench_catalog: str, tmp_path: Path
) -> None:
    lines = [sglang_line(16, 900.0, 300.0), sglang_line(64, 2400.0, 950.0), sglang_line(128, 3100.0, 2100.0)]
    for line in lines:
        line["model_id"] = MODEL  # sglang.bench_serving records the model it was pointed at
    path = write_jsonl(tmp_path / "sglang.jsonl", lines)
    out = cli("bench", "import", str(path), db_url=bench_catalog)  # only bench-a has an SGLang config
    assert out.stdout.strip() == "imported 3 run(s), 0 already present (3 into bench-a/sglang/4 GPU)"
    rows = benchmark_rows(bench_catalog)
    assert [(r["concurrency"], r["output_throughput"], r["total_token_throughput"]) for r in rows] == [
        (16, 900.0, 2700.0),
        (64, 2400.0, 7200.0),
        (128, 3100.0, 9300.0),
    ]
    assert {(r["input_len"], r["output_len"], r["e2el_ms_p50"], r["e2el_ms_p99"]) for r in rows} == {
        (1024, 512, 13900.0, 16900.0)
    }


def test_an_ambiguous_file_lists_the_candidates_and_writes_nothing(
    cli: Callable[..., Any], bench_catalog: str, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "no-tp.json", vllm_result(tensor_parallel_size=None))
    result = cli("bench", "import", str(path), code=4, db_url=bench_catalog)
    listed = "bench-a/vllm/4 GPU; bench-b/vllm/4 GPU; bench-b/vllm/8 GPU"
    assert f"3 serve configs match (model org/bench-model, backend vllm): {listed};" in result.stderr
    assert "--recipe, --backend and --gpus" in result.stderr
    assert benchmark_rows(bench_catalog) == []
    nothing = write_json(tmp_path / "other.json", vllm_result(model_id="org/unknown"))
    assert (
        "no serve config matches (model org/unknown"
        in cli("bench", "import", str(nothing), code=4, db_url=bench_catalog).stderr
    )


def test_import_by_deployment(cli: Callable[..., Any], bench_catalog: str, tmp_path: Path) -> None:
    engine = db.make_engine(bench_catalog)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        config = conn.execute(
            text(
                "SELECT c.id FROM serve_configs c JOIN recipes r ON r.id = c.recipe_pk "
                "WHERE r.recipe_id = 'bench-b' AND c.gpu_count = 8"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO deployments (name, container_id, docker_host, location, serve_config_id, "
                "recipe_id, model, backend, gpu_count, gpus, image, port, spec, status, created_at, "
                "updated_at) VALUES ('dep', 'c0ffee', 'local', 'local', :cfg, 'bench-b', :m, 'vllm', 8, "
                "'[0]', 'img', 8000, '{}', 'running', :now, :now)"
            ),
            {"cfg": config, "m": MODEL, "now": now},
        )
    engine.dispose()
    path = write_json(tmp_path / "dep.json", vllm_result())
    cli("bench", "import", str(path), "--deployment", "dep", db_url=bench_catalog)
    assert [(r["recipe_id"], r["gpu_count"]) for r in benchmark_rows(bench_catalog)] == [("bench-b", 8)]


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        (b'{"model_id": "x", "output_throughput": 1', ":1:", "invalid or truncated JSON"),
        (b'{"total_throughput": 1.0}\n{"total_throughput": 2.0,\n', ":2:", "invalid or truncated JSON"),
        (b"[1, 2]", ":1:", "expected a JSON object"),
        (b"", ":1:", "empty file"),
        (b'{"hello": "world"}', ":1:", "not a vLLM, SGLang or InferenceX benchmark result"),
        (b'{"total_token_throughput": NaN, "model_id": "x"}', ":1:", "must be a non-negative number"),
        (b'{"total_token_throughput": -5, "model_id": "x"}', ":1:", "must be a non-negative number"),
        (b'{"total_token_throughput": "fast", "model_id": "x"}', ":1:", "must be a non-negative number"),
        (b'{"total_token_throughput": 5, "max_concurrency": 0}', ":1:", "must be an integer from 1"),
        (b"\xff\xfe{}", ":1:", "not valid UTF-8"),
        (b"[" * 100_000, ":1:", "JSON"),
    ],
    ids=[
        "truncated",
        "truncated-jsonl",
        "list",
        "empty",
        "foreign",
        "nan",
        "negative",
        "string",
        "zero-conc",
        "utf8",
        "deep",
    ],
)
def test_bad_result_files_exit_4_and_write_nothing(
    cli: Callable[..., Any], bench_catalog: str, tmp_path: Path, content: bytes, where: str, message: str
) -> None:
    good = write_json(tmp_path / "good.json", vllm_result())
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    result = cli(
        "bench",
        "import",
        str(good),
        str(bad),
        "--recipe",
        "bench-b",
        "-b",
        "vllm",
        "--gpus",
        "4",
        code=4,
        db_url=bench_catalog,
    )
    assert f"bad.json{where}" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr
    assert benchmark_rows(bench_catalog) == []


def test_reingesting_a_recipe_keeps_imported_results(
    cli: Callable[..., Any], bench_catalog: str, tmp_path: Path, write_recipe: Callable[..., Path]
) -> None:
    path = write_json(tmp_path / "r.json", vllm_result())
    cli(
        "bench", "import", str(path), "--recipe", "bench-b", "-b", "vllm", "--gpus", "4", db_url=bench_catalog
    )
    rows = {"enabled": True, "benchmarks": [{"output_throughput": 10.0}]}
    write_recipe("bench-b", model=MODEL, configs={"vllm": {4: rows, 8: {"enabled": True}}})
    assert cli("ingest", str(tmp_path / "recipes"), db_url=bench_catalog).stdout.startswith(
        "added 0, updated 1"
    )
    assert sorted(r["origin"] for r in benchmark_rows(bench_catalog)) == ["import", "recipe"]


# --------------------------------------------------------------------------- scenario and SLO selection


def test_slo_and_scenario_decide_the_winner(
    cli: Callable[..., Any], bench_catalog: str, tmp_path: Path
) -> None:
    fast_but_slow_start = write_json(
        tmp_path / "a.json", vllm_result(output_throughput=3000.0, p99_ttft_ms=812.0)
    )
    slower_but_snappy = write_json(
        tmp_path / "b.json", vllm_result(output_throughput=2000.0, p99_ttft_ms=310.0)
    )
    cli(
        "bench",
        "import",
        str(fast_but_slow_start),
        "--recipe",
        "bench-a",
        "-b",
        "vllm",
        "--gpus",
        "4",
        db_url=bench_catalog,
    )
    cli(
        "bench",
        "import",
        str(slower_but_snappy),
        "--recipe",
        "bench-b",
        "-b",
        "vllm",
        "--gpus",
        "4",
        db_url=bench_catalog,
    )

    def pick(*extra: str, code: int = 0) -> Any:
        result = cli("select", MODEL, "4", "--json", *extra, code=code, db_url=bench_catalog)
        return json.loads(result.stdout) if code == 0 else result

    assert pick()["recipe_id"] == "bench-a"
    assert pick("--max-ttft-ms", "500")["recipe_id"] == "bench-b"
    assert pick("--max-ttft-ms", "500", "--concurrency", "64")["recipe_id"] == "bench-b"
    assert "No suitable recipe found" in pick("--max-ttft-ms", "100", code=3).stderr
    # No row of that scenario: nobody has a benchmark, so the tie breaks by recipe_id.
    assert pick("--concurrency", "8") | {} == pick("--concurrency", "8")
    assert (pick("--concurrency", "8")["recipe_id"], pick("--concurrency", "8")["score"]) == ("bench-a", None)
    explained = json.loads(
        cli("explain", MODEL, "4", "--max-ttft-ms", "500", "--json", db_url=bench_catalog).stdout
    )
    reasons = {v["recipe_id"]: v["reason"] for v in explained["verdicts"]}
    assert reasons["bench-a"] == "misses the SLO: ttft p99 812 ms > 500 ms"
    assert reasons["bench-b"].startswith("chosen: vLLM 4 GPU, output_throughput 2000")
    explained = json.loads(
        cli(
            "explain",
            MODEL,
            "4",
            "--max-ttft-ms",
            "500",
            "--input-len",
            "99",
            "--json",
            code=3,
            db_url=bench_catalog,
        ).stdout
    )
    assert {v["reason"] for v in explained["verdicts"]} == {"SLO unproven: no benchmark for input_len 99"}


def test_published_figures_pick_the_image_per_scenario(cli: Callable[..., Any]) -> None:
    """AMD's 405B figures: the Sept 2025 image wins at 2048/2048, June 2025 at 128/2048."""
    model = "amd/Llama-3.1-405B-Instruct-FP8-KV"
    long = json.loads(
        cli("select", model, "8", "-p", "fp8", "--input-len", "2048", "--output-len", "2048", "--json").stdout
    )
    short = json.loads(
        cli("select", model, "8", "-p", "fp8", "--input-len", "128", "--output-len", "2048", "--json").stdout
    )
    assert (long["recipe_id"], long["score"]) == ("llama-3-1-405b-fp8-kv-mi300x-fp8-vllm-2025-09", 2214.2)
    assert (short["recipe_id"], short["score"]) == ("llama-3-1-405b-fp8-kv-mi300x-fp8-vllm-2025-06", 4275.0)


# --------------------------------------------------------------------------- reports and SQL


def test_reports_in_every_format(cli: Callable[..., Any], bench_catalog: str, tmp_path: Path) -> None:
    path = write_json(tmp_path / "r.json", vllm_result())
    cli(
        "bench", "import", str(path), "--recipe", "bench-b", "-b", "vllm", "--gpus", "4", db_url=bench_catalog
    )
    coverage = json.loads(cli("report", "coverage", "-f", "json", db_url=bench_catalog).stdout)
    assert coverage == [
        {
            "model": MODEL,
            "precision": "bf16",
            "hardware": "MI300X",
            "backend": "vllm",
            "4 GPU": "enabled",
            "8 GPU": "enabled",
        },
        {
            "model": MODEL,
            "precision": "bf16",
            "hardware": "MI300X",
            "backend": "sglang",
            "4 GPU": "enabled",
            "8 GPU": "",
        },
    ]
    board = cli("report", "leaderboard", "-f", "csv", db_url=bench_catalog).stdout.splitlines()
    assert board[0].startswith("model,precision,hardware,gpu_count,recipe_id,backend,throughput,metric")
    assert board[1].startswith(f"{MODEL},bf16,MI300X,4,bench-b,vllm,1999.4,output_throughput,1024,512,64,")
    assert len(board) == 2
    markdown = cli("report", "benchmarks", "-f", "markdown", db_url=bench_catalog).stdout.splitlines()
    assert markdown[0].startswith("| recipe_id | model |") and markdown[1].startswith("|---|")
    assert "| bench-b |" in markdown[2]
    table = cli("report", "coverage", db_url=bench_catalog).stdout
    assert "4 GPU" in table and "enabled" in table
    assert "unknown report 'nope'" in cli("report", "nope", code=2, db_url=bench_catalog).stderr
    assert (
        "unknown format 'xml'" in cli("report", "coverage", "-f", "xml", code=2, db_url=bench_catalog).stderr
    )


def test_sql_reads_and_the_database_refuses_writes(cli: Callable[..., Any], bench_catalog: str) -> None:
    rows = json.loads(
        cli(
            "sql", "SELECT recipe_id FROM recipes ORDER BY recipe_id", "-f", "json", db_url=bench_catalog
        ).stdout
    )
    assert rows == [{"recipe_id": "bench-a"}, {"recipe_id": "bench-b"}]
    count = "SELECT count(*) AS n FROM serve_configs"
    assert cli("sql", count, "-f", "csv", db_url=bench_catalog).stdout.splitlines() == ["n", "4"]
    for statement in (
        "DELETE FROM serve_configs",
        "UPDATE recipes SET precision = 'fp8'",
        "DROP TABLE benchmarks",
        "CREATE TABLE x (a int)",
        "SELECT 1; DELETE FROM serve_configs",
        "WITH gone AS (DELETE FROM serve_configs RETURNING id) SELECT count(*) FROM gone",
    ):
        result = cli("sql", statement, code=2, db_url=bench_catalog)
        assert "query failed" in result.stderr, statement
    assert cli("sql", count, "-f", "csv", db_url=bench_catalog).stdout.splitlines() == ["n", "4"]
    assert json.loads(
        cli(
            "sql", "SELECT model, gpu_count FROM coverage ORDER BY 1, 2", "-f", "json", db_url=bench_catalog
        ).stdout
    )


def test_views_make_common_questions_one_liners(bench_catalog: str, cli: Callable[..., Any]) -> None:
    names = (
        "SELECT recipe_id, backend, gpu_count, best_throughput, benchmarks "
        "FROM serve_config_scores ORDER BY 1, 2, 3"
    )
    rows = json.loads(cli("sql", names, "-f", "json", db_url=bench_catalog).stdout)
    assert [(r["recipe_id"], r["backend"], r["gpu_count"], r["benchmarks"]) for r in rows] == [
        ("bench-a", "sglang", 4, 0),
        ("bench-a", "vllm", 4, 0),
        ("bench-b", "vllm", 4, 0),
        ("bench-b", "vllm", 8, 0),
    ]


# --------------------------------------------------------------------------- export round trip


def content(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """What a catalog holds, without ids, paths, hashes or timestamps (typed by the models)."""
    r, c, b = Recipe.__table__, ServeConfig.__table__, Benchmark.__table__
    metrics = [b.c[name] for name in BENCHMARK_FIELDS]
    queries = {
        "recipes": select(r.c.recipe_id, r.c.model_id, r.c.huggingface_id, r.c.hardware, r.c.precision),
        "configs": select(
            r.c.recipe_id, c.c.backend, c.c.gpu_count, c.c.enabled, c.c.args, c.c.env, c.c.image
        ).select_from(r.join(c, c.c.recipe_pk == r.c.id)),
        "benchmarks": select(r.c.recipe_id, c.c.backend, c.c.gpu_count, *metrics).select_from(
            r.join(c, c.c.recipe_pk == r.c.id).join(b, b.c.serve_config_id == c.c.id)
        ),
    }
    engine: Engine = db.make_engine(url)
    with engine.connect() as conn:
        out = {name: sorted((tuple(row) for row in conn.execute(q)), key=repr) for name, q in queries.items()}
    engine.dispose()
    return out


def test_export_ingests_into_an_identical_catalog(
    cli: Callable[..., Any], bench_catalog: str, tmp_path: Path, reference_dir: Path
) -> None:
    seed = seed_recipe_dir() / "llama-3-1-70b-fp8-kv-mi300x-fp8-vllm-2025-11.yaml"
    cli("ingest", str(reference_dir), str(seed), db_url=bench_catalog)
    path = write_json(tmp_path / "r.json", vllm_result())
    cli(
        "bench", "import", str(path), "--recipe", "bench-b", "-b", "vllm", "--gpus", "4", db_url=bench_catalog
    )
    out = tmp_path / "exported"
    assert (
        cli("export", "--out", str(out), db_url=bench_catalog).stdout.strip()
        == f"exported 7 recipe(s) to {out}"
    )
    assert cli("validate", str(out)).stdout.strip() == "7 file(s) valid, 7 recipe(s)"
    original = content(bench_catalog)
    # Into an empty catalog of the same dialect.
    if bench_catalog.startswith("postgresql"):
        reset_pg(bench_catalog)
        copy = bench_catalog
    else:
        copy = f"sqlite:///{tmp_path / 'copy.db'}"
    assert cli("ingest", str(out), db_url=copy).stdout.startswith("added 7,")
    copied = content(copy)
    assert len(copied["benchmarks"]) == 5  # 4 published figures + the imported run
    assert copied == original
