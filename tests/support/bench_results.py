"""Benchmark result documents in each writer's exact shape (keys, order, types), with test
numbers. Every builder names the tool version and the source file whose writer it mimics;
``aim_catalog/measurements/importers/*.py`` cite the same sources.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from aim_catalog.storage import db

BENCH_MODEL = "org/bench-model"
DSR1 = "deepseek-ai/DeepSeek-R1-0528"


def vllm_pre_0_6(**over: Any) -> dict[str, Any]:
    """vLLM v0.5.x ``benchmarks/benchmark_serving.py --save-result`` (``--metadata tp=4``):
    ``input_throughput`` and no ``total_token_throughput``; no max_concurrency, no e2el.
    Shape read from a verbatim copy of that writer (``result_json`` then ``benchmark()``'s
    ``result``); the upstream file moved on in 0.6.0 (PR adding total_token_throughput)."""
    n = 200
    doc: dict[str, Any] = {
        "date": "20240805-101500",
        "backend": "vllm",
        "model_id": "org/bench-model",
        "tokenizer_id": "org/bench-model",
        "best_of": 1,
        "use_beam_search": False,
        "num_prompts": n,
        "tp": "4",
        "request_rate": "inf",
        "duration": 80.0,
        "completed": n,
        "total_input_tokens": n * 1000,
        "total_output_tokens": n * 500,
        "request_throughput": 2.5,
        "input_throughput": 2500.0,
        "output_throughput": 1250.0,
        "mean_ttft_ms": 500.0,
        "median_ttft_ms": 480.0,
        "std_ttft_ms": 50.0,
        "p99_ttft_ms": 900.0,
        "mean_tpot_ms": 40.0,
        "median_tpot_ms": 39.0,
        "std_tpot_ms": 2.0,
        "p99_tpot_ms": 45.0,
        "mean_itl_ms": 40.0,
        "median_itl_ms": 38.0,
        "std_itl_ms": 4.0,
        "p99_itl_ms": 70.0,
        "input_lens": [1000] * n,
        "output_lens": [500] * n,
        "ttfts": [0.48] * n,
        "itls": [[0.039] * 3 for _ in range(n)],
        "generated_texts": ["x"] * n,
        "errors": [""] * n,
    }
    doc.update(over)
    return doc


def vllm_2025(**over: Any) -> dict[str, Any]:
    """vLLM ``benchmarks/benchmark_serving.py`` at commit 0049e29c (early 2025), run with
    ``--metric-percentiles 90,99 --percentile-metrics ttft,tpot,itl,e2el --metadata
    tensor_parallel_size=4``: misspelled ``"request_goodput:"`` key, p90 keys, no ``failed``
    (num_prompts - completed), no per-request lists (no --save-detailed)."""
    doc: dict[str, Any] = {
        "date": "20250214-093000",
        "backend": "vllm",
        "model_id": "org/bench-model",
        "tokenizer_id": "org/bench-model",
        "num_prompts": 500,
        "tensor_parallel_size": "4",
        "request_rate": "inf",
        "burstiness": 1.0,
        "max_concurrency": 64,
        "duration": 120.0,
        "completed": 500,
        "total_input_tokens": 512000,
        "total_output_tokens": 512000,
        "request_throughput": 4.16,
        "request_goodput:": None,
        "output_throughput": 4266.7,
        "total_token_throughput": 8533.3,
    }
    for metric, base in (("ttft", 300.0), ("tpot", 14.0), ("itl", 13.5), ("e2el", 14500.0)):
        doc[f"mean_{metric}_ms"] = base
        doc[f"median_{metric}_ms"] = base * 0.95
        doc[f"std_{metric}_ms"] = base * 0.1
        doc[f"p90_{metric}_ms"] = base * 1.5
        doc[f"p99_{metric}_ms"] = base * 2.0
    doc.update(over)
    return doc


def vllm_bench_serve(**over: Any) -> dict[str, Any]:
    """``vllm bench serve --save-result`` (``vllm/benchmarks/serve.py`` at commit 009e6d4a),
    ``--metadata tensor_parallel_size=4 --metric-percentiles 99,99.9``: ``endpoint_type``,
    ``label``, ``failed``, peak figures, ``p99.9_*`` keys; no per-request lists."""
    doc: dict[str, Any] = {
        "date": "20251120-101500",
        "endpoint_type": "vllm",
        "backend": "vllm",
        "label": None,
        "model_id": "org/bench-model",
        "tokenizer_id": "org/bench-model",
        "num_prompts": 640,
        "tensor_parallel_size": "4",
        "request_rate": "inf",
        "burstiness": 1.0,
        "max_concurrency": 64,
        "duration": 163.9,
        "completed": 640,
        "failed": 0,
        "total_input_tokens": 640 * 1024,
        "total_output_tokens": 640 * 1024,
        "request_throughput": 3.905,
        "request_goodput": None,
        "output_throughput": 3998.8,
        "total_token_throughput": 7997.6,
        "max_output_tokens_per_s": 4608.0,
        "max_concurrent_requests": 64,
        "rtfx": 0.0,
    }
    for metric, base in (("ttft", 400.0), ("tpot", 15.0), ("itl", 14.0)):
        doc[f"mean_{metric}_ms"] = base
        doc[f"median_{metric}_ms"] = base * 0.95
        doc[f"std_{metric}_ms"] = base * 0.1
        doc[f"p99_{metric}_ms"] = base * 2.0
        doc[f"p99.9_{metric}_ms"] = base * 3.0
    doc.update(over)
    return doc


def append_result(*docs: dict[str, Any]) -> str:
    """What ``vllm bench serve --append-result`` leaves in one file: a newline before every
    object after the first (``outfile.write("\\n")`` then ``json.dump``)."""
    return "\n".join(json.dumps(doc) for doc in docs)


def sglang_2024(**over: Any) -> dict[str, Any]:
    """``python -m sglang.bench_serving --output-file`` line, ``python/sglang/bench_serving.py``
    at commit 50a61368 (mid-2024): no request/total throughput, no p99, no max_concurrency."""
    doc: dict[str, Any] = {
        "backend": "sglang",
        "dataset_name": "random",
        "request_rate": float("inf"),
        "total_input_tokens": 102000,
        "total_output_tokens": 103000,
        "total_output_tokens_retokenized": 102900,
        "mean_e2e_latency_ms": 30000.0,
        "median_e2e_latency_ms": 29000.0,
        "median_ttft_ms": 900.0,
        "median_itl_ms": 20.0,
        "output_throughput": 1700.0,
        "sharegpt_output_len": None,
        "random_input_len": 1024,
        "random_output_len": 1024,
        "random_range_ratio": 0.0,
        "duration": 60.6,
        "completed": 200,
    }
    doc.update(over)
    return doc


def sglang_2025(**over: Any) -> dict[str, Any]:
    """``python/sglang/bench_serving.py`` at commit 0033168f (2025): ``max_concurrency``,
    p99s, ``p95_itl_ms``, measured ``concurrency``, ``accept_length``; no total_throughput;
    ``request_rate`` the float (``inf`` written as JSON ``Infinity``)."""
    doc: dict[str, Any] = {
        "backend": "sglang",
        "dataset_name": "random",
        "request_rate": float("inf"),
        "max_concurrency": 64,
        "sharegpt_output_len": None,
        "random_input_len": 1024,
        "random_output_len": 1024,
        "random_range_ratio": 1.0,
        "duration": 100.0,
        "completed": 500,
        "total_input_tokens": 512000,
        "total_output_tokens": 512000,
        "total_output_tokens_retokenized": 511900,
        "request_throughput": 5.0,
        "input_throughput": 5120.0,
        "output_throughput": 5120.0,
    }
    for name, base in (("e2e_latency", 12000.0), ("ttft", 350.0), ("tpot", 11.0), ("itl", 11.0)):
        doc[f"mean_{name}_ms"] = base
        doc[f"median_{name}_ms"] = base * 0.95
        doc[f"std_{name}_ms"] = base * 0.1
        if name == "itl":
            doc["p95_itl_ms"] = base * 1.5
        doc[f"p99_{name}_ms"] = base * 2.0
    doc["concurrency"] = 61.3
    doc["accept_length"] = None
    doc.update(over)
    return doc


def sglang_metrics(**over: Any) -> dict[str, Any]:
    """The refactored writer, ``python/sglang/benchmark/metrics.py`` ``save_results`` at
    commit 6e48df33: arguments, then ``duration`` and the BenchmarkMetrics fields as they are
    (``total_input``, ``total_output``, ``total_throughput``...); ``--output-details`` adds
    ``details`` with per-request lists and ``errors``."""
    doc: dict[str, Any] = {
        "backend": "sglang",
        "dataset_name": "random",
        "request_rate": float("inf"),
        "max_concurrency": 32,
        "sharegpt_output_len": None,
        "random_input_len": 2048,
        "random_output_len": 256,
        "random_range_ratio": 1.0,
        "duration": 50.0,
        "completed": 300,
        "total_input": 300 * 2048,
        "total_output": 300 * 256,
        "total_output_retokenized": 300 * 256,
        "request_throughput": 6.0,
        "input_throughput": 12288.0,
        "output_throughput": 1536.0,
        "output_throughput_retokenized": 1536.0,
        "total_throughput": 13824.0,
        "total_throughput_retokenized": 13824.0,
    }
    for name, base in (("ttft", 800.0), ("tpot", 18.0), ("itl", 17.0), ("e2el", 5400.0)):
        key = "e2e_latency" if name == "e2el" else name
        doc[f"mean_{key}_ms"] = base
        doc[f"median_{key}_ms"] = base * 0.95
        doc[f"std_{key}_ms"] = base * 0.1
        if name == "itl":
            doc["p95_itl_ms"] = base * 1.5
        doc[f"p99_{key}_ms"] = base * 2.0
        if name == "itl":
            doc["max_itl_ms"] = base * 4
    doc["concurrency"] = 30.2
    doc["accept_length"] = None
    doc.update(over)
    return doc


def inferencex_agg(**over: Any) -> dict[str, Any]:
    """One ``agg_<name>.json`` of ``utils/process_result.py`` (SemiAnalysisAI/InferenceX at
    commit 843c6254): single-node keys, per-GPU throughputs over tp*pp*pcp_size GPUs, every
    ``*_ms`` key of the raw vLLM-style result in seconds without ``_ms``, ``*_intvty``."""
    tp, pp, pcp = 4, 1, 1
    gpus = tp * pp * pcp
    total, output = 16000.0, 8000.0
    doc: dict[str, Any] = {
        "hw": "mi355x",
        "conc": 64,
        "image": "rocm/sgl-dev:v0.5.5-rocm700-mi35x-20251110",
        "model": "org/bench-model",
        "infmax_model_prefix": "bench",
        "framework": "sglang",
        "precision": "fp4",
        "spec_decoding": "none",
        "disagg": False,
        "recipe_fingerprint": "",
        "isl": 1024,
        "osl": 1024,
        "is_multinode": False,
        "tp": tp,
        "pp": pp,
        "dcp_size": 1,
        "pcp_size": pcp,
        "ep": 1,
        "dp_attention": "false",
        "tput_per_gpu": total / gpus,
        "output_tput_per_gpu": output / gpus,
        "input_tput_per_gpu": (total - output) / gpus,
    }
    for metric, ms in (("ttft", 250.0), ("tpot", 8.0), ("itl", 7.9), ("e2el", 8400.0)):
        for stat, factor in (("mean", 1.0), ("median", 0.95), ("std", 0.1), ("p99", 2.0)):
            doc[f"{stat}_{metric}"] = ms * factor / 1000.0
            if metric == "tpot":
                doc[f"{stat}_intvty"] = 1000.0 / (ms * factor)
    doc.update(over)
    return doc


def inferencex_multinode() -> dict[str, Any]:
    """A multi-node disaggregated row of the same writer (prefill/decode keys, no ``tp``)."""
    doc = inferencex_agg()
    for key in ("tp", "pp", "dcp_size", "pcp_size", "ep", "dp_attention"):
        del doc[key]
    doc.update(
        {
            "disagg": True,
            "is_multinode": True,
            "prefill_tp": 8,
            "prefill_ep": 8,
            "prefill_num_workers": 1,
            "decode_tp": 8,
            "decode_ep": 8,
            "decode_num_workers": 2,
            "num_prefill_gpu": 8,
            "num_decode_gpu": 16,
        }
    )
    return doc


def inferencex_agentic() -> dict[str, Any]:
    """A row of ``utils/agentic/aggregation/process_agentic_result.py`` (abridged: the keys
    the importer looks at; its 76 keys hold mean/p75/p90/p95 latencies and cache stats)."""
    return {
        "hw": "mi355x",
        "conc": 16,
        "model": "org/bench-model",
        "framework": "sglang",
        "precision": "fp4",
        "scenario_type": "agentic-coding",
        "tp": 2,
        "mean_ttft": 1.2,
        "p90_ttft": 3.4,
    }


def vllm_result(**overrides: Any) -> dict[str, Any]:
    """A `vllm bench serve --save-result` document (vLLM 0.11) for 640 prompts, 1024 in / 512 out."""
    n = 640
    doc: dict[str, Any] = {
        "date": "20251120-101500",
        "endpoint_type": "vllm",
        "backend": "vllm",
        "label": None,
        "model_id": BENCH_MODEL,
        "tokenizer_id": BENCH_MODEL,
        "num_prompts": n,
        "tensor_parallel_size": "4",  # given with --metadata tensor_parallel_size=4
        "request_rate": "inf",
        "burstiness": 1.0,
        "max_concurrency": 64,
        "duration": 163.9,
        "completed": n,
        "total_input_tokens": n * 1024,
        "total_output_tokens": n * 512,
        "request_throughput": 3.905,
        "request_goodput": None,
        "output_throughput": 1999.4,
        "total_token_throughput": 5998.1,
        "max_output_tokens_per_s": 2304.0,
        "max_concurrent_requests": 64,
        "mean_ttft_ms": 402.1,
        "median_ttft_ms": 380.5,
        "std_ttft_ms": 90.2,
        "p99_ttft_ms": 812.0,
        "mean_tpot_ms": 30.1,
        "median_tpot_ms": 29.8,
        "std_tpot_ms": 2.1,
        "p99_tpot_ms": 35.5,
        "mean_itl_ms": 30.0,
        "median_itl_ms": 28.7,
        "std_itl_ms": 5.5,
        "p99_itl_ms": 60.2,
        "mean_e2el_ms": 15800.0,
        "median_e2el_ms": 15600.0,
        "std_e2el_ms": 800.0,
        "p99_e2el_ms": 18100.0,
        "input_lens": [1024] * n,
        "output_lens": [512] * n,
        "ttfts": [0.38] * n,
        "itls": [[0.029] * 511 for _ in range(n)],
        "generated_texts": ["lorem ipsum " * 40] * n,
        "errors": [""] * n,
    }
    doc.update(overrides)
    return doc


def sglang_line(concurrency: int, output: float, ttft_p99: float, **overrides: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "backend": "sglang",
        "dataset_name": "random",
        "request_rate": "inf",
        "max_concurrency": concurrency,
        "sharegpt_output_len": None,
        "random_input_len": 1024,
        "random_output_len": 512,
        "random_range_ratio": 1.0,
        "duration": 120.5,
        "completed": 500,
        "total_input_tokens": 512000,
        "total_output_tokens": 256000,
        "total_output_tokens_retokenized": 255980,
        "request_throughput": output / 512,
        "input_throughput": output * 2,
        "output_throughput": output,
        "total_throughput": output * 3,
        "mean_e2e_latency_ms": 14000.0,
        "median_e2e_latency_ms": 13900.0,
        "std_e2e_latency_ms": 700.0,
        "p99_e2e_latency_ms": 16900.0,
        "mean_ttft_ms": ttft_p99 / 2,
        "median_ttft_ms": ttft_p99 / 2.5,
        "std_ttft_ms": 20.0,
        "p99_ttft_ms": ttft_p99,
        "mean_tpot_ms": 25.0,
        "median_tpot_ms": 24.9,
        "std_tpot_ms": 1.0,
        "p99_tpot_ms": 28.0,
        "mean_itl_ms": 25.0,
        "median_itl_ms": 24.0,
        "std_itl_ms": 3.0,
        "p95_itl_ms": 30.0,
        "p99_itl_ms": 41.0,
        "concurrency": concurrency * 0.97,
        "accept_length": None,
    }
    line.update(overrides)
    return line


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc))
    return path


def write_jsonl(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def spell_keys_as_before(db_url: str, path: Path) -> dict[str, str]:
    """Give the rows imported from ``path`` the keys an aim-catalog before ``keys.run_key``
    gave them (``keys.legacy_key``), as such a catalog holds them; the new key -> old key."""
    from aim_catalog.measurements.importers import parse_results
    from aim_catalog.measurements.importers.keys import legacy_key

    old = {run.key: legacy_key(run.row) for run in parse_results(path.read_bytes(), str(path)).runs}
    engine = db.make_engine(db_url)
    with engine.begin() as conn:
        for new, legacy in old.items():
            renamed = {"o": legacy, "n": new}
            conn.execute(text("UPDATE benchmarks SET import_key = :o WHERE import_key = :n"), renamed)
    engine.dispose()
    return old


def benchmark_rows(db_url: str) -> list[dict[str, Any]]:
    engine = db.make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.recipe_id, r.precision, c.backend, c.gpu_count, b.* FROM benchmarks b "
                "JOIN serve_configs c ON c.id = b.serve_config_id JOIN recipes r ON r.id = c.recipe_pk "
                "ORDER BY b.id"
            )
        )
        out = [dict(row._mapping) for row in rows]
    engine.dispose()
    return out


def dsr1(spec: str, **over: Any) -> dict[str, Any]:
    """DeepSeek-R1-0528 on MI355X, FP8, SGLang TP8, as InferenceX's dsr1-fp8-mi355x-sglang(-mtp)
    entries (configs/amd-master.yaml) write it, ISL 8192 / OSL 1024."""
    doc = inferencex_agg(
        model=DSR1,
        infmax_model_prefix="dsr1",
        precision="fp8",
        tp=8,
        conc=64,
        isl=8192,
        osl=1024,
        spec_decoding=spec,
        image="lmsysorg/sglang:v0.5.12-rocm700-mi35x",
        tput_per_gpu=2000.0,
        output_tput_per_gpu=200.0,
    )
    doc.update(over)
    return doc


# ----------------------------------------------------------- the benchmark clients in the images
# What each backend's own client writes when run as aim_catalog.operating.bench.image_client
# builds its command (640 prompts, 1024 in / 512 out, 64 at a time, no request rate), at the
# release the default images run. The fake server's image carries them (tests/fake_server/:
# ``python -m support.bench_results`` from tests/ writes them; a unit test checks they match).

# One point: latencies in ms at each statistic the clients write (vLLM and ATOM: mean,
# median, std, then p50, p90, p99, p99.9 for --metric-percentiles 50,90,99,99.9).
_LATENCIES = {
    "ttft": {
        "mean": 402.1,
        "median": 380.5,
        "std": 90.2,
        "p90": 530.0,
        "p95": 610.4,
        "p99": 812.0,
        "p99.9": 905.3,
    },
    "tpot": {"mean": 30.1, "median": 29.8, "std": 2.1, "p90": 32.4, "p95": 33.6, "p99": 35.5, "p99.9": 38.9},
    "itl": {"mean": 30.0, "median": 28.7, "std": 5.5, "p90": 33.9, "p95": 41.2, "p99": 60.2, "p99.9": 98.4},
    "e2el": {
        "mean": 15800.0,
        "median": 15600.0,
        "std": 800.0,
        "p90": 16900.0,
        "p95": 17400.0,
        "p99": 18100.0,
        "p99.9": 19050.0,
    },
}


def _vllm_style_latencies(percentiles: tuple[str, ...]) -> dict[str, float]:
    """``process_one_metric`` of vLLM's client (and ATOM's copy): per metric mean, median,
    std, then ``p{p_word}`` for each percentile asked (p50 is the median)."""
    doc: dict[str, float] = {}
    for metric, stats in _LATENCIES.items():
        doc[f"mean_{metric}_ms"] = stats["mean"]
        doc[f"median_{metric}_ms"] = stats["median"]
        doc[f"std_{metric}_ms"] = stats["std"]
        for p in percentiles:
            doc[f"p{p}_{metric}_ms"] = stats["median"] if p == "50" else stats[f"p{p}"]
    return doc


def vllm_bench_serve_0_27_1(**over: Any) -> dict[str, Any]:
    """``vllm bench serve --save-result`` of vLLM 0.27.1 (``vllm/benchmarks/serve.py`` of the
    PyPI wheel vllm==0.27.1, the default image vllm/vllm-openai-rocm:v0.27.1): ``main_async``'s
    keys (date ... max_concurrency, no --metadata), then ``benchmark()``'s result without the
    per-request lists (no --save-detailed), then the latencies of ``--percentile-metrics
    ttft,tpot,itl,e2el --metric-percentiles 50,90,99,99.9``; ``--backend vllm``."""
    n, duration = 640, 163.9
    tokens_in, tokens_out = n * 1024, n * 512
    doc: dict[str, Any] = {
        "date": "20260901-101500",
        "endpoint_type": "vllm",
        "backend": "vllm",
        "label": None,
        "model_id": BENCH_MODEL,
        "tokenizer_id": BENCH_MODEL,
        "num_prompts": n,
        "request_rate": "inf",
        "burstiness": 1.0,
        "max_concurrency": 64,
        "duration": duration,
        "completed": n,
        "failed": 0,
        "total_input_tokens": tokens_in,
        "total_output_tokens": tokens_out,
        "request_throughput": n / duration,
        "request_goodput": None,
        "output_throughput": tokens_out / duration,
        "total_token_throughput": (tokens_in + tokens_out) / duration,
        "max_output_tokens_per_s": 2304.0,
        "max_concurrent_requests": 64,
        "rtfx": 0.0,
        **_vllm_style_latencies(("50", "90", "99", "99.9")),
    }
    doc.update(over)
    return doc


def sglang_bench_serving_0_5_17(**over: Any) -> dict[str, Any]:
    """One ``--output-file`` line of ``python3 -m sglang.bench_serving`` in SGLang 0.5.17 (the
    PyPI wheel sglang==0.5.17, the default gfx950 image: ``sglang/bench_serving.py``
    re-exports ``sglang/benchmark/serving.py``, whose ``benchmark()`` writes it) for
    ``--backend sglang-oai --dataset-name random-ids --random-range-ratio 1``: the prompts
    are 1024 - 1 tokens (``sample_random_requests`` takes the tokenizer's special tokens
    off), ``request_rate`` the float (``Infinity``), p90/p95/p99 of every latency.
    ``server_info`` is abridged: the server's ``/server_info`` holds every ServerArgs field,
    the scheduler's info and internal states besides these."""
    n, duration = 640, 150.2
    tokens_in, tokens_out = n * 1023, n * 512
    doc: dict[str, Any] = {
        "tag": None,
        "backend": "sglang-oai",
        "dataset_name": "random-ids",
        "request_rate": float("inf"),
        "max_concurrency": 64,
        "sharegpt_output_len": None,
        "random_input_len": 1024,
        "random_output_len": 512,
        "random_range_ratio": 1.0,
        "server_info": {"model_path": BENCH_MODEL, "tp_size": 4, "version": "0.5.17"},
        "duration": duration,
        "completed": n,
        "total_input_tokens": tokens_in,
        "total_input_text_tokens": tokens_in,
        "total_input_vision_tokens": 0,
        "total_output_tokens": tokens_out,
        "total_output_tokens_retokenized": tokens_out - 28,
        "request_throughput": n / duration,
        "input_throughput": tokens_in / duration,
        "output_throughput": tokens_out / duration,
        "total_throughput": (tokens_in + tokens_out) / duration,
    }
    for metric, name in (("e2el", "e2e_latency"), ("ttft", "ttft"), ("tpot", "tpot"), ("itl", "itl")):
        stats = _LATENCIES[metric]
        for stat in ("mean", "median", "std", "p90", "p95", "p99"):
            doc[f"{stat}_{name}_ms"] = stats[stat]
    doc.update(
        concurrency=61.8, accept_length=None, max_output_tokens_per_s=2496.0, max_concurrent_requests=64
    )
    doc.update(over)
    return doc


def atom_benchmark_serving_0_1_4(**over: Any) -> dict[str, Any]:
    """``python3 -m atom.benchmarks.benchmark_serving --save-result`` of ROCm/ATOM v0.1.4
    (``atom/benchmarks/benchmark_serving.py``, the default image rocm/atom:...atom0.1.4...):
    vLLM's older writer, ``best_of``, the misspelled ``"request_goodput:"``, no ``failed``
    (num_prompts - completed), no peak figures; the latencies of ``--percentile-metrics
    ttft,tpot,itl,e2el --metric-percentiles 50,90,99,99.9``."""
    n, duration = 640, 158.4
    tokens_in, tokens_out = n * 1024, n * 512
    doc: dict[str, Any] = {
        "date": "20260901-103000",
        "backend": "vllm",
        "model_id": BENCH_MODEL,
        "tokenizer_id": BENCH_MODEL,
        "best_of": 1,
        "num_prompts": n,
        "request_rate": "inf",
        "burstiness": 1.0,
        "max_concurrency": 64,
        "duration": duration,
        "completed": n - 2,
        "total_input_tokens": (n - 2) * 1024,
        "total_output_tokens": (n - 2) * 512,
        "request_throughput": (n - 2) / duration,
        "request_goodput:": None,
        "output_throughput": (tokens_out - 2 * 512) / duration,
        "total_token_throughput": (tokens_in + tokens_out - 2 * 1536) / duration,
        **_vllm_style_latencies(("50", "90", "99", "99.9")),
    }
    doc.update(over)
    return doc


# File in tests/fake_server -> (its builder, written as that tool writes it: one JSON object,
# or a JSONL line).
FAKE_SERVER_RESULTS: dict[str, tuple[Any, str]] = {
    "vllm-bench-serve-0.27.1.json": (vllm_bench_serve_0_27_1, "json"),
    "sglang-bench-serving-0.5.17.jsonl": (sglang_bench_serving_0_5_17, "jsonl"),
    "atom-benchmark-serving-0.1.4.json": (atom_benchmark_serving_0_1_4, "json"),
}


def fake_server_result(name: str) -> bytes:
    """The bytes of ``tests/fake_server/<name>``: ``json.dump`` (vLLM, ATOM) or
    ``json.dumps(...) + "\\n"`` (SGLang's ``file.write``)."""
    build, kind = FAKE_SERVER_RESULTS[name]
    text = json.dumps(build())
    return (text + "\n" if kind == "jsonl" else text).encode()


if __name__ == "__main__":  # from tests/: python -m support.bench_results
    from support.paths import FAKE_SERVER

    for file_name in FAKE_SERVER_RESULTS:
        (FAKE_SERVER / file_name).write_bytes(fake_server_result(file_name))
        print(FAKE_SERVER / file_name)
