"""The backends' own benchmark clients as ``--client image`` runs them: each argv checked
word by word against the options the tool's source defines (at the version named), and
each client's result file (as ``tests/fake_server`` carries it) read into a point."""

from __future__ import annotations

import json

import pytest
from support.bench_results import (
    FAKE_SERVER_RESULTS,
    atom_benchmark_serving_0_1_4,
    fake_server_result,
    sglang_bench_serving_0_5_17,
    vllm_bench_serve_0_27_1,
)
from support.paths import FAKE_SERVER

from aim_catalog.errors import CatalogError, UsageProblem
from aim_catalog.operating.bench import image_client
from aim_catalog.operating.bench.image_client import (
    UnreadableResult,
    Unsupported,
    command,
    image_version,
    result,
    result_path,
)
from aim_catalog.operating.bench.point import PointSpec

SPEC = PointSpec(concurrency=64, requests=640, input_len=1024, output_len=512, max_duration=900.0)
MODEL = "Qwen/Qwen3-32B"
PATH = "/tmp/aim-catalog-bench-0123456789abcdef/result.json"

# Option names each client defines, read from its argument parser:
# vLLM 0.27.1 (PyPI wheel): vllm/benchmarks/serve.py add_cli_args and
# vllm/benchmarks/datasets/datasets.py add_dataset_parser (--dataset-name, --num-prompts,
# --random-*, --trust-remote-code); vLLM 0.11.0 (PyPI wheel) has the same but --num-warmups.
VLLM_OPTIONS = {
    "--backend", "--base-url", "--host", "--port", "--endpoint", "--model", "--tokenizer",
    "--served-model-name", "--dataset-name", "--random-input-len", "--random-output-len",
    "--random-range-ratio", "--num-prompts", "--max-concurrency", "--request-rate", "--ignore-eos",
    "--percentile-metrics", "--metric-percentiles", "--num-warmups", "--disable-tqdm",
    "--trust-remote-code", "--save-result", "--result-dir", "--result-filename",
}  # fmt: skip
VLLM_0_11_0_LACKS = {"--num-warmups"}
# SGLang 0.5.17 (PyPI wheel): sglang/benchmark/serving.py cli_main; 0.5.12 (PyPI wheel):
# sglang/bench_serving.py, the same names.
SGLANG_OPTIONS = {
    "--backend", "--base-url", "--host", "--port", "--model", "--served-model-name", "--tokenizer",
    "--dataset-name", "--random-input-len", "--random-output-len", "--random-range-ratio",
    "--num-prompts", "--max-concurrency", "--request-rate", "--output-file", "--disable-tqdm",
    "--disable-ignore-eos", "--warmup-requests",
}  # fmt: skip
# ROCm/ATOM v0.1.4 (and v0.1.2): atom/benchmarks/benchmark_serving.py's __main__ parser.
ATOM_OPTIONS = {
    "--backend", "--base-url", "--host", "--port", "--endpoint", "--dataset-name", "--model",
    "--tokenizer", "--num-prompts", "--max-concurrency", "--request-rate", "--trust-remote-code",
    "--disable-tqdm", "--save-result", "--result-dir", "--result-filename", "--ignore-eos",
    "--percentile-metrics", "--metric-percentiles", "--random-input-len", "--random-output-len",
    "--random-range-ratio", "--num-warmups", "--served-model-name",
}  # fmt: skip


def options(argv: list[str]) -> set[str]:
    return {word for word in argv if word.startswith("--")}


def test_vllm_bench_serve() -> None:
    argv = command("vllm", SPEC, model=MODEL, port=8000, result_path=PATH)
    assert argv == [
        "vllm", "bench", "serve",  # vllm/entrypoints/cli/benchmark/serve.py: name = "serve"
        "--backend", "vllm",  # ASYNC_REQUEST_FUNCS["vllm"]: OpenAI completions, streamed
        "--endpoint", "/v1/completions",  # the default, given
        "--host", "127.0.0.1", "--port", "8000",
        "--model", MODEL, "--tokenizer", MODEL,
        "--dataset-name", "random",
        "--random-input-len", "1024", "--random-output-len", "512",  # range ratio: default 0.0, exact
        "--num-prompts", "640", "--max-concurrency", "64", "--request-rate", "inf",
        "--ignore-eos",
        "--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,90,99,99.9",
        "--disable-tqdm",
        "--save-result", "--result-dir", "/tmp/aim-catalog-bench-0123456789abcdef",
        "--result-filename", "result.json",
    ]  # fmt: skip
    assert options(argv) <= VLLM_OPTIONS - VLLM_0_11_0_LACKS  # no warm-up: runs on vLLM 0.11.0 too


def test_vllm_warmup_rate_and_remote_code() -> None:
    spec = PointSpec(
        concurrency=8,
        requests=80,
        input_len=128,
        output_len=64,
        max_duration=60.0,
        request_rate=2.5,
        warmup=16,
    )
    argv = command("vllm", spec, model=MODEL, port=8123, result_path=PATH, trust_remote_code=True)
    assert argv[argv.index("--request-rate") + 1] == "2.5"
    assert argv[argv.index("--num-warmups") + 1] == "16"
    assert argv[argv.index("--port") + 1] == "8123"
    assert "--trust-remote-code" in argv
    assert options(argv) <= VLLM_OPTIONS


def test_sglang_bench_serving() -> None:
    path = "/tmp/aim-catalog-bench-0123456789abcdef/result.jsonl"
    argv = command("sglang", SPEC, model=MODEL, port=30000, result_path=path, trust_remote_code=True)
    assert argv == [
        "python3", "-m", "sglang.bench_serving",  # 0.5.17: re-exports sglang.benchmark.serving
        "--backend", "sglang-oai",  # _BACKEND_API_PATHS: /v1/completions, streamed
        "--host", "127.0.0.1", "--port", "30000",
        "--model", MODEL, "--tokenizer", MODEL,  # the client always trusts remote code
        "--dataset-name", "random-ids",  # random token ids; "random" downloads ShareGPT
        "--random-input-len", "1024", "--random-output-len", "512",
        "--num-prompts", "640", "--max-concurrency", "64", "--request-rate", "inf",
        "--random-range-ratio", "1",  # compute_random_lens: [len * r, len]; default 0.0 varies them
        "--warmup-requests", "0",  # default 1
        "--disable-tqdm",
        "--output-file", path,  # EOS ignored unless --disable-ignore-eos
    ]  # fmt: skip
    assert options(argv) <= SGLANG_OPTIONS


def test_atom_benchmark_serving() -> None:
    argv = command("atom", SPEC, model=MODEL, port=8000, result_path=PATH)
    assert argv == [
        "python3", "-m", "atom.benchmarks.benchmark_serving",  # README, docs, .github/scripts/atom_test.sh
        "--backend", "vllm", "--endpoint", "/v1/completions",
        "--host", "127.0.0.1", "--port", "8000",
        "--model", MODEL, "--tokenizer", MODEL,
        "--dataset-name", "random",
        "--random-input-len", "1024", "--random-output-len", "512",
        "--num-prompts", "640", "--max-concurrency", "64", "--request-rate", "inf",
        "--random-range-ratio", "1",  # sample_uniform: [len * r, len]
        "--num-warmups", "0",  # default 1
        "--ignore-eos",
        "--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,90,99,99.9",
        "--disable-tqdm",
        "--save-result", "--result-dir", "/tmp/aim-catalog-bench-0123456789abcdef",
        "--result-filename", "result.json",
    ]  # fmt: skip
    assert options(argv) <= ATOM_OPTIONS


@pytest.mark.parametrize("backend", ["vllm", "sglang", "atom"])
def test_result_paths_are_fresh_directories_of_their_own(backend: str) -> None:
    one, two = result_path(backend), result_path(backend)
    assert one != two and one.startswith(image_client.SCRATCH_PREFIX)
    assert one.endswith(".jsonl" if backend == "sglang" else ".json")
    assert one.count("/") == 3  # /tmp/aim-catalog-bench-<hex>/result.json


def test_refusals_are_one_line_usage_errors() -> None:
    with pytest.raises(Unsupported, match=r"no benchmark client is known in 'trt' images .*--client builtin"):
        command("trt", SPEC, model=MODEL, port=8000, result_path=PATH)
    sharegpt = PointSpec(
        concurrency=1, requests=1, input_len=1, output_len=1, max_duration=1.0, dataset="sharegpt"
    )
    with pytest.raises(Unsupported, match=r"random dataset only .*--client builtin"):
        command("vllm", sharegpt, model=MODEL, port=8000, result_path=PATH)
    for bad in ("result.json", "/result.json", "/tmp/a/../b/result.json", "/tmp/dir/", "//tmp/d/r.json"):
        with pytest.raises(Unsupported, match="result path"):
            command("vllm", SPEC, model=MODEL, port=8000, result_path=bad)
    with pytest.raises(Unsupported, match="port"):
        command("vllm", SPEC, model=MODEL, port=0, result_path=PATH)
    with pytest.raises(Unsupported, match="no model"):
        command("vllm", SPEC, model="--model", port=8000, result_path=PATH)
    broken = PointSpec(concurrency=0, requests=1, input_len=1, output_len=1, max_duration=1.0)
    with pytest.raises(UsageProblem, match="concurrency must be from 1"):
        command("vllm", broken, model=MODEL, port=8000, result_path=PATH)
    with pytest.raises(Unsupported, match="no benchmark client"):
        result("trt", b"{}", SPEC, path="x")
    assert issubclass(Unsupported, UsageProblem) and Unsupported.exit_code == 2


def test_the_fake_servers_result_files_are_the_builders() -> None:
    """tests/fake_server's recorded results are what support.bench_results writes (regenerate
    them with ``python -m support.bench_results`` from tests/ when a builder changes)."""
    for name in FAKE_SERVER_RESULTS:
        assert (FAKE_SERVER / name).read_bytes() == fake_server_result(name), name
    assert set(FAKE_SERVER_RESULTS) <= {p.name for p in FAKE_SERVER.iterdir()}
    dockerfile = (FAKE_SERVER / "Dockerfile").read_text()
    assert all(name in dockerfile for name in FAKE_SERVER_RESULTS)


def expected_metrics(doc: dict, names: dict[str, str], stats: dict[str, str]) -> dict[str, float]:
    """The benchmarks columns a file's latency keys become (``{stat}_{name}_ms``)."""
    found = {}
    for column, name in names.items():
        for stat, suffix in stats.items():
            key = f"{stat}_{name}_ms"
            if key in doc:
                found[f"{column}_ms_{suffix}"] = doc[key]
    return found


VLLM_STATS = {"median": "p50", "p90": "p90", "p99": "p99", "p99.9": "p999", "mean": "mean"}
VLLM_NAMES = {"ttft": "ttft", "tpot": "tpot", "itl": "itl", "e2el": "e2el"}


def test_vllm_result() -> None:
    doc = vllm_bench_serve_0_27_1()
    data = fake_server_result("vllm-bench-serve-0.27.1.json")
    point = result("vllm", data, SPEC, path=PATH, image="vllm/vllm-openai-rocm:v0.27.1")
    assert point.spec is SPEC and point.client == "vllm bench serve 0.27.1"
    assert (point.completed, point.failed, point.duration_s) == (640, 0, 163.9)
    assert (point.input_len, point.output_len, point.interrupted) == (1024, 512, False)
    assert point.metrics == {
        "output_throughput": doc["output_throughput"],
        "total_token_throughput": doc["total_token_throughput"],
        "request_throughput": doc["request_throughput"],
        **expected_metrics(doc, VLLM_NAMES, VLLM_STATS),
    }
    assert len(point.metrics) == 3 + 4 * 5  # every column: p50, p90, p99, p99.9 and mean of four
    assert point.metrics["ttft_ms_p999"] == doc["p99.9_ttft_ms"] == 905.3


def test_sglang_result() -> None:
    doc = sglang_bench_serving_0_5_17()
    data = fake_server_result("sglang-bench-serving-0.5.17.jsonl")
    path = "/tmp/aim-catalog-bench-0123456789abcdef/result.jsonl"
    point = result("sglang", data, SPEC, path=path, image="lmsysorg/sglang:v0.5.12-rocm720-mi30x")
    assert point.client == "sglang.bench_serving 0.5.17"  # the file's server_info wins over the tag
    # No count of failures in the line: the asked requests less the completed ones.
    assert (point.completed, point.failed, point.duration_s) == (640, 0, 150.2)
    assert (point.input_len, point.output_len) == (1023, 512)  # what the prompts really had
    names = {"ttft": "ttft", "tpot": "tpot", "itl": "itl", "e2el": "e2e_latency"}
    assert point.metrics == {
        "output_throughput": doc["output_throughput"],
        "total_token_throughput": doc["total_throughput"],
        "request_throughput": doc["request_throughput"],
        **expected_metrics(doc, names, VLLM_STATS),
    }
    assert "ttft_ms_p999" not in point.metrics  # SGLang writes no p99.9
    fewer = PointSpec(concurrency=64, requests=650, input_len=1024, output_len=512, max_duration=900.0)
    assert result("sglang", data, fewer, path=path).failed == 10
    unnamed = dict(doc, server_info=None)
    line = (json.dumps(unnamed) + "\n").encode()
    assert result("sglang", line, SPEC, path=path).client == "sglang.bench_serving"
    tagged = result("sglang", line, SPEC, path=path, image="lmsysorg/sglang:v0.5.12-rocm720-mi30x")
    assert tagged.client == "sglang.bench_serving 0.5.12"


def test_atom_result() -> None:
    doc = atom_benchmark_serving_0_1_4()
    data = fake_server_result("atom-benchmark-serving-0.1.4.json")
    image = "rocm/atom:rocm7.2.4_ubuntu24.04_py3.12_pytorch_release_2.10.0_atom0.1.4_202607091539"
    point = result("atom", data, SPEC, path=PATH, image=image)
    assert point.client == "atom.benchmarks.benchmark_serving 0.1.4"
    assert (point.completed, point.failed, point.duration_s) == (638, 2, 158.4)  # num_prompts - completed
    assert (point.input_len, point.output_len) == (1024, 512)
    assert point.metrics == {
        "output_throughput": doc["output_throughput"],
        "total_token_throughput": doc["total_token_throughput"],
        "request_throughput": doc["request_throughput"],
        **expected_metrics(doc, VLLM_NAMES, VLLM_STATS),
    }


def test_unreadable_results_are_one_line_errors() -> None:
    line = fake_server_result("sglang-bench-serving-0.5.17.jsonl")
    cases = {
        b"": "empty file",
        b"{not json": "invalid or truncated JSON",
        b'{"hello": 1}': "not a",
        line + line: "wrote 2 runs",  # an --output-file that was not fresh
        json.dumps(vllm_bench_serve_0_27_1(completed=0)).encode(): "no request completed",
        json.dumps(vllm_bench_serve_0_27_1(ramp_up_strategy="linear")).encode(): "ramp-up",
        json.dumps(vllm_bench_serve_0_27_1(duration=None)).encode(): "no duration",
    }
    for data, message in cases.items():
        with pytest.raises(UnreadableResult, match=message) as caught:
            result("vllm", data, SPEC, path=PATH)
        assert "\n" not in str(caught.value) and isinstance(caught.value, CatalogError)


@pytest.mark.parametrize(
    ("backend", "image", "version"),
    [
        ("vllm", "vllm/vllm-openai-rocm:v0.27.1", "0.27.1"),
        ("vllm", "rocm/vllm:rocm7.0.0_vllm_0.11.1_20251103", "0.11.1"),
        ("vllm", "rocm/7.0:rocm7.0_ubuntu_22.04_vllm_0.10.1_instinct_20250927_rc1", "0.10.1"),
        ("vllm", "vllm/vllm-openai-rocm:nightly-09663abde0f50944a8d5ea30120666024b503faa", None),
        ("vllm", "registry.local:5000/vllm/vllm-openai-rocm:v0.24.0", "0.24.0"),
        ("vllm", "vllm/vllm-openai-rocm@sha256:" + "0" * 64, None),
        ("sglang", "lmsysorg/sglang:v0.5.12-rocm720-mi30x", "0.5.12"),
        ("sglang", "lmsysorg/sglang-rocm:v0.5.12.post1-rocm720-mi35x-20260529", "0.5.12.post1"),
        (
            "atom",
            "rocm/atom:rocm7.2.2_ubuntu24.04_py3.12_pytorch_release_2.10.0_atom0.1.2.post",
            "0.1.2.post",
        ),
        ("atom", "rocm/atom:rocm7.2.3_ubuntu24.04_py3.12_pytorch_release_2.10.0_atom20260511", None),
        ("atom", "rocm/atom-dev:nightly_202607011530", None),
    ],
)
def test_image_versions(backend: str, image: str, version: str | None) -> None:
    assert image_version(backend, image) == version
