"""`bench import` of large InferenceX result files, next to the floor it cannot beat.

The file is generated in the shape of InferenceX's ``agg_bmk.json`` (``utils/process_result.py``
rows merged into one indented array by ``utils/collect_results.py``, SemiAnalysisAI/InferenceX
at commit 843c6254): every key of a real single-node row, in the writer's order, with numbers
varied per row so that no two rows are alike. The rows are DeepSeek-R1-0528 FP8 SGLang TP8
runs on MI355X, which the bundled catalog's ``deepseek-r1-0528-mi355x-fp8`` recipe holds.

``--shape minimal`` writes only the keys the importer needs (no indent, ~170 bytes a row),
so that 380k rows fit the 64 MiB a result file may have (the size of issue 18, point 9);
full rows (~1.4 KB) reach it at ~47k.

Rows timed (each the median of --repeat rounds, which time every row in turn; rows/s beside it):

- ``floor: json.loads``: parsing the file's bytes, nothing else;
- ``parse_results``: reading the runs out of it as an import reads them (``columns=True``:
  every check and bound; runs read column by column kept as columns);
- ``import --dry-run, in-process``: ``Catalog.import_benchmarks(files, dry_run=True)`` on a
  SQLite catalog holding the bundled recipes (parse, resolve every run's serve config,
  write the rows in a transaction that is rolled back);
- ``import, written`` and ``again: all present``: the import committed into a fresh copy of
  that catalog, then the same file again (every run found already there, nothing written).

Example: python benchmarks/bench_import.py --rows 8000,40000 --repeat 3
         python benchmarks/bench_import.py --shape minimal --rows 100000,380000
         python benchmarks/bench_import.py --rows 40000 --profile /tmp/import.prof
"""

from __future__ import annotations

import argparse
import cProfile
import json
import shutil
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


def write_file(path: Path, rows: int, shape: str, offset: int = 0) -> int:
    """The ``agg_bmk.json`` of ``rows`` runs, numbered from ``offset`` (full: indented, as
    collect_results.py writes it; minimal: the keys the importer needs, compact); its size."""
    numbers = range(offset, offset + rows)
    if shape == "minimal":
        docs = [{k: row[k] for k in MINIMAL} for row in map(inferencex_row, numbers)]
        text = json.dumps(docs, separators=(",", ":"))
    else:
        text = json.dumps([inferencex_row(i) for i in numbers], indent=2)
    path.write_text(text)
    return len(text.encode())


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


FILE_ROWS = 40_000  # full rows per file: ~54 MiB, within the 64 MiB a result file may have
ROWS = (
    ("import_floor", "floor: json.loads of the files"),
    ("import_parse", "parse_results"),
    ("import_dry", "import --dry-run, in-process"),
    ("import_written", "import, written (one transaction)"),
    ("import_again", "again: every run already present"),
)


def measure_rows(
    work: Path, rows: int, shape: str, repeat: int, profile: Path | None = None
) -> list[dict[str, Any]]:
    """Time the import of ``rows`` runs (in files of at most ``FILE_ROWS`` full rows, or one
    file of minimal ones) next to ``json.loads`` of the same bytes: rows of key, label,
    median_s, n, note and, for the committed import, the target (<= 2x json.loads).

    Each of ``repeat`` rounds times every row once, in turn (a machine that slows down
    slows the floor too): the floor, parsing, a dry run, the import into a fresh copy of a
    catalog holding the bundled recipes, and the same import again into that copy."""
    work.mkdir(parents=True, exist_ok=True)
    per_file = rows if shape == "minimal" else FILE_ROWS
    paths, sizes, first = [], 0, 0
    while first < rows:
        count = min(per_file, rows - first)
        path = work / f"agg_bmk_{rows}_{first}.json"
        sizes += write_file(path, count, shape, offset=first)
        if path.stat().st_size > MAX_RESULT_BYTES:
            raise ValueError(f"{path}: over the {MAX_RESULT_BYTES >> 20} MiB a result file may have")
        paths.append(path)
        first += count
    blobs = [path.read_bytes() for path in paths]
    described = f"{rows:,} {shape} rows in {len(paths)} file(s), {sizes / 2**20:.1f} MiB"
    seeded = work / f"catalog_{rows}.db"
    seeded.unlink(missing_ok=True)
    with Catalog.open(f"sqlite:///{seeded}", create=True) as catalog:
        catalog.ingest([REPO / "seed_recipes"])
    runs: dict[str, list[float]] = {key: [] for key, _ in ROWS}
    for round_ in range(repeat):
        fresh = work / f"catalog_{rows}_{round_}.db"
        shutil.copyfile(seeded, fresh)
        runs["import_floor"].append(timed(lambda: [json.loads(blob) for blob in blobs]))
        runs["import_parse"].append(
            timed(lambda: [parse_results(b, str(p), columns=True) for b, p in zip(blobs, paths, strict=True)])
        )
        with Catalog.open(f"sqlite:///{fresh}") as catalog:
            runs["import_dry"].append(timed(lambda: catalog.import_benchmarks(paths, dry_run=True)))
            runs["import_written"].append(timed(lambda: catalog.import_benchmarks(paths)))
            runs["import_again"].append(timed(lambda: catalog.import_benchmarks(paths)))
        fresh.unlink()
        if profile is not None and round_ == repeat - 1:  # the written import, into a fresh copy
            shutil.copyfile(seeded, fresh)
            with Catalog.open(f"sqlite:///{fresh}") as catalog:
                cProfile.runctx("catalog.import_benchmarks(paths)", globals(), locals(), str(profile))
            fresh.unlink()
    floor = statistics.median(runs["import_floor"])
    out = []
    for key, label in ROWS:
        seconds = statistics.median(runs[key])
        row: dict[str, Any] = {
            "key": key,
            "label": label,
            "median_s": seconds,
            "p99_s": None,
            "n": repeat,
            "ratio": seconds / floor,
            "ratio_text": f"{seconds / floor:.2f}x",
            "note": f"{rows / seconds:,.0f} rows/s, {seconds / floor:.2f}x json.loads"
            + (f"; {described}" if key == "import_floor" else ""),
        }
        if key == "import_written":
            row["target"] = "<= 2x json.loads"
            row["verdict"] = "PASS" if seconds <= 2 * floor else "MISS"
        out.append(row)
    return out


def measure(work: Path, rows: int, shape: str, repeat: int, profile: Path | None) -> None:
    print(f"== {rows:,} rows ({shape}) ==", flush=True)
    for row in measure_rows(work, rows, shape, repeat, profile):
        print(f"  {row['label']:36} {row['median_s']:8.2f} s  {row['note']}", flush=True)
    if profile is not None:
        print(f"  profile of the written import: {profile} (python -m pstats {profile})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="8000,40000", help="comma-separated row counts")
    parser.add_argument(
        "--shape", choices=("full", "minimal"), default="full", help="keys per row (see above)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds (each row's median is reported)")
    parser.add_argument(
        "--profile", type=Path, help="write cProfile stats of the largest import (written) here"
    )
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.rows.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            last = rows == sizes[-1]
            measure(Path(tmp), rows, args.shape, args.repeat, args.profile if last else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
