"""``export`` writes only inside --out, all or nothing, keeps imported benchmarks' import keys
across a round trip, and ingests back into an identical catalog.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session
from support.bench_results import benchmark_rows, inferencex_agg, sglang_line, vllm_result, write_json
from support.catalogs import content
from support.mounts import tmpfs
from support.problems import MODEL
from support.services import reset_pg

from aim_catalog.storage import db
from aim_catalog.storage.resources import seed_recipe_dir
from aim_catalog.storage.tables import benchmarks as benchmarks_table

FP4 = "org/fp4-model"  # conftest's bench-fp4 recipe: MI355X mxfp4 SGLang on 4 and 8 GPUs

# --------------------------------------------------------------------------- export round trip


def test_export_ingests_into_an_identical_catalog(
    cli: Callable[..., Any], bench_catalog: str, tmp_path: Path, reference_dir: Path
) -> None:
    seed = seed_recipe_dir() / "llama-3-1-70b-fp8-kv-mi300x-fp8-vllm-2025-11.yaml"
    cli("ingest", str(reference_dir), str(seed), db_url=bench_catalog)
    path = write_json(tmp_path / "r.json", vllm_result())
    cli(
        "bench", "import", str(path), "--recipe", "bench-b", "-b", "vllm", "--gpus", "4", db_url=bench_catalog
    )
    out = tmp_path / "exported"
    assert (
        cli("export", "--out", str(out), db_url=bench_catalog).stdout.strip()
        == f"exported 7 recipe(s) to {out}"
    )
    assert cli("validate", str(out)).stdout.strip() == "7 file(s) valid, 7 recipe(s)"
    original = content(bench_catalog)
    copy = _empty_twin(bench_catalog, tmp_path)
    assert cli("ingest", str(out), db_url=copy).stdout.startswith("added 7,")
    copied = content(copy)
    assert len(copied["benchmarks"]) == 5  # 4 published figures + the imported run
    assert copied == original


def test_aim_profiles_survive_export_and_ingest(cli: Callable[..., Any], db_url: str, tmp_path: Path) -> None:
    """AMD AIM profiles (aim-build's own files, ../shared) keep goal, profile_type and
    manual-selection-only through a backup, so a profile serving its model_id's weights
    (``--model amd/...-FP8-KV`` under meta-llama/Llama-3.1-8B-Instruct) ingests back and
    ``--goal`` still finds it (export used to drop the three and refuse to write)."""
    from support.paths import SHARED

    profiles = SHARED / "reference" / "aim-build" / "profiles" / "meta-llama" / "Llama-3.1-8B-Instruct"
    cli("ingest", str(profiles), db_url=db_url)
    profile = ("goal", "profile_type", "manual_only", "args")
    query = f"SELECT {', '.join(profile)} FROM serve_configs"

    def configs(url: str) -> list[tuple[Any, ...]]:
        engine = db.make_engine(url)
        with engine.connect() as conn:
            rows = [
                (goal, kind, bool(manual), json.dumps(json.loads(args) if isinstance(args, str) else args))
                for goal, kind, manual, args in conn.execute(text(query))
            ]
        engine.dispose()
        return sorted(rows, key=repr)

    original = configs(db_url)
    assert any("amd/Llama-3.1-8B-Instruct-FP8-KV" in r[3] for r in original)
    assert {r[1] for r in original} >= {"optimized"} and any(r[2] for r in original)
    out = tmp_path / "exported"
    cli("export", "--out", str(out), db_url=db_url)
    copy = _empty_twin(db_url, tmp_path)
    cli("ingest", str(out), db_url=copy)
    assert configs(copy) == original
    chosen = cli(
        "select",
        "meta-llama/Llama-3.1-8B-Instruct",
        "1",
        "-p",
        "fp8",
        "--goal",
        "latency",
        "--json",
        db_url=copy,
    )
    assert json.loads(chosen.stdout)["recipe_id"].endswith("-latency")


def _every_row(url: str) -> list[dict[str, Any]]:
    """Every benchmark row, every column, keyed by its recipe and config instead of ids."""
    hidden = ("id", "serve_config_id", "precision")
    return sorted(({k: v for k, v in r.items() if k not in hidden} for r in benchmark_rows(url)), key=repr)


def _empty_twin(url: str, tmp_path: Path) -> str:
    """An empty catalog of the same dialect: the PostgreSQL test database reset, or a new
    SQLite file."""
    if url.startswith("postgresql"):
        reset_pg(url)
        return url
    return f"sqlite:///{tmp_path / 'copy.db'}"


def _measured_point() -> dict[str, Any]:
    """A point `bench run` stored (migration 0012's columns all set)."""
    return {
        "input_len": 1030, "output_len": 256, "nominal_input_len": 1024, "nominal_output_len": 256,
        "concurrency": 8, "dataset": "random", "failed": 0, "output_throughput": 812.5,
        "ttft_ms_p50": 120.0, "ttft_ms_p90": 180.0, "tpot_ms_p50": 9.5, "tpot_ms_p999": 14.0,
        "source": "aim-catalog bench run bench-a-vllm (aim-catalog builtin 0.1.0; 80 request(s))",
        "measured_at": "2026-12-07T12:00:00Z", "image": "aim-catalog-test/fake-server:1",
        "image_digest": "sha256:" + "ab" * 32, "server_version": "0.11.0-fake",
        "client": "aim-catalog builtin 0.1.0", "gpu_model": "MI300X",
    }  # fmt: skip


def _smoke_test_result() -> Any:
    from aim_catalog.operating.load import LoadResult

    return LoadResult(  # what `test NAME --concurrency 2 --requests 4 --save` stores
        requests=4,
        concurrency=2,
        completed=4,
        failed=0,
        not_sent=0,
        duration=2.0,
        model="org/bench-model",
        prompt_tokens=48,
        completion_tokens=64,
        ttft_ms=[40.0, 42.0, 44.0, 46.0],
        e2el_ms=[400.0, 420.0, 440.0, 460.0],
        tpot_ms=[24.0, 25.0, 26.0, 27.0],
    )


def test_every_kind_of_row_survives_export_and_ingest(
    cli: Callable[..., Any], formats_catalog: str, tmp_path: Path, write_recipe: Callable[..., Path]
) -> None:
    """A backup restores: rows of every origin (a recipe's own with every documented field,
    imported from each tool, saved by `test --save`, one saved before smoke rows had keys)
    export into files that ingest into an empty catalog as the same rows, and re-ingesting
    or re-importing adds nothing. A figure an older catalog let in that ingest refuses now
    (infinite, impossible) is left out, and said."""
    from aim_catalog.measurements.bench_import import store_measured, store_smoke_test

    url = formats_catalog
    published = {
        "output_throughput": 1510.5, "total_token_throughput": 3021.0, "request_throughput": 2.5,
        "ttft_ms_p50": 95.0, "ttft_ms_p99": 210.0, "tpot_ms_p50": 21.0, "tpot_ms_p99": 30.0,
        "itl_ms_p50": 20.5, "itl_ms_p99": 45.0, "e2el_ms_p50": 11000.0, "e2el_ms_p99": 14000.0,
        "input_len": 1024, "output_len": 512, "concurrency": 16, "source": "AMD, MI300X figures",
        "measured_at": "2025-06-01", "image": "rocm/vllm:rocm6.4.1_vllm_0.9.1_20250715",
    }  # fmt: skip
    write_recipe(
        "bench-c",
        model="org/bench-model",
        configs={"vllm": {8: {"enabled": True, "benchmarks": [published, {"output_throughput": 9.0}]}}},
    )
    cli("ingest", str(tmp_path / "recipes"), db_url=url)
    vllm = write_json(tmp_path / "v.json", vllm_result())
    sglang = write_json(tmp_path / "s.json", sglang_line(32, 3000.0, 400.0))
    cli("bench", "import", str(vllm), "--recipe", "bench-b", "-b", "vllm", "--gpus", "4", db_url=url)
    cli("bench", "import", str(sglang), "--recipe", "bench-a", "-b", "sglang", "--gpus", "4", db_url=url)
    cli("bench", "import", str(write_json(tmp_path / "x.json", [inferencex_agg(model=FP4)])), db_url=url)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        config = conn.execute(
            text("SELECT c.id FROM serve_configs c JOIN recipes r ON r.id = c.recipe_pk "
                 "WHERE r.recipe_id = 'bench-a' AND c.backend = 'vllm' AND c.gpu_count = 4")
        ).scalar_one()  # fmt: skip
    with Session(engine) as session, session.begin():
        store_smoke_test(session, "smoke", config, "aim-catalog-test/fake-server:1", _smoke_test_result(), 16)
        store_measured(session, config, _measured_point(), "bench-a-vllm")
    with engine.begin() as conn:
        # rows an older aim-catalog let in: a TTFT of infinity, and a row of impossible figures only
        conn.execute(
            text(
                "UPDATE benchmarks SET ttft_ms_p99 = :inf WHERE origin = 'import' AND ttft_ms_p99 IS NOT NULL"
            ),
            {"inf": float("inf")},
        )
        conn.execute(
            benchmarks_table.insert().values(
                serve_config_id=config, origin="import", import_key="legacy-1", output_throughput=1e300
            )
        )
    engine.dispose()
    rows = _every_row(url)
    assert {r["origin"] for r in rows} == {"recipe", "import", "smoke", "measured"} and len(rows) == 8

    out = tmp_path / "exported"
    result = cli("export", "--out", str(out), db_url=url)
    notes = result.stderr.strip().splitlines()
    assert len(notes) == 4, notes  # three infinite TTFTs, one row of nothing real
    assert sum("ttft_ms_p99 left out (must be a finite number, got inf)" in n for n in notes) == 3
    gone = [n for n in notes if "left out: no figure ingest accepts (output_throughput 1e+300 " in n]
    assert len(gone) == 1 and gone[0].startswith("bench-a vllm 4 GPU(s), benchmark row "), notes
    expected = [
        {k: v for k, v in r.items() if k != "ttft_ms_p99" or v != float("inf")}
        for r in rows
        if r["output_throughput"] != 1e300
    ]
    for row in expected:
        row.setdefault("ttft_ms_p99", None)
    smoke = next(r for r in expected if r["origin"] == "smoke")
    assert smoke["import_key"].startswith("smoke-")
    measured = next(r for r in expected if r["origin"] == "measured")
    assert measured["import_key"].startswith("measured-") and measured["server_version"] == "0.11.0-fake"

    copy = _empty_twin(url, tmp_path)
    assert cli("ingest", str(out), db_url=copy).stdout.startswith("added 4,")
    assert _every_row(copy) == sorted(expected, key=repr)
    cli("ingest", str(out), db_url=copy)  # again: nothing added twice
    cli("bench", "import", str(vllm), "--recipe", "bench-b", "-b", "vllm", "--gpus", "4", db_url=copy)
    assert _every_row(copy) == sorted(expected, key=repr)


# --------------------------------------------------------------------------- export


def test_export_onto_a_file_or_proc_says_so_in_one_line(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("keep")
    for out, reason in (
        (a_file, "exists and is not a directory"),
        (Path("/proc"), ""),
        (Path("/proc/x/y"), ""),
    ):
        result = cli("export", "--out", str(out), code=1, db_url=export_catalog)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: cannot export to {out}: "), result.stderr
        assert reason in lines[0] and lines[0].endswith("(nothing was written)")
    assert a_file.read_text() == "keep"


def test_export_on_a_full_disk_leaves_nothing(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path, write_recipe: Callable[..., Path]
) -> None:
    long_source = "s" * 900
    for i in range(40):  # ~40 x 20 KiB of YAML: more than the 256 KiB file system holds
        rows = [
            {"output_throughput": float(n), "concurrency": n + 1, "source": long_source} for n in range(20)
        ]
        write_recipe(
            f"exp-{i:02d}", model=MODEL, configs={"vllm": {1: {"enabled": True, "benchmarks": rows}}}
        )
    cli("ingest", str(tmp_path / "recipes"), db_url=export_catalog)
    with tmpfs(tmp_path / "small", size="256k") as mount:
        for out in (mount / "new-dir", mount):  # a new directory, and into an existing one
            result = cli("export", "--out", str(out), code=1, db_url=export_catalog)
            assert (
                result.stderr.strip()
                == f"error: cannot export to {out}: No space left on device (nothing was written)"
            )
            assert list(mount.iterdir()) == [], list(mount.iterdir())


def test_export_never_writes_outside_out(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path
) -> None:
    engine = db.make_engine(export_catalog)
    with engine.begin() as conn:  # a row another client of a shared catalog wrote
        conn.execute(text("UPDATE recipes SET recipe_id = '../../../escaped'"))
    engine.dispose()
    out = tmp_path / "a" / "b" / "c" / "out"
    result = cli("export", "--out", str(out), code=1, db_url=export_catalog)
    assert result.stderr.strip().startswith(
        "error: the catalog holds recipe_id '../../../escaped', which is not"
    )
    assert not out.exists() and not list(tmp_path.rglob("escaped*"))


def test_export_replaces_a_symlink_in_out_instead_of_following_it(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "exp-a.yaml").symlink_to(victim)
    (out / "unrelated.txt").write_text("stays")
    cli("export", "--out", str(out), db_url=export_catalog)
    assert victim.read_text() == "precious"
    assert not (out / "exp-a.yaml").is_symlink() and "recipe_id: exp-a" in (out / "exp-a.yaml").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["exp-a.yaml", "unrelated.txt"]  # no staging left


def _benchmarks(url: str) -> list[tuple[Any, ...]]:
    engine = db.make_engine(url)
    names = [c.name for c in benchmarks_table.columns if c.name not in ("id", "serve_config_id")]
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {', '.join(names)} FROM benchmarks")).all()
    engine.dispose()
    return sorted((tuple(r) for r in rows), key=repr)


def test_export_round_trip_keeps_import_keys_and_every_column(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path
) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps(vllm_result()))
    target = ("--recipe", "exp-a", "-b", "vllm", "--gpus", "4")
    cli("bench", "import", str(result), *target, db_url=export_catalog)
    engine = db.make_engine(export_catalog)
    with engine.begin() as conn:  # a row with every column set: new columns must round-trip too
        sc = conn.execute(text("SELECT id FROM serve_configs")).scalar()
        values: dict[str, Any] = {"serve_config_id": sc, "origin": "import", "import_key": "k" * 64}
        for column in benchmarks_table.columns:
            if column.name not in values and column.name != "id":
                kind = column.type.python_type
                values[column.name] = 3 if kind is int else 2.5 if kind is float else "x"
        names = ", ".join(values)
        conn.execute(
            text(f"INSERT INTO benchmarks ({names}) VALUES ({', '.join(':' + n for n in values)})"), values
        )
    engine.dispose()
    before = _benchmarks(export_catalog)
    assert sorted(r[0] for r in _origins(export_catalog)) == ["import", "import", "recipe"]
    out = tmp_path / "exported"
    cli("export", "--out", str(out), db_url=export_catalog)
    copy = _empty_twin(export_catalog, tmp_path)
    cli("ingest", str(out), db_url=copy)
    assert _benchmarks(copy) == before
    again = cli("bench", "import", str(result), *target, db_url=copy)
    assert "imported 0 run(s), 1 already present" in again.stdout, again.stdout
    # A changed recipe file re-ingested keeps exactly one copy of each imported row.
    path = out / "exp-a.yaml"
    path.write_text(path.read_text().replace("enabled: true", "enabled: false"))
    cli("ingest", str(out), db_url=copy)
    assert len(_benchmarks(copy)) == len(before)


def _origins(url: str) -> list[tuple[Any, ...]]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT origin, import_key FROM benchmarks"))]
    engine.dispose()
    return rows
