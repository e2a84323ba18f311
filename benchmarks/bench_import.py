"""`bench import` of large InferenceX result files, next to the floor it cannot beat.

The file is generated in the shape of InferenceX's ``agg_bmk.json`` (``utils/process_result.py``
rows merged into one indented array by ``utils/collect_results.py``, SemiAnalysisAI/InferenceX
at commit 843c6254): every key of a real single-node row, in the writer's order, with numbers
varied per row so that no two rows are alike. The rows are DeepSeek-R1-0528 FP8 SGLang TP8
runs on MI355X, which the bundled catalog's ``deepseek-r1-0528-mi355x-fp8`` recipe holds.

``--shape minimal`` writes only the keys the importer needs (no indent, ~170 bytes a row),
so that 380k rows fit the 64 MiB a result file may have (the size of issue 18, point 9);
full rows (~1.4 KB) reach it at ~47k.

Rows timed (each the median of --repeat runs, rows/s beside it):

- ``floor: json.loads``: parsing the file's bytes, nothing else;
- ``parse_results``: reading the runs out of it (every check, line numbers, bounds);
- ``import --dry-run, in-process``: ``Catalog.import_benchmarks(files, dry_run=True)`` on a
  SQLite catalog holding the bundled recipes (parse, resolve every run's serve config,
  write the rows in a transaction that is rolled back);
- ``import, written`` and ``again: all present``: the import committed into a fresh
  catalog, then the same file again (every run found already there, nothing written).

Example: python benchmarks/bench_import.py --rows 8000,40000 --repeat 3
         python benchmarks/bench_import.py --shape minimal --rows 100000,380000
         python benchmarks/bench_import.py --rows 40000 --profile /tmp/import.prof
"""

from __future__ import annotations

import argparse
import cProfile
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aim_catalog import Catalog
from aim_catalog.measurements.importers import MAX_RESULT_BYTES, parse_results

REPO = Path(__file__).resolve().parent.parent


def inferencex_row(i: int) -> dict[str, Any]:
    """Row ``i`` of the file: a real row's keys and order (843c6254), numbers varied by ``i``."""
    conc = 4 << (i % 8)
    total = 1000.0 + (i % 9973) * 0.37
    row: dict[str, Any] = {
        "hw": "mi355x",
        "conc": conc,
        "image": f"lmsysorg/sglang:v0.5.{i % 97}-rocm700-mi35x",
        "model": "deepseek-ai/DeepSeek-R1-0528",
        "infmax_model_prefix": "dsr1",
        "framework": "sglang",
        "precision": "fp8",
        "spec_decoding": "none",
        "disagg": False,
        "recipe_fingerprint": f"{i:016x}",
        "isl": 8192,
        "osl": 1024,
        "is_multinode": False,
        "tp": 8,
        "pp": 1,
        "dcp_size": 1,
        "pcp_size": 1,
        "ep": 1,
        "dp_attention": "false",
        "tput_per_gpu": total,
        "output_tput_per_gpu": total / 9,
        "input_tput_per_gpu": total * 8 / 9,
    }
    for metric, seconds in (("ttft", 0.25), ("tpot", 0.008), ("itl", 0.0079), ("e2el", 8.4)):
        for stat, factor in (("mean", 1.0), ("median", 0.95), ("std", 0.1), ("p90", 1.5), ("p99", 2.0)):
            value = seconds * factor * (1 + (i % 101) / 1000)
            row[f"{stat}_{metric}"] = value
            if metric == "tpot":
                row[f"{stat}_intvty"] = 1 / value
    return row


MINIMAL = (
    "hw",
    "conc",
    "model",
    "framework",
    "precision",
    "spec_decoding",
    "isl",
    "osl",
    "tp",
    "tput_per_gpu",
)


def write_file(path: Path, rows: int, shape: str) -> int:
    """The ``agg_bmk.json`` of ``rows`` runs (full: indented, as collect_results.py writes
    it; minimal: the keys the importer needs, compact); its size."""
    if shape == "minimal":
        docs = [{k: row[k] for k in MINIMAL} for row in map(inferencex_row, range(rows))]
        text = json.dumps(docs, separators=(",", ":"))
    else:
        text = json.dumps([inferencex_row(i) for i in range(rows)], indent=2)
    path.write_text(text)
    return len(text.encode())


def timed(fn: Callable[[], Any], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def measure(work: Path, rows: int, shape: str, repeat: int, profile: Path | None) -> None:
    path = work / f"agg_bmk_{rows}.json"
    size = write_file(path, rows, shape)
    print(f"== {rows:,} rows ({shape}), {size / 2**20:.1f} MiB ==", flush=True)
    if size > MAX_RESULT_BYTES:
        print(f"  over the {MAX_RESULT_BYTES >> 20} MiB a result file may have: not measured")
        return
    data = path.read_bytes()
    with Catalog.open(f"sqlite:///{work / f'catalog_{rows}.db'}", create=True) as catalog:
        catalog.ingest([REPO / "seed_recipes"])
        floor = timed(lambda: json.loads(data), repeat)
        times = [
            ("floor: json.loads", floor),
            ("parse_results", timed(lambda: parse_results(data, str(path)), repeat)),
            (
                "import --dry-run, in-process",
                timed(lambda: catalog.import_benchmarks([path], dry_run=True), repeat),
            ),
            ("import, written", timed(lambda: catalog.import_benchmarks([path]), 1)),
            ("again: all present", timed(lambda: catalog.import_benchmarks([path]), 1)),
        ]
        for label, seconds in times:
            ratio = f"{seconds / floor:6.2f}x json.loads"
            print(f"  {label:32} {seconds:8.2f} s  {rows / seconds:>10,.0f} rows/s  {ratio}", flush=True)
        if profile is not None:
            cProfile.runctx(
                "catalog.import_benchmarks([path], dry_run=True)", globals(), locals(), str(profile)
            )
            print(f"  profile of the dry run: {profile} (python -m pstats {profile})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="8000,40000", help="comma-separated row counts")
    parser.add_argument(
        "--shape", choices=("full", "minimal"), default="full", help="keys per row (see above)"
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the largest dry run here")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.rows.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            last = rows == sizes[-1]
            measure(Path(tmp), rows, args.shape, args.repeat, args.profile if last else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
