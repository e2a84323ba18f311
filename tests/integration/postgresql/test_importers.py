"""Every writer generation of vLLM, SGLang and InferenceX results is read (shapes in
``support/bench_results.py``, each naming its source), and ranking compares like with like: true
lengths within a tolerance, unlimited rate unless asked, no failed requests, per GPU with
replicas when no GPU count is given."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import bench_results as fx
from support.bench_results import benchmark_rows

MODEL = "org/bench-model"

FP4 = "org/fp4-model"


def put(path: Path, *docs: dict[str, Any], lines: bool = False) -> Path:
    if lines:
        path.write_text("".join(json.dumps(doc) + "\n" for doc in docs))
    else:
        path.write_text(json.dumps(docs[0] if len(docs) == 1 else list(docs)))
    return path


def target(*extra: str) -> tuple[str, ...]:
    return ("--recipe", "bench-b", "-b", "vllm", "--gpus", "4", *extra)


# --------------------------------------------------------------------------- vLLM generations


def test_vllm_before_0_6_is_read_and_its_total_derived(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path
) -> None:
    path = put(tmp_path / "v05.json", fx.vllm_pre_0_6())
    cli("bench", "import", str(path), *target(), db_url=formats_catalog)
    (row,) = benchmark_rows(formats_catalog)
    assert (row["output_throughput"], row["total_token_throughput"]) == (1250.0, 3750.0)
    assert (row["input_len"], row["output_len"], row["request_rate"], row["failed"]) == (1000, 500, None, 0)
    assert (row["ttft_ms_p50"], row["ttft_ms_p99"], row["e2el_ms_p50"]) == (480.0, 900.0, None)
    assert row["measured_at"] == "2024-08-05T10:15:00"


def test_vllm_2025_misspelled_goodput_is_ignored_and_p90_and_mean_are_read(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path
) -> None:
    path = put(tmp_path / "v2025.json", fx.vllm_2025(completed=497))  # 3 of 500 failed
    out = cli("bench", "import", str(path), *target(), db_url=formats_catalog)
    assert "v2025.json:1: 3 failed request(s): stored, but the row never ranks" in out.stderr
    (row,) = benchmark_rows(formats_catalog)
    assert (row["failed"], row["concurrency"], row["ttft_ms_p99"], row["e2el_ms_p50"]) == (
        3,
        64,
        600.0,
        13775.0,
    )
    assert (row["input_len"], row["output_len"]) == (round(512000 / 497), round(512000 / 497))
    # p90_*_ms (--metric-percentiles 90,99) and mean_*_ms: their own columns since 0010
    assert (row["ttft_ms_p90"], row["ttft_ms_mean"], row["e2el_ms_p90"]) == (450.0, 300.0, 21750.0)
    assert (row["tpot_ms_p90"], row["itl_ms_mean"], row["ttft_ms_p999"]) == (21.0, 13.5, None)


def test_vllm_bench_serve_append_result_holds_several_runs(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path
) -> None:
    runs = [fx.vllm_bench_serve(max_concurrency=c, output_throughput=100.0 * c) for c in (16, 32, 64)]
    runs.append(fx.vllm_bench_serve(request_rate=4.0, output_throughput=9999.0))
    path = tmp_path / "appended.json"
    path.write_text(fx.append_result(*runs))
    out = cli(
        "bench",
        "import",
        str(path),
        "--recipe",
        "bench-a",
        "-b",
        "vllm",
        "--gpus",
        "4",
        db_url=formats_catalog,
    )
    assert out.stdout.startswith("imported 4 run(s)")
    stored = benchmark_rows(formats_catalog)
    assert [(r["concurrency"], r["request_rate"]) for r in stored] == [
        (16, None),
        (32, None),
        (64, None),
        (64, 4.0),
    ]
    assert {r["ttft_ms_p99"] for r in stored} == {800.0}  # p99.9 is not p99...
    assert {(r["ttft_ms_p999"], r["tpot_ms_p999"], r["ttft_ms_mean"]) for r in stored} == {
        (1200.0, 45.0, 400.0)
    }
    # The rate-capped run is the fastest, but only unlimited-rate runs rank by default...
    chosen = json.loads(cli("select", MODEL, "4", "--json", db_url=formats_catalog).stdout)
    assert (chosen["recipe_id"], chosen["score"]) == ("bench-a", 6400.0)
    # ...and --request-rate ranks the runs at that rate instead.
    capped = json.loads(
        cli("select", MODEL, "4", "--request-rate", "4", "--json", db_url=formats_catalog).stdout
    )
    assert (capped["score"], capped["benchmark"]["request_rate"]) == (9999.0, 4.0)
    # explain says why a config whose rows do not compare has no score.
    broken = put(tmp_path / "broken.json", fx.vllm_bench_serve(failed=3, output_throughput=99999.0))
    cli("bench", "import", str(broken), *target(), db_url=formats_catalog)
    explained = json.loads(cli("explain", MODEL, "4", "--json", db_url=formats_catalog).stdout)
    reasons = {v["recipe_id"]: v["reason"] for v in explained["verdicts"]}
    assert reasons["bench-b"] == "ranked 2 of 2: vLLM 4 GPU, no comparable benchmark (1 with failed requests)"
    assert reasons["bench-a"].startswith(
        "chosen: vLLM 4 GPU, output_throughput 6400 at concurrency 64; row measured 1024 in"
    )


def test_ramp_up_runs_are_skipped_with_their_reason(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path
) -> None:
    ramp = fx.vllm_bench_serve(ramp_up_strategy="linear", ramp_up_start_rps=1, ramp_up_end_rps=10)
    path = tmp_path / "ramp.json"
    path.write_text(fx.append_result(fx.vllm_bench_serve(), ramp))
    out = cli("bench", "import", str(path), *target(), db_url=formats_catalog)
    assert "ramp.json:2:1: skipped: a ramp-up run" in out.stderr
    assert out.stdout.startswith("imported 1 run(s)")


# --------------------------------------------------------------------------- SGLang generations


def test_sglang_lengths_are_the_measured_means_not_the_defaults(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path
) -> None:
    """ShareGPT runs carry the unused random_* defaults; random runs at range ratio 0.0
    average about half of them. Stored lengths are what the requests really had."""
    sharegpt = fx.sglang_2024(
        dataset_name="sharegpt",
        total_input_tokens=200 * 224,
        total_output_tokens=200 * 190,
        output_throughput=9000.0,
    )
    half = fx.sglang_2024(output_throughput=8000.0)  # 102000/200 = 510 in, 515 out
    path = put(tmp_path / "h200.jsonl", sharegpt, half, lines=True)
    cli(
        "bench",
        "import",
        str(path),
        "--recipe",
        "bench-a",
        "-b",
        "sglang",
        "--gpus",
        "4",
        db_url=formats_catalog,
    )
    first, second = benchmark_rows(formats_catalog)
    assert (first["input_len"], first["output_len"], first["dataset"]) == (224, 190, "sharegpt")
    assert (first["nominal_input_len"], first["nominal_output_len"]) == (None, None)
    assert (second["input_len"], second["output_len"]) == (510, 515)
    assert (second["nominal_input_len"], second["nominal_output_len"], second["dataset"]) == (
        1024,
        1024,
        "random",
    )
    # Derived as SGLang defines them: (input + output tokens) / duration, completed / duration.
    assert second["total_token_throughput"] == pytest.approx(205000 / 60.6)
    assert second["request_throughput"] == pytest.approx(200 / 60.6)
    # A real 1024/1024 run on bench-b, slower: it is the only one of that workload.
    real = fx.vllm_bench_serve(output_throughput=3000.0)
    cli("bench", "import", str(put(tmp_path / "real.json", real)), *target(), db_url=formats_catalog)
    asked = ("--backend", "any", "--input-len", "1024", "--output-len", "1024", "--json")
    chosen = json.loads(cli("select", MODEL, "4", *asked, db_url=formats_catalog).stdout)
    assert (chosen["recipe_id"], chosen["backend"], chosen["score"]) == ("bench-b", "vllm", 3000.0)
    # 510/515 is within 15% of 512: those rows rank for the workload they really were.
    near = ("--backend", "any", "--input-len", "512", "--output-len", "512", "--json")
    assert json.loads(cli("select", MODEL, "4", *near, db_url=formats_catalog).stdout)["score"] == 8000.0
    explained = json.loads(cli("explain", MODEL, "4", *near, db_url=formats_catalog).stdout)
    reason = next(v["reason"] for v in explained["verdicts"] if v["verdict"] == "chosen")
    assert "row measured 510 in / 515 out tokens per request (asked 1024/1024), random" in reason


def test_sglang_2025_and_refactored_writers(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path
) -> None:
    details = {"input_lens": [2048] * 3, "output_lens": [256] * 3, "errors": ["", "timeout", ""]}
    lines = [fx.sglang_2025(), fx.sglang_metrics(), fx.sglang_metrics(details=details, max_concurrency=16)]
    path = tmp_path / "sgl.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert "Infinity" in path.read_text()  # how Python's json writes float("inf")
    out = cli(
        "bench",
        "import",
        str(path),
        "--recipe",
        "bench-a",
        "-b",
        "sglang",
        "--gpus",
        "4",
        db_url=formats_catalog,
    )
    assert "sgl.jsonl:3: 1 failed request(s)" in out.stderr
    a, b, c = benchmark_rows(formats_catalog)
    assert (a["request_rate"], a["total_token_throughput"], a["e2el_ms_p99"]) == (None, 10240.0, 24000.0)
    assert (b["input_len"], b["output_len"], b["total_token_throughput"]) == (2048, 256, 13824.0)
    assert b["tpot_ms_p50"] == pytest.approx(17.1)
    assert (a["ttft_ms_mean"], a["e2el_ms_mean"], a["ttft_ms_p90"]) == (350.0, 12000.0, None)  # mean_*_ms
    assert (b["failed"], c["failed"]) == (None, 1)


def test_sglang_server_info_names_the_target_and_trace_runs_are_refused(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path
) -> None:
    # server_info (model_path, tp_size) as the issue describes SGLang's newer writer; that
    # writer's source was not found, so only these two keys are relied on.
    located = fx.sglang_metrics(server_info={"model_path": MODEL, "tp_size": 4})
    trace = fx.sglang_metrics(request_rate="trace", dataset_name="mooncake")
    path = put(tmp_path / "mixed.jsonl", located, trace, lines=True)
    out = cli("bench", "import", str(path), db_url=formats_catalog)
    assert "mixed.jsonl:2:1: skipped: a trace replay (request_rate 'trace')" in out.stderr
    assert out.stdout.strip() == "imported 1 run(s), 0 already present (1 into bench-a/sglang/4 GPU)"
    only_trace = put(tmp_path / "trace.jsonl", trace, lines=True)
    refused = cli("bench", "import", str(only_trace), db_url=formats_catalog, code=4)
    assert "trace.jsonl:1:1: skipped: a trace replay" in refused.stderr


# --------------------------------------------------------------------------- InferenceX


def test_inferencex_agg_bmk_array(cli: Callable[..., Any], formats_catalog: str, tmp_path: Path) -> None:
    eight = fx.inferencex_agg(model=FP4, tp=8, conc=128, tput_per_gpu=2500.0, output_tput_per_gpu=1250.0)
    pp2 = fx.inferencex_agg(model=FP4, tp=4, pp=2, conc=32)  # tp * pp * pcp_size = 8 GPUs
    skipped = [fx.inferencex_multinode(), fx.inferencex_agentic()]
    array = [fx.inferencex_agg(model=FP4), eight, *skipped, pp2]
    path = tmp_path / "agg_bmk.json"
    path.write_text(json.dumps(array, indent=2))  # collect_results.py: json.dump(..., indent=2)
    out = cli("bench", "import", str(path), db_url=formats_catalog)
    assert "skipped: a multi-node/disaggregated row" in out.stderr
    assert "skipped: an agentic trace replay (scenario_type agentic-coding)" in out.stderr
    assert len([line for line in out.stderr.splitlines() if "skipped" in line]) == 2
    assert "imported 3 run(s)" in out.stdout
    by_conc = {r["concurrency"]: r for r in benchmark_rows(formats_catalog)}
    four = by_conc[64]
    assert (four["recipe_id"], four["precision"], four["backend"], four["gpu_count"]) == (
        "bench-fp4",
        "mxfp4",
        "sglang",
        4,
    )
    assert (four["total_token_throughput"], four["output_throughput"], four["request_throughput"]) == (
        16000.0,
        8000.0,
        None,
    )
    assert four["ttft_ms_p50"] == pytest.approx(237.5) and four["e2el_ms_p99"] == pytest.approx(16800.0)
    assert four["ttft_ms_mean"] == pytest.approx(250.0) and four["ttft_ms_p90"] is None
    assert four["power_w_per_gpu"] is None  # this generation has no power keys
    assert (four["input_len"], four["output_len"], four["request_rate"]) == (1024, 1024, None)
    assert four["image"] == "rocm/sgl-dev:v0.5.5-rocm700-mi35x-20251110"
    assert (by_conc[128]["gpu_count"], by_conc[128]["total_token_throughput"]) == (8, 20000.0)
    assert by_conc[32]["gpu_count"] == 8
    starts = [i for i, line in enumerate(path.read_text().splitlines(), 1) if line == "  {"]
    assert f"agg_bmk.json:{starts[2]}:1: [element 2] skipped: a multi-node" in out.stderr
    assert f"agg_bmk.json:{starts[3]}:1: [element 3] skipped: an agentic" in out.stderr


def test_fp4_and_mxfp4_are_one_precision(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path
) -> None:
    cli(
        "bench",
        "import",
        str(put(tmp_path / "agg_run.json", fx.inferencex_agg(model=FP4))),
        db_url=formats_catalog,
    )
    for asked in ("fp4", "mxfp4", "FP4"):
        chosen = json.loads(
            cli(
                "select",
                FP4,
                "4",
                "-p",
                asked,
                "-b",
                "sglang",
                "--hardware",
                "MI355X",
                "--json",
                db_url=formats_catalog,
            ).stdout
        )
        assert (chosen["precision"], chosen["score"]) == ("mxfp4", 8000.0)


# --------------------------------------------------------------------------- replicas


def test_without_gpus_configs_compete_per_gpu_and_replicas_fill_the_host(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path
) -> None:
    four = fx.inferencex_agg(model=FP4, tput_per_gpu=6000.0, output_tput_per_gpu=3000.0)  # 12,000 out on 4
    eight = fx.inferencex_agg(model=FP4, tp=8, tput_per_gpu=4000.0, output_tput_per_gpu=2000.0)  # 16,000 on 8
    cli("bench", "import", str(put(tmp_path / "agg_bmk.json", four, eight)), db_url=formats_catalog)
    base = ("-p", "fp4", "-b", "any", "--hardware", "MI355X", "--host-gpus", "8")
    chosen = json.loads(cli("select", FP4, *base, "--json", db_url=formats_catalog).stdout)
    assert (chosen["gpu_count"], chosen["score"], chosen["per_gpu"]) == (4, 12000.0, 3000.0)
    assert (chosen["replicas"], chosen["host_gpus"], chosen["host_total"]) == (2, 8, 24000.0)
    human = cli("select", FP4, *base, db_url=formats_catalog).stdout
    assert "2 x 4 GPU (sglang) -> 24,000 tok/s on 8 GPUs; 1 x 8 GPU would give 16,000" in human
    # With GPUS the figures are still given, for that count.
    fixed = json.loads(cli("select", FP4, "8", *base, "--json", db_url=formats_catalog).stdout)
    assert (fixed["gpu_count"], fixed["replicas"], fixed["host_total"], fixed["per_gpu"]) == (
        8,
        1,
        16000.0,
        2000.0,
    )
    small_host = json.loads(cli("select", FP4, *base[:-1], "4", "--json", db_url=formats_catalog).stdout)
    assert (small_host["gpu_count"], small_host["replicas"]) == (4, 1)


# --------------------------------------------------------------------------- hostile numbers


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"model_id": "m", "output_throughput": 1' + "0" * 400 + ', "median_tpot_ms": 1}', "out of range"),
        (
            '{"model_id": "m", "output_throughput": 1, "median_tpot_ms": 1, "max_concurrency": 1'
            + "0" * 5000
            + "}",
            "5001 digits is out of range",
        ),
        (
            json.dumps(fx.vllm_bench_serve(total_input_tokens=10**14, completed=1)),
            "gives input_len 100000000000000",
        ),
        (json.dumps(fx.vllm_bench_serve(date="")), "blank or non-text date"),
        (json.dumps(fx.vllm_bench_serve(completed=0)), "no request completed"),
        (
            json.dumps(fx.vllm_bench_serve(max_concurrency=10**12)),
            "max_concurrency: must be an integer from 1",
        ),
    ],
    ids=[
        "400-digit-metric",
        "5000-digit-int",
        "huge-derived-length",
        "blank-date",
        "none-completed",
        "huge-conc",
    ],
)
def test_hostile_numbers_give_one_line_and_write_nothing(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(body)
    result = cli("bench", "import", str(path), *target(), code=4, db_url=formats_catalog)
    (line,) = [line for line in result.stderr.splitlines() if "hostile.json" in line]
    assert "hostile.json:1:" in line and message in line, result.stderr
    assert len(result.stderr) < 400
    assert benchmark_rows(formats_catalog) == []


# --------------------------------------------------------------------------- views agree with select


def test_leaderboard_view_ranks_as_select_does(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path
) -> None:
    imports = [
        (fx.vllm_bench_serve(output_throughput=5000.0), ("--recipe", "bench-a", "-b", "vllm", "--gpus", "4")),
        (fx.vllm_bench_serve(output_throughput=4000.0), target()),
        (fx.vllm_bench_serve(output_throughput=9000.0, failed=2), target()),  # never ranks
        (fx.vllm_bench_serve(output_throughput=9500.0, request_rate=2.0), target()),  # nor this
        (fx.sglang_2025(output_throughput=4500.0), ("--recipe", "bench-a", "-b", "sglang", "--gpus", "4")),
        (
            fx.vllm_bench_serve(output_throughput=7000.0, tensor_parallel_size="8"),
            ("--recipe", "bench-a", "-b", "vllm", "--gpus", "8"),
        ),
        (fx.inferencex_agg(model=FP4), ()),
    ]
    for i, (doc, how) in enumerate(imports):
        cli("bench", "import", str(put(tmp_path / f"r{i}.json", doc)), *how, db_url=formats_catalog)
    board = json.loads(cli("report", "leaderboard", "-f", "json", db_url=formats_catalog).stdout)
    assert len(board) == 3
    for entry in board:
        chosen = json.loads(
            cli(
                "select",
                entry["model"],
                str(entry["gpu_count"]),
                "-p",
                entry["precision"],
                "-b",
                "any",
                "--hardware",
                entry["hardware"],
                "--json",
                db_url=formats_catalog,
            ).stdout
        )
        assert (chosen["recipe_id"], chosen["backend"], chosen["score"]) == (
            entry["recipe_id"],
            entry["backend"],
            entry["throughput"],
        )
        assert entry["throughput_per_gpu"] == pytest.approx(chosen["per_gpu"])
    assert {(e["gpu_count"], e["recipe_id"], e["throughput"]) for e in board} == {
        (4, "bench-a", 5000.0),
        (8, "bench-a", 7000.0),
        (4, "bench-fp4", 8000.0),
    }
    results = json.loads(cli("report", "benchmarks", "-f", "json", db_url=formats_catalog).stdout)
    found = {(r["failed"], r["request_rate"], r["ranks"]) for r in results if r["recipe_id"] == "bench-b"}
    assert found == {(0, 2.0, 0), (0, None, 1), (2, None, 0)}
