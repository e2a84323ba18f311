"""A synthetic recipe catalog for the benchmarks, in the recipe format of DESIGN section 3.

Every recipe file holds exactly ``CONFIGS_PER_FILE`` = 8 serve configs (vllm and sglang, at
1, 2, 4 and 8 GPUs) with ``BENCH_ROWS`` = 3 benchmark rows each (a few configs are
disabled, a few have no benchmark, some rows carry only ``total_token_throughput``), so a
catalog of N serve configs is N / 8 files. Each model has ``RECIPES_PER_MODEL`` = 20
recipes (4 hardware kinds x 5 precisions), so a model's share of the catalog is the same
at every size and only the number of models grows.

The content of recipe number ``i`` depends on ``i`` alone: the catalog of 1,000 configs is
the first 125 files of the catalog of 100,000.

``sweep=N`` (``--sweep N``) gives every measured config a concurrency sweep instead: N rows
at one scenario (the recipe's), at concurrency 1, 4, 16, 64, ... as ``bench run`` writes
them (throughputs and TTFT/TPOT/ITL/E2EL percentiles), so curves and SLOs have something to
read. ``pg_fleet.py`` builds its 1M-config PostgreSQL catalog from such a catalog.

Standalone: ``python benchmarks/catalog_gen.py DIR --configs 80000`` writes a catalog.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

HARDWARE = ("MI300X", "MI325X", "MI355X", "MI250X")
PRECISIONS = ("bf16", "fp16", "fp8", "int8", "int4")
BACKENDS = ("vllm", "sglang")
GPU_COUNTS = (1, 2, 4, 8)
CONFIGS_PER_FILE = len(BACKENDS) * len(GPU_COUNTS)
RECIPES_PER_MODEL = len(HARDWARE) * len(PRECISIONS)
BENCH_ROWS = 3
SCENARIOS = ((128, 2048), (2048, 128), (1024, 1024))  # (input_len, output_len), one per row

_ORGS = ("meta-llama", "Qwen", "mistralai", "amd", "deepseek-ai", "google")
_PARAMS = (7, 8, 14, 32, 70, 405)
_DTYPE = {"bf16": "bfloat16", "fp16": "float16", "fp8": "auto", "int8": "auto", "int4": "auto"}
_IMAGE = {
    "vllm": "rocm/vllm:rocm7.0.0_vllm_0.11.1_20251103",
    "sglang": "lmsysorg/sglang:v0.5.5-rocm700-mi30x",
}
_SOURCE = '"synthetic: benchmarks/catalog_gen.py"'


def files_for(configs: int) -> int:
    if configs <= 0 or configs % CONFIGS_PER_FILE:
        raise ValueError(f"a size is a positive multiple of {CONFIGS_PER_FILE} serve configs, got {configs}")
    return configs // CONFIGS_PER_FILE


def model_id(model: int) -> str:
    return f"{_ORGS[model % len(_ORGS)]}/Synth-{model:05d}-{_PARAMS[model % len(_PARAMS)]}B-Instruct"


def recipe_fields(i: int) -> tuple[int, str, str]:
    """(model number, hardware, precision) of recipe number ``i``; unique per recipe."""
    return (
        i // RECIPES_PER_MODEL,
        HARDWARE[i % len(HARDWARE)],
        PRECISIONS[(i // len(HARDWARE)) % len(PRECISIONS)],
    )


def sweep_rows(rng: random.Random, gpus: int, input_len: int, output_len: int, points: int) -> list[str]:
    """A config's concurrency sweep at one scenario, as flow mappings: throughput grows with
    concurrency and saturates, per-user latency grows with it (what a bench run measures)."""
    peak = rng.uniform(300.0, 6000.0) * gpus  # output tokens/s at saturation
    half = rng.uniform(8.0, 64.0)  # the concurrency at half the peak
    ttft_base = rng.uniform(20.0, 200.0) * input_len / 1024
    rows = []
    for point in range(points):
        concurrency = 4**point
        output = peak * concurrency / (concurrency + half)
        tpot = 1000.0 * concurrency / output
        ttft = ttft_base * (1 + concurrency / 16)
        tail = rng.uniform(1.2, 2.0)  # p99 over p50
        e2el = ttft + tpot * output_len
        row = (
            f"input_len: {input_len}, output_len: {output_len}, concurrency: {concurrency}, "
            f"output_throughput: {output:.1f}, "
            f"total_token_throughput: {output * (input_len + output_len) / output_len:.1f}, "
            f"request_throughput: {output / output_len:.3f}, "
            f"ttft_ms_p50: {ttft:.1f}, ttft_ms_p99: {ttft * tail:.1f}, "
            f"tpot_ms_p50: {tpot:.2f}, tpot_ms_p99: {tpot * tail:.2f}, "
            f"itl_ms_p50: {tpot:.2f}, itl_ms_p99: {tpot * tail * 1.1:.2f}, "
            f"e2el_ms_p50: {e2el:.1f}, e2el_ms_p99: {e2el * tail:.1f}, "
            f"source: {_SOURCE}"
        )
        rows.append(f"      - {{{row}}}")
    return rows


def recipe_text(i: int, sweep: int | None = None) -> str:
    """The YAML text of recipe number ``i`` (block style like the original AIM Engine files);
    with ``sweep``, each measured config carries that many rows of a concurrency sweep."""
    rng = random.Random(i)
    model_no, hardware, precision = recipe_fields(i)
    model = model_id(model_no)
    recipe_id = f"synth-{model_no:05d}-{hardware.lower()}-{precision}"
    scenario = SCENARIOS[i % len(SCENARIOS)]  # a sweep's one scenario
    out = [
        f"recipe_id: {recipe_id}",
        f"model_id: {model}",
        f"huggingface_id: {model}",
        f"hardware: {hardware}",
        f"precision: {precision}",
    ]
    for backend in BACKENDS:
        out.append(f"{backend}_serve:")
        tp_flag = "--tensor-parallel-size" if backend == "vllm" else "--tp"
        for gpus in GPU_COUNTS:
            out += [
                f'  "{gpus}_gpu":',
                f"    enabled: {'false' if rng.random() < 0.1 else 'true'}",
                f'    image: "{_IMAGE[backend]}"',
                "    args:",
                f'      --model: "{model}"',
                f'      --dtype: "{_DTYPE[precision]}"',
                f'      {tp_flag}: "{gpus}"',
                f'      --max-num-batched-tokens: "{8192 * gpus}"',
                '      --max-model-len: "32768"',
                '      --gpu-memory-utilization: "0.9"',
                '      --trust-remote-code: "true"',
                '    env: {VLLM_ROCM_USE_AITER: "1", HIP_FORCE_DEV_KERNARG: "1"}',
            ]
            if rng.random() < 0.05:  # a config nobody has measured yet
                continue
            out.append("    benchmarks:")
            if sweep:
                out += sweep_rows(rng, gpus, *scenario, sweep)
                continue
            for input_len, output_len in SCENARIOS[:BENCH_ROWS]:
                total = round(rng.uniform(500.0, 20000.0) * gpus, 1)
                row = (
                    f"input_len: {input_len}, output_len: {output_len}, "
                    f"concurrency: {rng.choice((16, 64, 256))}, "
                )
                if rng.random() < 0.2:  # a published offline figure: total throughput only
                    row += f"total_token_throughput: {total}, "
                else:
                    output = round(total * output_len / (input_len + output_len), 1)
                    row += (
                        f"output_throughput: {output}, total_token_throughput: {total}, "
                        f"ttft_ms_p50: {round(rng.uniform(20.0, 900.0), 1)}, "
                    )
                row += f"source: {_SOURCE}"
                out.append(f"      - {{{row}}}")
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class CatalogInfo:
    directory: Path
    configs: int
    files: int
    models: int
    benchmark_rows_max: int
    bytes: int


def write_catalog(directory: Path, configs: int, sweep: int | None = None) -> CatalogInfo:
    """Write the catalog of ``configs`` serve configs into ``directory`` (reused when complete);
    ``sweep``: each measured config carries a concurrency sweep of that many rows."""
    files = files_for(configs)
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / ".complete"
    done = f"{files}" if not sweep else f"{files} sweep {sweep}"
    total = 0
    if marker.exists() and marker.read_text().strip() == done:
        total = sum(p.stat().st_size for p in directory.glob("*.yaml"))
    else:
        for i in range(files):
            data = recipe_text(i, sweep).encode()
            (directory / f"recipe-{i:06d}.yaml").write_bytes(data)
            total += len(data)
        marker.write_text(f"{done}\n")  # hidden: the recipe loaders skip dot files
    return CatalogInfo(
        directory=directory,
        configs=configs,
        files=files,
        models=-(-files // RECIPES_PER_MODEL),
        benchmark_rows_max=configs * (sweep or BENCH_ROWS),
        bytes=total,
    )


@dataclass(frozen=True)
class RequestSpec:
    model: str
    gpus: int
    precision: str
    backend: str  # vllm | sglang | any
    hardware: str | None


def request_specs(
    files: int, count: int, seed: int = 1, backends: tuple[str, ...] = (*BACKENDS, "any")
) -> list[RequestSpec]:
    """``count`` varied selection requests over the models that have all their 20 recipes."""
    rng = random.Random(seed)
    full_models = max(1, files // RECIPES_PER_MODEL)
    specs = []
    for _ in range(count):
        specs.append(
            RequestSpec(
                model=model_id(rng.randrange(full_models)),
                gpus=rng.choice(GPU_COUNTS),
                precision=rng.choice(PRECISIONS),
                backend=rng.choice(backends),
                hardware=rng.choice((None, None, None, *HARDWARE)),
            )
        )
    return specs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--configs", type=int, default=80_000, help="serve configs (8 per file)")
    parser.add_argument(
        "--sweep", type=int, metavar="N", help="a concurrency sweep of N rows per config (one scenario)"
    )
    args = parser.parse_args()
    info = write_catalog(args.directory, args.configs, args.sweep)
    print(f"{info.files} files, {info.configs} serve configs, {info.models} models, {info.bytes} bytes")


if __name__ == "__main__":
    main()
