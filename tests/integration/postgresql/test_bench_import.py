"""``bench import`` on each dialect: vLLM, SGLang and InferenceX result files mapped onto
benchmark rows, targets the file contradicts, per-element skips, and bad files or numbers
beyond their columns refused in one line, writing nothing.

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
from sqlalchemy import text
from support import bench_results as fx
from support.bench_results import (
    benchmark_rows,
    sglang_line,
    spell_keys_as_before,
    vllm_result,
    write_json,
    write_jsonl,
)
from support.problems import MODEL, head, problem_lines, tables_with_rows

from aim_catalog.storage import db

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


# --------------------------------------------------------------------------- explicit targets


@pytest.mark.parametrize(
    ("doc", "how", "field"),
    [
        (
            fx.vllm_bench_serve(model_id="meta-llama/Llama-3.3-70B-Instruct"),
            ("--recipe", "qwen", "--gpus", "4"),
            "model: the file says model meta-llama/Llama-3.3-70B-Instruct, "
            "but --recipe qwen is Qwen/Qwen3-32B: this run was not measured on that serve config",
        ),
        (
            fx.vllm_bench_serve(model_id="Qwen/Qwen3-32B", tensor_parallel_size="8"),
            ("--recipe", "qwen", "--gpus", "4"),
            "GPUs: the file says 8 GPU(s) (tensor parallel), but --gpus is 4",
        ),
        (
            fx.vllm_bench_serve(model_id="Qwen/Qwen3-32B"),
            ("--recipe", "qwen", "-b", "sglang", "--gpus", "4"),
            "backend: the file says backend vllm, but --backend is sglang",
        ),
        (
            fx.inferencex_agg(model="Qwen/Qwen3-32B", precision="fp8", framework="vllm", tp=8),
            (
                "--recipe",
                "qwen",
            ),
            "hardware: the file says hardware MI355X, but --recipe qwen is for MI300X",
        ),
        (
            fx.inferencex_agg(model="Qwen/Qwen3-32B", precision="fp8", tp=8),
            (
                "--recipe",
                "qwen-355",
            ),
            "precision: the file says precision fp8, but --recipe qwen-355 is bf16",
        ),
    ],
    ids=["model", "gpus", "backend", "hardware", "precision"],
)
def test_an_explicit_target_the_file_contradicts_is_refused(
    cli: Callable[..., Any],
    qwen_catalog: str,
    tmp_path: Path,
    doc: dict[str, Any],
    how: tuple[str, ...],
    field: str,
) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(doc))
    err = cli("bench", "import", str(path), *how, code=4, db_url=qwen_catalog).stderr
    assert f"run.json:1:1: {field}" in err, err
    assert benchmark_rows(qwen_catalog) == []


def test_only_recipe_given_uses_the_files_tensor_parallel(
    cli: Callable[..., Any], qwen_catalog: str, tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(fx.vllm_bench_serve(model_id="Qwen/Qwen3-32B", tensor_parallel_size="8")))
    cli("bench", "import", str(path), "--recipe", "qwen", db_url=qwen_catalog)
    assert [(r["recipe_id"], r["gpu_count"]) for r in benchmark_rows(qwen_catalog)] == [("qwen", 8)]


# --------------------------------------------------------------------------- one-line arrays


def test_skips_in_a_one_line_array_name_the_element(
    cli: Callable[..., Any], qwen_catalog: str, tmp_path: Path
) -> None:
    path = tmp_path / "agg_bmk.json"
    ok = fx.inferencex_agg(model="Qwen/Qwen3-32B", precision="bf16", tp=8)
    path.write_text(json.dumps([ok, fx.inferencex_multinode(), fx.inferencex_agentic()]))  # one line
    err = cli("bench", "import", str(path), db_url=qwen_catalog).stderr
    assert "agg_bmk.json:1:1: [element 1] skipped: a multi-node" in err
    assert "agg_bmk.json:1:1: [element 2] skipped: an agentic" in err


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ({"output_throughput": int("9" * 400)}, "must be a number no larger than 1.79769e+308 (a double)"),
        ({"output_throughput": 1.0, "input_len": int("9" * 30)}, "must be an integer from 1 to 2147483647"),
    ],
    ids=["400-digit-metric", "30-digit-length"],
)
def test_numbers_beyond_their_column_are_refused_in_one_line(
    cli: Callable[..., Any], db_url: str, tmp_path: Path, row: dict[str, Any], fragment: str
) -> None:
    fields = ", ".join(f"{k}: {v}" for k, v in row.items())
    path = tmp_path / "big.yaml"
    path.write_text(
        head() + f"vllm_serve:\n  1_gpu:\n    enabled: true\n    benchmarks:\n      - {{{fields}}}\n"
    )
    for command in (("validate",), ("ingest",)):
        result = cli(*command, str(path), code=4, db_url=db_url if command == ("ingest",) else None)
        (line,) = problem_lines(result)
        assert line.startswith(f"{path}:10:") and "vllm_serve.1_gpu.benchmarks[0]." in line, line
        assert fragment in line and len(line) < 300, line
    assert "recipes" not in tables_with_rows(db_url)


def test_an_import_asks_once_which_runs_are_there_not_once_per_run(
    bench_catalog: str, tmp_path: Path
) -> None:
    """import_runs asked the database once per run whether it was imported already: 12 runs,
    12 queries. Now one look at the index when the serve configs hold no imported row yet
    (then nothing can be there), else that look, one query per chunk of keys however many
    runs a file holds, and one asking whether keys of the old spelling are there
    (keys.legacy_key)."""
    from sqlalchemy import event

    from aim_catalog import Catalog

    lines = [sglang_line(c, 100.0 + c, 200.0) for c in range(1, 13)]
    for line in lines:
        line["model_id"] = MODEL
    path = write_jsonl(tmp_path / "twelve.jsonl", lines)
    with Catalog.open(bench_catalog) as catalog:
        asked: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "import_key" in statement:
                asked.append(statement)

        event.listen(catalog.store.engine, "before_cursor_execute", seen)
        first = catalog.import_benchmarks([path])
        on_first, asked[:] = list(asked), []
        again = catalog.import_benchmarks([path])
    assert (first.added, first.duplicates, again.added, again.duplicates) == (12, 0, 0, 12)
    assert len(on_first) == 1 and "IS NOT NULL" in on_first[0]
    assert len(asked) == 3
    assert ["IS NOT NULL" in q for q in asked] == [True, False, False]
    assert ["length(" in q for q in asked] == [False, False, True]


def test_runs_imported_with_the_old_key_spelling_are_found_again(bench_catalog: str, tmp_path: Path) -> None:
    """Catalogs written before keys.run_key hold keys of the old spelling (keys.legacy_key):
    importing the same file again adds nothing there either, and a new run still goes in."""
    from aim_catalog import Catalog

    lines = [sglang_line(c, 100.0 + c, 200.0) for c in (1, 2, 3)]
    for line in lines:
        line["model_id"] = MODEL
    path = write_jsonl(tmp_path / "three.jsonl", lines)
    with Catalog.open(bench_catalog) as catalog:
        assert catalog.import_benchmarks([path]).added == 3
    old = spell_keys_as_before(bench_catalog, path)  # as an older aim-catalog wrote them
    more = write_jsonl(tmp_path / "four.jsonl", [*lines, {**sglang_line(4, 104.0, 200.0), "model_id": MODEL}])
    with Catalog.open(bench_catalog) as catalog:
        again = catalog.import_benchmarks([more])
    assert (again.added, again.duplicates) == (1, 3)
    keys = sorted(str(row["import_key"]) for row in benchmark_rows(bench_catalog))
    assert sorted(old.values()) == [key for key in keys if not key.startswith("r2-")]
    assert len(keys) == 4
