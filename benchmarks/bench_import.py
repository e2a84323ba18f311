"""`bench import` of large InferenceX result files, next to the floor it cannot beat.

The file is generated in the shape of InferenceX's ``agg_bmk.json`` (``utils/process_result.py``
rows merged into one indented array by ``utils/collect_results.py``, SemiAnalysisAI/InferenceX
at commit 843c6254): every key of a real single-node row, in the writer's order, with numbers
varied per row so that no two rows are alike. The rows are DeepSeek-R1-0528 FP8 SGLang TP8
runs on MI355X, which the bundled catalog's ``deepseek-r1-0528-mi355x-fp8`` recipe holds.

Rows timed (each the median of --repeat runs, rows/s beside it):

- ``floor: json.loads``: parsing the file's bytes, nothing else;
- ``parse_results``: reading the runs out of it (every check, line numbers, bounds);
- ``import --dry-run, in-process``: ``Catalog.import_benchmarks(files, dry_run=True)`` on a
  SQLite catalog holding the bundled recipes (parse, then resolve every run's serve config).

Example: python benchmarks/bench_import.py --rows 8000,40000,380000 --repeat 3
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
from aim_catalog.measurements.importers import parse_results

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


def write_file(path: Path, rows: int) -> int:
    """The ``agg_bmk.json`` of ``rows`` runs (indented, as collect_results.py writes it); its size."""
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


def measure(work: Path, rows: int, repeat: int, catalog: Catalog, profile: Path | None) -> None:
    path = work / f"agg_bmk_{rows}.json"
    size = write_file(path, rows)
    data = path.read_bytes()
    floor = timed(lambda: json.loads(data), repeat)
    parse = timed(lambda: parse_results(data, str(path)), repeat)
    dry = timed(lambda: catalog.import_benchmarks([path], dry_run=True), repeat)
    print(f"== {rows:,} rows, {size / 2**20:.1f} MiB ==")
    for label, seconds in (
        ("floor: json.loads", floor),
        ("parse_results", parse),
        ("import --dry-run, in-process", dry),
    ):
        ratio = f"{seconds / floor:6.2f}x json.loads"
        print(f"  {label:32} {seconds:8.2f} s  {rows / seconds:>10,.0f} rows/s  {ratio}")
    if profile is not None:
        cProfile.runctx("catalog.import_benchmarks([path], dry_run=True)", globals(), locals(), str(profile))
        print(f"  profile of the dry run: {profile} (python -m pstats {profile})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="8000,40000", help="comma-separated row counts")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the largest dry run here")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.rows.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with Catalog.open(f"sqlite:///{work / 'catalog.db'}", create=True) as catalog:
            catalog.ingest([REPO / "seed_recipes"])
            for rows in sizes:
                last = rows == sizes[-1]
                measure(work, rows, args.repeat, catalog, args.profile if last else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
