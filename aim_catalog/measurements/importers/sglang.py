"""SGLang's ``python -m sglang.bench_serving --output-file`` results (JSONL, one run a line).

Shapes, from SGLang's own source:

- mid-2024 ``python/sglang/bench_serving.py`` (commit 50a61368): ``backend``,
  ``dataset_name``, ``request_rate``, ``total_input_tokens``, ``total_output_tokens``,
  ``total_output_tokens_retokenized``, ``mean_/median_e2e_latency_ms``, ``median_ttft_ms``,
  ``median_itl_ms``, ``output_throughput``, ``sharegpt_output_len``, ``random_input_len``,
  ``random_output_len``, ``random_range_ratio``, ``duration``, ``completed``: no request or
  total throughput (derived here as SGLang defines them: completed / duration and
  (input + output tokens) / duration), no p99.
- 2025 ``bench_serving.py`` (commit 0033168f): adds ``max_concurrency``,
  ``request_throughput``, ``input_throughput``, p99 of every latency, ``p95_itl_ms``,
  ``concurrency`` (a measured mean, not the client's limit) and ``accept_length``;
  ``request_rate`` is the float, so ``inf`` is written as JSON ``Infinity``.
- the refactored writer (``python/sglang/benchmark/metrics.py`` ``save_results``, commit
  6e48df33): the metrics dataclass as is (``total_input``, ``total_output``,
  ``total_throughput``...), ``request_rate`` ``"trace"`` for trace replays (skipped), and
  with ``--output-details`` a ``details`` object whose ``errors`` list gives failed requests.

SGLang writes ``random_input_len``/``random_output_len`` into every line, also for ShareGPT
runs, and with ``random_range_ratio`` below 1 a random run's requests average less than
them: the row's lengths are the measured means, the nominal ones are kept only for random
datasets. A ``server_info`` object (``model_path``, ``tp_size``), where a result has one, is
used to infer the target.
"""

from __future__ import annotations

from typing import Any

from aim_catalog.measurements.importers.common import MAX_TOKENS, Fields, Run, latency_keys, mean_length

# This reader's name in Run.tool, in messages, and the writer named in a row's source.
TOOL = "sglang"
TITLE = "SGLang"
SOURCE = "sglang.bench_serving"
KEYS = (
    "median_e2e_latency_ms",
    "total_throughput",
    "total_output_tokens_retokenized",
    "total_output_retokenized",
)


THROUGHPUT_KEYS = (  # SGLang's name -> the catalog's column
    ("output_throughput", "output_throughput"),
    ("total_throughput", "total_token_throughput"),
    ("request_throughput", "request_throughput"),
)
LATENCY_NAMES = (("ttft", "ttft"), ("tpot", "tpot"), ("itl", "itl"), ("e2el", "e2e_latency"))


def matches(obj: dict[str, Any]) -> bool:
    return any(key in obj for key in KEYS)


def read(obj: dict[str, Any], path: str, line: int, engine: Any) -> tuple[Run | None, Fields]:
    f = Fields(obj, path, line)
    row: dict[str, Any] = f.numbers(THROUGHPUT_KEYS)
    row.update(f.numbers(latency_keys(LATENCY_NAMES, "{stat}_{name}_ms")))
    total_in = "total_input_tokens" if "total_input_tokens" in obj else "total_input"
    total_out = "total_output_tokens" if "total_output_tokens" in obj else "total_output"
    completed = f.count("completed", minimum=0)
    if completed == 0:
        f.bad("completed", "no request completed: nothing was measured")
    duration = f.number("duration")
    if duration and completed:
        tokens = [obj.get(total_in), obj.get(total_out)]
        exact = all(isinstance(t, int) and 0 <= t <= MAX_TOKENS for t in tokens)
        if "total_token_throughput" not in row and exact:
            row["total_token_throughput"] = sum(t for t in tokens if isinstance(t, int)) / duration
            f.derived("total_token_throughput", "duration", f"({total_in} + {total_out}) / duration")
        if "request_throughput" not in row:
            row["request_throughput"] = completed / duration
            f.derived("request_throughput", "duration", "completed / duration")
    dataset = f.text("dataset_name", max_len=32)
    random = dataset is not None and dataset.startswith("random")
    nominal_in = f.count("random_input_len") if random else None
    nominal_out = f.count("random_output_len") if random else f.count("sharegpt_output_len")
    details = obj.get("details")
    failed = None
    if isinstance(details, dict) and isinstance(details.get("errors"), list):
        failed = sum(1 for error in details["errors"] if error)
    server = obj.get("server_info") if isinstance(obj.get("server_info"), dict) else {}
    scenario = {
        "concurrency": f.count("max_concurrency"),
        "request_rate": f.rate(),
        "failed": failed,
        "dataset": dataset,
        "nominal_input_len": nominal_in,
        "nominal_output_len": nominal_out,
        "input_len": mean_length(f, total_in, completed, "input_len"),
        "output_len": mean_length(f, total_out, completed, "output_len"),
    }
    for column, nominal in (("input_len", "nominal_input_len"), ("output_len", "nominal_output_len")):
        if scenario[column] is None:
            scenario[column] = scenario[nominal]
    row.update({k: v for k, v in scenario.items() if v is not None})
    model = f.text("model_id", "model")
    if model is None and server:
        model = Fields(server, path, line).text("model_path")
    tp = f.count("tp_size", "tensor_parallel_size")
    if tp is None and server:
        tp = f.count("tp_size", source=server)
    if f.problems:
        return None, f
    return Run(path, line, TOOL, model, engine(obj.get("backend"), "sglang"), tp, row), f
