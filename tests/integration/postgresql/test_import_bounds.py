"""``bench import`` on each dialect refuses what no real run can show, and stays linear.

Figures that become infinite only once scaled or derived (issue 18, point 7), finite but
absurd figures (point 8, the bounds of ``aim_catalog.recipes.bounds``) and keys given twice
in one result object: exit 4, one line naming the file, line and key, nothing written.
Large files: lines are counted once, and runs of one serve config are resolved by one
lookup (point 9; measured in ``benchmarks/bench_import.py``, never timed here).

The files mimic the writers ``support/bench_results.py`` names: vLLM v0.5.x
``benchmarks/benchmark_serving.py``, ``vllm bench serve`` (vLLM commit 009e6d4a), SGLang
2025 ``bench_serving.py`` (commit 0033168f) and InferenceX ``utils/process_result.py``
rows merged by ``utils/collect_results.py`` (commit 843c6254); the numbers are test data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from support import bench_results as fx
from support.bench_results import benchmark_rows, spell_keys_as_before
from support.problems import problem_lines

from aim_catalog.measurements.importers import common
from aim_catalog.storage import db

FP4 = "org/fp4-model"
VLLM_TARGET = ("--recipe", "bench-b", "-b", "vllm", "--gpus", "4")


def inferencex(**over: Any) -> dict[str, Any]:
    """An InferenceX row of the catalog's MI355X mxfp4 recipe ('bench-fp4', SGLang 4 GPUs)."""
    return fx.inferencex_agg(model=FP4, **over)


def inferencex_without(*keys: str, **over: Any) -> dict[str, Any]:
    doc = fx.inferencex_agg(model=FP4, **over)
    for key in keys:
        del doc[key]
    return doc


def refused(cli: Callable[..., Any], catalog: str, path: Path, *target: str) -> list[str]:
    """The problem lines of a refused import (one per problem); no benchmark row was written."""
    result = cli("bench", "import", str(path), *target, code=4, db_url=catalog)
    lines = problem_lines(result)
    assert all(len(line) < 400 for line in lines), lines
    assert benchmark_rows(catalog) == []
    return lines


@pytest.mark.parametrize(
    ("doc", "target", "where"),
    [
        (
            inferencex(tput_per_gpu=1e308),
            (),
            "tput_per_gpu: total_token_throughput = tput_per_gpu x 4 GPU(s)",
        ),
        (inferencex(median_ttft=1e308), (), "median_ttft: ttft_ms_p50 = median_ttft (s) x 1000"),
        (
            inferencex_without("median_tpot", median_intvty=5e-324),
            (),
            "median_intvty: tpot_ms_p50 = 1000 / median_intvty",
        ),
        (
            fx.vllm_pre_0_6(input_throughput=1e308, output_throughput=1e308),
            VLLM_TARGET,
            "input_throughput: total_token_throughput = input_throughput + output_throughput",
        ),
    ],
    ids=["inferencex-tput-x-tp", "inferencex-ttft-s-to-ms", "inferencex-intvty-to-tpot", "vllm-0.5-total"],
)
def test_a_figure_infinite_after_scaling_is_refused_naming_its_key(
    cli: Callable[..., Any],
    formats_catalog: str,
    tmp_path: Path,
    doc: dict[str, Any],
    target: tuple[str, ...],
    where: str,
) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(doc, indent=2))
    lines = refused(cli, formats_catalog, path, *target)
    assert any(line.startswith(f"{path}:1:1: {where}: must be a finite number, got inf") for line in lines), (
        lines
    )


@pytest.mark.parametrize(
    ("doc", "target", "where", "bound"),
    [
        (
            inferencex(tput_per_gpu=1e300),
            (),
            "tput_per_gpu: total_token_throughput = tput_per_gpu x 4 GPU(s): 4e+300 tokens/s",
            "more than 1e+06 tokens/s per GPU (4 GPU(s))",
        ),
        (
            fx.vllm_bench_serve(output_throughput=1e300),
            VLLM_TARGET,
            "output_throughput: 1e+300 tokens/s",
            "more than 1e+06 tokens/s per GPU (4 GPU(s))",
        ),
        (
            fx.vllm_bench_serve(median_ttft_ms=1e-9),
            VLLM_TARGET,
            "median_ttft_ms: 1e-09 ms is not a real measurement",
            "TTFT must be from 0.01 ms to 86,400,000 ms (one day)",
        ),
        (
            fx.sglang_2025(duration=1e-300, request_throughput=None, total_throughput=None),
            ("--recipe", "bench-a", "-b", "sglang", "--gpus", "4"),
            "duration: total_token_throughput = (total_input_tokens + total_output_tokens) / duration",
            "more than 1e+06 tokens/s per GPU (GPU count unknown, taken as 8)",
        ),
    ],
    ids=["inferencex-1e300", "vllm-1e300", "vllm-ttft-1e-9-ms", "sglang-tiny-duration"],
)
def test_a_finite_but_impossible_figure_is_refused_naming_the_bound(
    cli: Callable[..., Any],
    formats_catalog: str,
    tmp_path: Path,
    doc: dict[str, Any],
    target: tuple[str, ...],
    where: str,
    bound: str,
) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps({k: v for k, v in doc.items() if v is not None}, indent=2))
    lines = refused(cli, formats_catalog, path, *target)
    assert any(line.startswith(f"{path}:1:1: {where}") and bound in line for line in lines), lines


def test_throughput_is_bounded_per_gpu_of_the_config_it_goes_to(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path
) -> None:
    """A file that names no GPU count is read as one node's (8 GPUs); once --gpus says 4,
    5e6 tokens/s is more than 1e6 per GPU."""
    doc = fx.vllm_bench_serve(output_throughput=5e6, total_token_throughput=6e6)
    del doc["tensor_parallel_size"]
    path = tmp_path / "no-tp.json"
    path.write_text(json.dumps(doc))
    result = cli("bench", "import", str(path), *VLLM_TARGET, code=4, db_url=formats_catalog)
    lines = problem_lines(result)
    assert lines[0].startswith(f"{path}:1:1: output_throughput: 5e+06 tokens/s"), lines
    assert "more than 1e+06 tokens/s per GPU (4 GPU(s))" in lines[0]
    assert benchmark_rows(formats_catalog) == []


def test_a_key_given_twice_is_refused_where_it_is_given_again(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path
) -> None:
    """json keeps the last of two equal keys silently; recipes refuse duplicate YAML keys,
    and so do result files: one object, JSONL (``--append-result``) and an array."""
    one = tmp_path / "one.json"
    text = json.dumps(fx.vllm_bench_serve(), indent=2)
    one.write_text(text.replace('  "failed": 0,\n', '  "failed": 0,\n  "output_throughput": 1e9,\n'))
    again = 1 + text.splitlines().index('  "output_throughput": 3998.8,') + 1  # its later line
    (line,) = refused(cli, formats_catalog, one, *VLLM_TARGET)
    assert line.startswith(f"{one}:{again}:1: output_throughput: duplicate key"), line

    lines = tmp_path / "appended.json"
    second = json.dumps(fx.vllm_bench_serve(max_concurrency=32)).replace(
        '"failed": 0', '"failed": 0, "failed": 9'
    )
    lines.write_text(json.dumps(fx.vllm_bench_serve()) + "\n" + second + "\n")
    (line,) = refused(cli, formats_catalog, lines, *VLLM_TARGET)
    assert line.startswith(f"{lines}:2:1: failed: duplicate key"), line

    array = tmp_path / "agg_bmk.json"
    rows = [inferencex(conc=c) for c in (16, 32, 64)]
    body = json.dumps(rows, indent=2).splitlines()
    at = [i for i, text_ in enumerate(body) if text_.strip().startswith('"isl"')][2]  # third row
    body.insert(at, '    "isl": 8192,')
    array.write_text("\n".join(body))
    (line,) = refused(cli, formats_catalog, array)
    assert line.startswith(f"{array}:{at + 2}:1: isl: duplicate key"), line


# --------------------------------------------------------------------------- linear


class Counting(str):
    """A file's text that adds up how many characters ``count`` scans."""

    scanned = 0

    def count(self, sub: str, start: Any = None, end: Any = None) -> int:  # type: ignore[override]
        Counting.scanned += (len(self) if end is None else end) - (start or 0)
        return super().count(sub, start, end)


@pytest.mark.parametrize("nested", [False, True], ids=["flat array", "read element by element"])
def test_an_array_files_lines_are_counted_once_not_once_per_element(nested: bool) -> None:
    """Each element's line was counted from the top of the file: 380k elements scanned the
    file 380k times over (the quadratic part of a 64 MiB import). Both readings of an array
    (common._flat_array, and _array, which reads a file with an object in an element) scan
    it a few times at most."""
    rows = [inferencex(conc=c) for c in range(1, 401)]
    if nested:
        rows[7]["recipe_fingerprint"] = {"an": "object"}
    text = Counting(json.dumps(rows, indent=2))
    Counting.scanned = 0
    assert (common._flat_array(text) is None) is nested
    Counting.scanned = 0
    found, problems = common.split_objects(text, "agg_bmk.json")
    assert problems == [] and len(found) == 400
    assert found[399][0] == 1 + text[: text.rindex("\n  {")].count("\n") + 1  # the last element's line
    assert Counting.scanned <= 3 * len(text)


def test_runs_of_one_serve_config_are_resolved_once(formats_catalog: str, tmp_path: Path) -> None:
    """Each run of a file asked the catalog for its serve config: 300 runs, 300 lookups."""
    from sqlalchemy import event

    from aim_catalog import Catalog

    path = tmp_path / "agg_bmk.json"
    path.write_text(json.dumps([inferencex(conc=c) for c in range(1, 301)], indent=2))
    asked: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "serve_configs" in statement:
            asked.append(statement)

    with Catalog.open(formats_catalog) as catalog:
        event.listen(catalog.store.engine, "before_cursor_execute", seen)
        ticks: list[str] = []
        report = catalog.import_benchmarks([path], on_tick=ticks.append)
    assert (report.added, report.targets) == (300, {"bench-fp4/sglang/4 GPU": 300})
    assert len(asked) <= 3, asked
    # the stages a terminal's progress bars show while a big file goes in, said as lines
    assert ticks == [
        "checking agg_bmk.json: 0 of 300",
        "checking agg_bmk.json: 300 of 300",
        "resolving serve configs: 0 of 300",
        "resolving serve configs: 300 of 300",
        "writing: 0 of 300",
        "writing: 300 of 300",
    ]


@pytest.mark.parametrize("skipped", [0, 2], ids=["all-taken", "every-other-row-skipped"])
def test_progress_counts_every_stage_to_its_end(formats_catalog: str, tmp_path: Path, skipped: int) -> None:
    """A big file reports each stage every 5,000 runs and at its end, with its total, so a
    bar can be drawn (issue 18, point 9); rows read as columns but handled one by one (no
    serve config for their 2 GPUs: skipped) are counted once."""
    from aim_catalog import Catalog

    path = tmp_path / "agg_bmk.json"
    rows = [inferencex(conc=c, tp=4 if c % 2 or not skipped else 2) for c in range(1, 12_001)]
    path.write_text(json.dumps(rows))
    heard: list[tuple[str, int, int]] = []
    with Catalog.open(formats_catalog) as catalog:
        report = catalog.import_benchmarks([path], dry_run=True, on_progress=lambda *a: heard.append(a))
    assert report.added == (6_000 if skipped else 12_000)
    stages = {what: [(done, total) for w, done, total in heard if w == what] for what, _, _ in heard}
    assert list(stages) == ["checking agg_bmk.json", "resolving serve configs", "writing"]
    ticks = [(0, 12_000), (5_000, 12_000), (10_000, 12_000), (12_000, 12_000)]
    assert stages["checking agg_bmk.json"] == ticks
    assert stages["resolving serve configs"] == ticks
    assert stages["writing"][-1] == (report.added, report.added)


# --------------------------------------------------------------------------- rows read as columns


def _without_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """No row read column by column: every run read (and written) one by one."""
    from aim_catalog.measurements.importers import inferencex

    monkeypatch.setattr(inferencex, "read_many", lambda *_args: [])


def _imported(catalog: str, paths: list[Path], **target: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The report of importing ``paths`` and the rows written (ids and order left out: rows
    by their keys), then every imported row removed again."""
    from aim_catalog import Catalog
    from aim_catalog.measurements.bench_import import Target

    with Catalog.open(catalog) as opened:
        report = opened.import_benchmarks(paths, Target(**target) if target else None)
    rows = sorted(
        ({k: v for k, v in row.items() if k != "id"} for row in benchmark_rows(catalog)),
        key=lambda row: (row["import_key"], row["source"]),
    )
    engine = db.make_engine(catalog)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM benchmarks WHERE origin = 'import'"))
    engine.dispose()
    return report, rows


def test_rows_read_as_columns_are_written_as_runs_read_one_by_one(
    formats_catalog: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """InferenceX files are written column by column (``RunColumns``) as they would be run by
    run: the same rows, keys, report and notes, whatever happens to some of their rows: 4-
    and 8-GPU rows (two serve configs), 2-GPU rows no serve config takes (skipped, each
    naming its element), rows given twice in a file and again in later files, a row read one
    by one (``image`` null) beside the others; with a target that some rows contradict, the
    same first refusal."""
    from aim_catalog.measurements.bench_import import TargetContradiction
    from aim_catalog.measurements.importers import parse_results

    first, second = tmp_path / "agg_bmk.json", tmp_path / "agg_more.json"
    rows = [
        *(inferencex(conc=c) for c in (1, 2, 4)),
        *(inferencex(conc=c, tp=8) for c in (1, 2)),
        *(inferencex(conc=c, tp=2) for c in (1, 2)),
        inferencex(conc=1),  # given twice
    ]
    first.write_text(json.dumps(rows, indent=2))
    second.write_text(json.dumps([inferencex(conc=2), inferencex(conc=32), {**inferencex(), "image": None}]))
    files = [first, second]
    for concurrencies in ((256, 256), (512, 1024), (512, 2048)):  # every row to a serve config:
        files.append(tmp_path / f"agg_{len(files)}.json")  # a row twice, new rows, one again
        files[-1].write_text(json.dumps([inferencex(conc=c) for c in concurrencies]))
    files.append(tmp_path / "agg_2_gpus.json")  # new rows, one of them to no serve config
    files[-1].write_text(json.dumps([inferencex(conc=8192), inferencex(conc=8192, tp=2)]))
    for path, taken in zip(files, (len(rows), 0, 2, 2, 2, 2), strict=True):  # the rows read as columns
        assert sum(map(len, parse_results(path.read_bytes(), str(path), columns=True).batches)) == taken
    columns = _imported(formats_catalog, files)
    with monkeypatch.context() as patched:
        _without_columns(patched)
        one_by_one = _imported(formats_catalog, files)
    assert columns == one_by_one
    report, written = columns
    assert (report.added, report.duplicates, len(written)) == (12, 4, 12)
    assert report.targets == {"bench-fp4/sglang/4 GPU": 10, "bench-fp4/sglang/8 GPU": 2}
    assert [note.split(": no serve config")[0] for note in report.notes] == [
        *(f"{first}:{2 + (len(rows[0]) + 2) * e}:1: [element {e}] skipped" for e in (5, 6)),  # indent=2
        f"{files[-1]}:1:1: [element 1] skipped",
    ]
    refusals = []
    for read_many in (True, False):
        with monkeypatch.context() as patched:
            if not read_many:
                _without_columns(patched)
            with pytest.raises(TargetContradiction) as refused:
                _imported(formats_catalog, [first], recipe_id="bench-fp4", backend="sglang", gpus=8)
        refusals.append(str(refused.value))
    assert refusals[0] == refusals[1] and f"{first}:2:1: GPUs: the file says 4 GPU(s)" in refusals[0]
    assert benchmark_rows(formats_catalog) == []


def test_rows_read_as_columns_are_found_again_by_their_old_keys(formats_catalog: str, tmp_path: Path) -> None:
    """Rows of an InferenceX file imported before keys.run_key (keys of the old spelling) are
    found again when the file, read column by column, comes again with one row more."""
    from aim_catalog import Catalog

    path = tmp_path / "agg_bmk.json"
    path.write_text(json.dumps([inferencex(conc=c) for c in (1, 2, 3)], indent=2))
    with Catalog.open(formats_catalog) as catalog:
        assert catalog.import_benchmarks([path]).added == 3
    assert len(spell_keys_as_before(formats_catalog, path)) == 3
    path.write_text(json.dumps([inferencex(conc=c) for c in (1, 2, 3, 4)], indent=2))
    with Catalog.open(formats_catalog) as catalog:
        again = catalog.import_benchmarks([path])
    assert (again.added, again.duplicates) == (1, 3)


def test_rows_read_as_columns_are_written_in_the_files_order(formats_catalog: str, tmp_path: Path) -> None:
    """Row ids follow the file (explain lists a config's rows, export writes them, and select
    breaks ties, by id)."""
    from aim_catalog import Catalog

    path = tmp_path / "agg_bmk.json"
    concurrencies = [64, 1, 512, 8, 2, 256, 4, 128, 16, 32]
    path.write_text(json.dumps([inferencex(conc=c) for c in concurrencies]))
    with Catalog.open(formats_catalog) as catalog:
        assert catalog.import_benchmarks([path]).added == len(concurrencies)
    assert [row["concurrency"] for row in benchmark_rows(formats_catalog)] == concurrencies
