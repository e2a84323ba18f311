"""vLLM's serving benchmark results, every writer generation.

Shapes, from vLLM's own source:

- before 0.6 (``benchmarks/benchmark_serving.py``, 2024): ``request_throughput``,
  ``input_throughput``, ``output_throughput`` and no ``total_token_throughput``; percentiles
  fixed at p99 (``median_/p99_{ttft,tpot,itl}_ms``); ``request_rate`` ``"inf"`` or a number.
  The total is derived as vLLM later defined it: input + output tokens per second.
- ``benchmarks/benchmark_serving.py`` 2024 to early 2025 (e.g. commit 0049e29c): adds
  ``total_token_throughput``, ``max_concurrency``, ``burstiness``, configurable percentiles
  (``p{N}_{metric}_ms``, e.g. ``p90``, ``p99.9``: only p99 is kept), ``e2el``, and writes the
  goodput under the misspelled key ``"request_goodput:"`` (ignored here).
- ``vllm bench serve`` (``vllm/benchmarks/serve.py``, commit 009e6d4a): adds ``failed``,
  ``endpoint_type``, ``label``; ``--metadata K=V`` adds top-level string keys (read here:
  ``tensor_parallel_size``/``tp``, ``dataset_name``, ``random_input_len``...);
  ``--append-result`` appends one object per line to the same file; ``ramp_up_strategy``
  runs vary their rate and are skipped.

The true lengths are ``total_input_tokens``/``total_output_tokens`` over ``completed``.
Older writers have no ``failed``: it is ``num_prompts - completed`` when both are present.
"""

from __future__ import annotations

from typing import Any

from aim_catalog.measurements.importers.common import LATENCIES, Fields, Run, Skip, latency_keys, mean_length

# This reader's name in Run.tool, in messages, and the writer named in a row's source.
TOOL = "vllm"
TITLE = "vLLM"
SOURCE = "vllm bench serve"
KEYS = ("total_token_throughput", "median_e2el_ms", "input_throughput", "median_tpot_ms")
TP_KEYS = ("tensor_parallel_size", "tp_size", "tp")


def matches(obj: dict[str, Any]) -> bool:
    return any(key in obj for key in KEYS)


def read(obj: dict[str, Any], path: str, line: int, engine: Any) -> tuple[Run | None, Fields]:
    f = Fields(obj, path, line)
    if obj.get("ramp_up_strategy") is not None:
        raise Skip("a ramp-up run (ramp_up_strategy): its request rate varies during the run")
    row: dict[str, Any] = f.numbers(
        (name, name) for name in ("output_throughput", "total_token_throughput", "request_throughput")
    )
    if "total_token_throughput" not in row:  # before vLLM 0.6.0
        given = f.number("input_throughput")
        if given is not None and "output_throughput" in row:
            row["total_token_throughput"] = given + row["output_throughput"]
            f.derived("total_token_throughput", "input_throughput", "input_throughput + output_throughput")
    row.update(f.numbers(latency_keys(((name, name) for name in LATENCIES), "{stat}_{name}_ms")))
    completed = f.count("completed", minimum=0)
    failed = f.count("failed", minimum=0)
    if failed is None and "failed" not in obj and completed is not None:
        prompts = f.count("num_prompts", minimum=0)
        if prompts is not None and prompts >= completed:
            failed = prompts - completed
    if completed == 0:
        f.bad("completed", "no request completed: nothing was measured")
    scenario = {
        "concurrency": f.count("max_concurrency"),
        "request_rate": f.rate(),
        "failed": failed,
        "dataset": f.text("dataset_name", "dataset", max_len=32),
        "nominal_input_len": f.count("random_input_len", "input_len"),
        "nominal_output_len": f.count("random_output_len", "output_len"),
        "input_len": mean_length(f, "total_input_tokens", completed, "input_len"),
        "output_len": mean_length(f, "total_output_tokens", completed, "output_len"),
        "measured_at": f.date(),
    }
    for column, nominal in (("input_len", "nominal_input_len"), ("output_len", "nominal_output_len")):
        if scenario[column] is None:
            scenario[column] = scenario[nominal]
    row.update({k: v for k, v in scenario.items() if v is not None})
    model = f.text("model_id", "model")
    tp = f.count(*TP_KEYS)
    if f.problems:
        return None, f
    return Run(path, line, TOOL, model, engine(obj.get("backend"), None), tp, row), f
