"""``bench run --client image``: the command line of the backend's own benchmark client, run
inside the launched container against its server on 127.0.0.1, and its result file read
through ``measurements.importers``. No I/O here: ``launch.targets.docker.bench_exec`` runs
the command and copies the file out. Imports ``operating.bench.point``, ``measurements``
(inside ``result``) and the floor; never the docker SDK.

Every option is the tool's own, read from its source at the version named:

- vLLM, ``vllm bench serve``: ``vllm/benchmarks/serve.py`` (``add_cli_args``, ``main_async``)
  and ``vllm/benchmarks/datasets.py`` (0.11.0) or ``vllm/benchmarks/datasets/datasets.py``
  (0.27.1, ``add_dataset_parser``), of the PyPI wheels vllm==0.11.0 and vllm==0.27.1 (the
  default image ``vllm/vllm-openai-rocm:v0.27.1``), and vllm-project/vllm commit 009e6d4a.
  ``--backend vllm`` (``ASYNC_REQUEST_FUNCS["vllm"]``: OpenAI completions, streamed) with
  ``--endpoint /v1/completions``; ``--host``/``--port``; ``--model`` and ``--tokenizer``;
  ``--dataset-name random``, ``--random-input-len``, ``--random-output-len`` (no
  ``--random-range-ratio``: its default, 0.0 in all three, samples the lengths
  ``[len * (1 - r), len * (1 + r)]``, so exact lengths); ``--num-prompts``,
  ``--max-concurrency``, ``--request-rate`` (``inf``: all at once); ``--ignore-eos`` (given:
  0.11.0 sets ignore_eos only when asked; 0.27.1 sets it itself for random datasets);
  ``--percentile-metrics ttft,tpot,itl,e2el`` and ``--metric-percentiles 50,90,99,99.9``
  (written ``p{N}_{metric}_ms``); ``--disable-tqdm``; ``--num-warmups`` only for a warm-up:
  0.27.1 and 009e6d4a have it, 0.11.0 does not (it sends one unmeasured test prompt first,
  as the later ones still do) and refuses the option; ``--trust-remote-code`` (the tokenizer's);
  ``--save-result``, ``--result-dir`` (``os.makedirs``), ``--result-filename``.
- SGLang, ``python3 -m sglang.bench_serving``: ``python/sglang/bench_serving.py`` of the PyPI
  wheel sglang==0.5.12, and in sglang==0.5.17 (the default gfx950 image) the module that
  file now re-exports, ``sglang/benchmark/serving.py`` (``cli_main``, ``run_benchmark``).
  ``--backend sglang-oai`` (``/v1/completions``, streamed, as vLLM's client asks);
  ``--host``/``--port``; ``--model``, ``--tokenizer`` (else the client asks ``/model_info``;
  SGLang's client always trusts remote code); ``--dataset-name random-ids`` (random token
  ids, as vLLM's random dataset: ``random`` samples ShareGPT text and downloads ShareGPT
  from the Hugging Face hub); ``--random-input-len``, ``--random-output-len`` and
  ``--random-range-ratio 1`` (``compute_random_lens`` draws from ``[len * r, len]``; the
  default 0.0 would vary them); ``--num-prompts``, ``--max-concurrency``,
  ``--request-rate``; ``--warmup-requests`` (default 1, so always given); ``--disable-tqdm``;
  ``--output-file`` (JSONL, appended). EOS is ignored unless ``--disable-ignore-eos``.
- ATOM, ``python3 -m atom.benchmarks.benchmark_serving``: ROCm/ATOM tag v0.1.4 (the default
  image ``rocm/atom:...atom0.1.4...``; v0.1.2 has the same options),
  ``atom/benchmarks/benchmark_serving.py``, vLLM's older client adapted: the client
  ROCm/ATOM's README, ``docs/serving_benchmarking_guide.md`` and its CI
  (``.github/scripts/atom_test.sh``, run with ``docker exec`` in the image) use; the image
  installs the checkout (``docker/Dockerfile``: ``pip install -e .``), so it carries it.
  Options as vLLM's above, except ``--random-range-ratio 1`` (``sample_uniform`` draws from
  ``[len * r, len]``, default 1.0, given for clarity), ``--num-warmups`` always (default 1)
  and ``--result-dir`` must exist (no ``makedirs``: ``bench_exec`` makes it).

Result files: vLLM's ``--save-result`` JSON, SGLang's JSONL line and ATOM's vLLM-shaped JSON,
read by ``measurements.importers`` (its ``vllm`` and ``sglang`` readers).
"""

from __future__ import annotations

import posixpath
import re
import secrets
from typing import Any

from aim_catalog import arguments
from aim_catalog.errors import CatalogError, UsageProblem, redact, shown
from aim_catalog.operating.bench.point import PointResult, PointSpec
from aim_catalog.settings import MAX_SQL_INT

# Each backend's client: its name in PointResult.client, the argv that starts it, and the
# file name of its result (JSON, or SGLang's JSONL).
CLIENTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "vllm": ("vllm bench serve", ("vllm", "bench", "serve"), "result.json"),
    "sglang": ("sglang.bench_serving", ("python3", "-m", "sglang.bench_serving"), "result.jsonl"),
    "atom": (
        "atom.benchmarks.benchmark_serving",
        ("python3", "-m", "atom.benchmarks.benchmark_serving"),
        "result.json",
    ),
}
HOST = "127.0.0.1"  # the server listens on 0.0.0.0 inside the container (launch --host)
PERCENTILE_METRICS = "ttft,tpot,itl,e2el"
METRIC_PERCENTILES = "50,90,99,99.9"  # the benchmarks columns' p50, p90, p99, p999
SCRATCH_PREFIX = "/tmp/aim-catalog-bench-"  # bench_exec makes the directory and removes it
# A release in an image tag: vllm/vllm-openai-rocm:v0.27.1, lmsysorg/sglang:v0.5.12-rocm720-mi30x,
# rocm/vllm:rocm7.0.0_vllm_0.11.1_20251103, rocm/atom:..._atom0.1.4_202607091539.
_VERSION = r"(\d+\.\d+\.\d+(?:\.post\d*|\.\d+)?)"


class Unsupported(UsageProblem):
    """``--client image`` asked of a backend (or a dataset) whose image client cannot run it."""


class UnreadableResult(CatalogError):
    """The client's result file is not one run the importers can read."""


def backends() -> tuple[str, ...]:
    """The backends whose images carry a benchmark client."""
    return tuple(CLIENTS)


def result_path(backend: str) -> str:
    """A fresh path for the client's result, in a directory of its own that does not exist
    yet (``bench_exec.exec_and_fetch`` makes it, runs the client in it, removes it)."""
    _, _, name = _client(backend)
    return f"{SCRATCH_PREFIX}{secrets.token_hex(8)}/{name}"


def command(
    backend: str,
    spec: PointSpec,
    *,
    model: str,
    port: int,
    result_path: str,
    trust_remote_code: bool = False,
) -> list[str]:
    """The argv of ``backend``'s benchmark client inside its container: ``spec`` against the
    server on 127.0.0.1:``port`` serving ``model`` (also the tokenizer: the served model, in
    the mounted Hugging Face cache), its result written to ``result_path``.

    ``trust_remote_code``: the tokenizer needs it (the serve config passes
    ``--trust-remote-code``); SGLang's client always trusts. ``Unsupported`` for a backend
    without a client or a dataset other than random.

    Example: ``command("vllm", PointSpec(concurrency=64, requests=640, input_len=1024,
    output_len=512, max_duration=600), model="Qwen/Qwen3-32B", port=8000,
    result_path=result_path("vllm"))`` is ``["vllm", "bench", "serve", "--backend", "vllm",
    ...]``.
    """
    _, start, _ = _client(backend)
    _check(spec)
    if spec.dataset != "random":
        raise Unsupported(
            f"--client image runs the random dataset only (asked: {spec.dataset}); "
            "use --client builtin for a ShareGPT file"
        )
    if not isinstance(model, str) or not model.strip() or model.startswith("-"):
        raise Unsupported(f"no model to benchmark (got {shown(model)})")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise Unsupported(f"port must be from 1 to 65535, got {shown(port)}")
    folder, name = _split(result_path)
    rate = "inf" if spec.request_rate is None else repr(float(spec.request_rate))
    common = [
        "--host", HOST, "--port", str(port),
        "--model", model, "--tokenizer", model,
    ]  # fmt: skip
    load = [
        "--random-input-len", str(spec.input_len), "--random-output-len", str(spec.output_len),
        "--num-prompts", str(spec.requests), "--max-concurrency", str(spec.concurrency),
        "--request-rate", rate,
    ]  # fmt: skip
    trust = ["--trust-remote-code"] if trust_remote_code else []
    if backend == "sglang":
        return [
            *start, "--backend", "sglang-oai", *common,
            "--dataset-name", "random-ids", *load, "--random-range-ratio", "1",
            "--warmup-requests", str(spec.warmup), "--disable-tqdm", "--output-file", result_path,
        ]  # fmt: skip
    vllm_like = [
        *start, "--backend", "vllm", "--endpoint", "/v1/completions", *common,
        "--dataset-name", "random", *load,
    ]  # fmt: skip
    if backend == "atom":
        vllm_like += ["--random-range-ratio", "1", "--num-warmups", str(spec.warmup)]
    elif spec.warmup:
        vllm_like += ["--num-warmups", str(spec.warmup)]
    return [
        *vllm_like, "--ignore-eos",
        "--percentile-metrics", PERCENTILE_METRICS, "--metric-percentiles", METRIC_PERCENTILES,
        "--disable-tqdm", *trust,
        "--save-result", "--result-dir", folder, "--result-filename", name,
    ]  # fmt: skip


def result(backend: str, data: bytes, spec: PointSpec, *, path: str, image: str | None = None) -> PointResult:
    """The point measured: ``data`` is the client's result file (``path``, for messages),
    read by ``measurements.importers``; its figures are the ``benchmarks`` columns the file
    has (throughputs; ttft/tpot/itl/e2el at p50, p90, p99, p99.9 and mean where written).
    ``client`` names the tool and its version: from the file where it says (SGLang's
    ``server_info.version``), else from the release in ``image``'s tag."""
    from aim_catalog.measurements.importers import parse_results
    from aim_catalog.measurements.importers.common import split_objects
    from aim_catalog.settings import METRIC_FIELDS

    tool, _, _ = _client(backend)
    parsed = parse_results(data, path)
    trouble = parsed.problems or parsed.skipped
    if trouble:
        raise UnreadableResult(redact(f"{tool} wrote a result that cannot be read: {trouble[0]}"))
    if len(parsed.runs) != 1:
        raise UnreadableResult(f"{tool} wrote {len(parsed.runs)} runs to {path}; one was expected")
    (run,) = parsed.runs
    objects, _ = split_objects(data.decode("utf-8").removeprefix("\ufeff"), path)
    obj: dict[str, Any] = objects[-1][1]
    row = run.row
    completed = obj.get("completed")
    if isinstance(completed, bool) or not isinstance(completed, int):
        raise UnreadableResult(f"{tool} wrote no count of completed requests to {path}")
    failed = row.get("failed")
    if failed is None:  # SGLang's lines and ATOM's files do not count them: asked - completed
        failed = max(spec.requests - completed, 0)
    duration = obj.get("duration")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration >= 0:
        raise UnreadableResult(f"{tool} wrote no duration to {path}")
    return PointResult(
        spec=spec,
        client=client_name(backend, obj, image),
        completed=completed,
        failed=int(failed),
        duration_s=float(duration),
        input_len=row.get("input_len"),
        output_len=row.get("output_len"),
        metrics={k: float(row[k]) for k in METRIC_FIELDS if row.get(k) is not None},
    )


def client_name(backend: str, obj: dict[str, Any], image: str | None) -> str:
    """``"vllm bench serve 0.27.1"``: the tool, and its release as the file or the image says."""
    tool, _, _ = _client(backend)
    server = obj.get("server_info")
    said = server.get("version") if isinstance(server, dict) else None
    if isinstance(said, str) and re.fullmatch(r"[0-9A-Za-z.+_-]{1,40}", said):
        return f"{tool} {said}"
    found = image_version(backend, image) if image else None
    return f"{tool} {found}" if found else tool


def image_version(backend: str, image: str) -> str | None:
    """The backend's release in an image's tag (the conventions of ``backends/data/images.json``
    and the bundled recipes), or None (a nightly, a digest, a custom tag)."""
    tag = image.rsplit("/", 1)[-1].partition("@")[0].partition(":")[2]
    named = re.search(rf"{re.escape(backend)}[_-]?v?{_VERSION}(?![0-9])", tag)
    if named:
        return named.group(1)
    leading = re.match(rf"v?{_VERSION}(?:[-_]|$)", tag)
    return leading.group(1) if leading else None


def _client(backend: str) -> tuple[str, tuple[str, ...], str]:
    try:
        return CLIENTS[backend]
    except KeyError:
        known = ", ".join(CLIENTS)
        raise Unsupported(
            f"--client image: no benchmark client is known in {shown(backend)} images "
            f"(known: {known}); use --client builtin"
        ) from None


def _check(spec: PointSpec) -> None:
    """The spec's numbers as the clients' options take them (a PointSpec is not checked)."""
    for name in ("concurrency", "requests", "input_len", "output_len"):
        arguments.integer(getattr(spec, name), name, low=1, high=MAX_SQL_INT, optional=False)
    arguments.integer(spec.warmup, "warmup", low=0, high=MAX_SQL_INT, optional=False)
    arguments.real(spec.request_rate, "request_rate", low=0, above=True)


def _split(path: str) -> tuple[str, str]:
    """``(directory, file name)`` of an absolute result path below a directory of its own."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        raise Unsupported(f"result path must be an absolute, normal file path, got {shown(path)}")
    if posixpath.normpath(path) != path:
        raise Unsupported(f"result path must be an absolute, normal file path, got {shown(path)}")
    folder, name = posixpath.split(path)
    if not name or folder == "/":
        raise Unsupported(f"result path must name a file below a directory of its own, got {shown(path)}")
    return folder, name
