"""Review fixes of the benchmark import (issue 9): InferenceX rows matched to the MTP
recipes, per-row skips in multi-row files, explicit targets the file contradicts, array
elements named in messages. Result shapes are the writers' own (``support/bench_results.py``
names each source: InferenceX ``utils/process_result.py`` at commit 843c6254, vLLM
``vllm bench serve`` 0.8+)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from support import bench_results as fx

from aim_catalog.settings import default_db_url
from aim_catalog.storage import db

DSR1 = "deepseek-ai/DeepSeek-R1-0528"


def rows(url: str) -> list[dict[str, Any]]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT r.recipe_id, c.backend, c.gpu_count, b.* FROM benchmarks b "
                "JOIN serve_configs c ON c.id = b.serve_config_id JOIN recipes r ON r.id = c.recipe_pk "
                "ORDER BY b.id"
            )
        )
        out = [dict(row._mapping) for row in found]
    engine.dispose()
    return out


def dsr1(spec: str, **over: Any) -> dict[str, Any]:
    """DeepSeek-R1-0528 on MI355X, FP8, SGLang TP8, as InferenceX's dsr1-fp8-mi355x-sglang(-mtp)
    entries (configs/amd-master.yaml) write it, ISL 8192 / OSL 1024."""
    doc = fx.inferencex_agg(
        model=DSR1,
        infmax_model_prefix="dsr1",
        precision="fp8",
        tp=8,
        conc=64,
        isl=8192,
        osl=1024,
        spec_decoding=spec,
        image="lmsysorg/sglang:v0.5.12-rocm700-mi35x",
        tput_per_gpu=2000.0,
        output_tput_per_gpu=200.0,
    )
    doc.update(over)
    return doc


# --------------------------------------------------------------------------- 1. bundled catalog


def test_inferencex_rows_go_to_the_mtp_recipe_and_unmatched_rows_are_skipped(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    qwen = fx.inferencex_agg(model="Qwen/Qwen3-32B", precision="bf16", tp=8)  # no MI355X Qwen3-32B recipe
    path = tmp_path / "agg_bmk.json"
    path.write_text(json.dumps([dsr1("none"), dsr1("mtp", tput_per_gpu=2600.0), qwen], indent=2))
    out = cli("bench", "import", str(path))
    assert "imported 2 run(s)" in out.stdout, out
    (skip,) = [line for line in out.stderr.splitlines() if "skipped" in line]
    assert "[element 2] skipped: no serve config matches (model Qwen/Qwen3-32B" in skip
    stored = {
        r["recipe_id"]: r["total_token_throughput"] for r in rows(default_db_url()) if r["origin"] == "import"
    }
    assert stored == {
        "deepseek-r1-0528-mi355x-fp8": 16000.0,
        "deepseek-r1-0528-mi355x-fp8-mtp": 20800.0,
    }


def test_a_single_run_that_fits_several_configs_is_still_an_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    old = dsr1("none")
    del old["spec_decoding"]  # files before the key: plain and MTP recipes both fit
    path = tmp_path / "agg_run.json"
    path.write_text(json.dumps(old))
    err = cli("bench", "import", str(path), code=4).stderr
    assert "2 serve configs match" in err
    assert "deepseek-r1-0528-mi355x-fp8/sglang/8 GPU; deepseek-r1-0528-mi355x-fp8-mtp/sglang/8 GPU" in err
    assert [r for r in rows(default_db_url()) if r["origin"] == "import"] == []


def test_single_node_rows_with_the_harness_prefill_keys_are_imported(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    """benchmark_lib.sh (InferenceX 843c6254) writes prefill_tp/decode_tp = TP and
    is_multinode false into every run's metadata: such a row is single-node."""
    row = dsr1("none", prefill_tp=8, prefill_ep=1, prefill_num_workers=1, decode_tp=8, decode_num_workers=1)
    path = tmp_path / "agg_run.json"
    path.write_text(json.dumps(row))
    assert "imported 1 run(s)" in cli("bench", "import", str(path)).stdout


# --------------------------------------------------------------------------- 2. explicit targets


QWEN_RECIPES: dict[str, dict[str, Any]] = {
    "qwen": {"model": "Qwen/Qwen3-32B", "configs": {"vllm": {4: {"enabled": True}, 8: {"enabled": True}}}},
    "qwen-355": {
        "model": "Qwen/Qwen3-32B",
        "hardware": "MI355X",
        "configs": {"sglang": {8: {"enabled": True}}},
    },
}


@pytest.fixture
def qwen_catalog(make_catalog: Callable[..., Any], db_url: str) -> str:
    """Qwen/Qwen3-32B: 'qwen' (MI300X, vLLM on 4 and 8 GPUs) and 'qwen-355' (MI355X, SGLang on 8)."""
    return str(make_catalog(QWEN_RECIPES, into=db_url))


@pytest.mark.parametrize(
    ("doc", "how", "field"),
    [
        (
            fx.vllm_bench_serve(model_id="meta-llama/Llama-3.3-70B-Instruct"),
            ("--recipe", "qwen", "--gpus", "4"),
            "model: the file says model meta-llama/Llama-3.3-70B-Instruct, "
            "but --recipe qwen is Qwen/Qwen3-32B: this run was not measured on that serve config",
        ),
        (
            fx.vllm_bench_serve(model_id="Qwen/Qwen3-32B", tensor_parallel_size="8"),
            ("--recipe", "qwen", "--gpus", "4"),
            "GPUs: the file says 8 GPU(s) (tensor parallel), but --gpus is 4",
        ),
        (
            fx.vllm_bench_serve(model_id="Qwen/Qwen3-32B"),
            ("--recipe", "qwen", "-b", "sglang", "--gpus", "4"),
            "backend: the file says backend vllm, but --backend is sglang",
        ),
        (
            fx.inferencex_agg(model="Qwen/Qwen3-32B", precision="fp8", framework="vllm", tp=8),
            (
                "--recipe",
                "qwen",
            ),
            "hardware: the file says hardware MI355X, but --recipe qwen is for MI300X",
        ),
        (
            fx.inferencex_agg(model="Qwen/Qwen3-32B", precision="fp8", tp=8),
            (
                "--recipe",
                "qwen-355",
            ),
            "precision: the file says precision fp8, but --recipe qwen-355 is bf16",
        ),
    ],
    ids=["model", "gpus", "backend", "hardware", "precision"],
)
def test_an_explicit_target_the_file_contradicts_is_refused(
    cli: Callable[..., Any],
    qwen_catalog: str,
    tmp_path: Path,
    doc: dict[str, Any],
    how: tuple[str, ...],
    field: str,
) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(doc))
    err = cli("bench", "import", str(path), *how, code=4, db_url=qwen_catalog).stderr
    assert f"run.json:1:1: {field}" in err, err
    assert rows(qwen_catalog) == []


def test_an_mtp_row_is_not_stored_under_a_plain_recipe(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "agg_run.json"
    path.write_text(json.dumps(dsr1("mtp")))
    err = cli("bench", "import", str(path), "--recipe", "deepseek-r1-0528-mi355x-fp8", code=4).stderr
    assert (
        "spec_decoding: the file says spec_decoding mtp, but --recipe deepseek-r1-0528-mi355x-fp8 is a" in err
    )
    cli("bench", "import", str(path), "--recipe", "deepseek-r1-0528-mi355x-fp8-mtp", "-b", "sglang")


def test_only_recipe_given_uses_the_files_tensor_parallel(
    cli: Callable[..., Any], qwen_catalog: str, tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(fx.vllm_bench_serve(model_id="Qwen/Qwen3-32B", tensor_parallel_size="8")))
    cli("bench", "import", str(path), "--recipe", "qwen", db_url=qwen_catalog)
    assert [(r["recipe_id"], r["gpu_count"]) for r in rows(qwen_catalog)] == [("qwen", 8)]


# --------------------------------------------------------------------------- 8. one-line arrays


def test_skips_in_a_one_line_array_name_the_element(
    cli: Callable[..., Any], qwen_catalog: str, tmp_path: Path
) -> None:
    path = tmp_path / "agg_bmk.json"
    ok = fx.inferencex_agg(model="Qwen/Qwen3-32B", precision="bf16", tp=8)
    path.write_text(json.dumps([ok, fx.inferencex_multinode(), fx.inferencex_agentic()]))  # one line
    err = cli("bench", "import", str(path), db_url=qwen_catalog).stderr
    assert "agg_bmk.json:1:1: [element 1] skipped: a multi-node" in err
    assert "agg_bmk.json:1:1: [element 2] skipped: an agentic" in err


# --------------------------------------------------------------------------- 3. one scenario ranks


@pytest.fixture
def workloads(cli: Callable[..., Any], make_catalog: Callable[..., Any], db_url: str, tmp_path: Path) -> str:
    """org/w: 'w-a' vLLM on 4 and 8 GPUs, 'w-b' SGLang on 4. Rows at 1024/1024 for every
    config; the short-output 1024/128 rows (higher throughput) belong to another workload."""
    make_catalog(
        {
            "w-a": {"model": "org/w", "configs": {"vllm": {4: {"enabled": True}, 8: {"enabled": True}}}},
            "w-b": {"model": "org/w", "configs": {"sglang": {4: {"enabled": True}}}},
        },
        into=db_url,
    )
    n = 640
    runs = [
        ("w-a", "vllm", "4", 1024, 4000.0),
        ("w-a", "vllm", "4", 128, 9000.0),
        ("w-b", "sglang", "4", 1024, 5000.0),
        ("w-a", "vllm", "8", 1024, 8000.0),
        ("w-a", "vllm", "8", 128, 20000.0),
    ]
    for i, (recipe, backend, gpus, out_len, throughput) in enumerate(runs):
        doc = fx.vllm_bench_serve(
            model_id="org/w",
            tensor_parallel_size=gpus,
            total_output_tokens=n * out_len,
            output_throughput=throughput,
        )
        if backend == "sglang":
            doc["backend"] = doc["endpoint_type"] = "sglang"
        path = tmp_path / f"w{i}.json"
        path.write_text(json.dumps(doc))
        cli("bench", "import", str(path), "--recipe", recipe, "-b", backend, db_url=db_url)
    return db_url


def test_without_lengths_only_the_common_scenario_ranks(cli: Callable[..., Any], workloads: str) -> None:
    chosen = json.loads(
        cli("select", "org/w", "4", "-b", "any", "--hardware", "any", "--json", db_url=workloads).stdout
    )
    assert (chosen["recipe_id"], chosen["backend"], chosen["score"]) == ("w-b", "sglang", 5000.0)
    assert chosen["scenario"] == {
        "input_len": 1024,
        "output_len": 1024,
        "default": ["input_len", "output_len"],
    }
    assert (chosen["benchmark"]["input_len"], chosen["benchmark"]["output_len"]) == (1024, 1024)
    human = cli("select", "org/w", "4", "-b", "any", "--hardware", "any", db_url=workloads).stdout
    assert "scenario: input_len 1024, output_len 1024, concurrency 64 (the scenario most candidates" in human
    # Asking for the other workload ranks its rows.
    short = ("--input-len", "1024", "--output-len", "128")
    asked = json.loads(
        cli(
            "select", "org/w", "4", "-b", "any", "--hardware", "any", *short, "--json", db_url=workloads
        ).stdout
    )
    assert (asked["recipe_id"], asked["score"], asked["scenario"]["default"]) == ("w-a", 9000.0, [])


def test_the_single_copy_comparison_is_at_the_same_scenario(cli: Callable[..., Any], workloads: str) -> None:
    base = ("select", "org/w", "-b", "any", "--hardware", "any", "--host-gpus", "8")
    human = cli(*base, db_url=workloads).stdout
    # SGLang on 4 GPUs wins per GPU at 1024/1024; one 8-GPU copy is compared at 1024/1024
    # too (8,000), not with its 20,000 of the 1024/128 workload.
    line = "2 x 4 gpu (sglang) -> 10,000 tok/s on 8 gpus; 1 x 8 gpu would give 8,000 tok/s"
    assert line in human.lower(), human
    assert "won among the counts that fit" in human


def test_explain_says_a_config_with_rows_of_another_scenario_does_not_compare(
    cli: Callable[..., Any], workloads: str, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    write_recipe("w-c", model="org/w", configs={"sglang": {8: {"enabled": True}}})
    cli("ingest", str(tmp_path / "recipes"), db_url=workloads)
    short = fx.vllm_bench_serve(model_id="org/w", tensor_parallel_size="8", total_output_tokens=640 * 2048)
    short["backend"] = short["endpoint_type"] = "sglang"
    path = tmp_path / "short.json"
    path.write_text(json.dumps(short))
    cli("bench", "import", str(path), "--recipe", "w-c", db_url=workloads)
    explained = json.loads(
        cli("explain", "org/w", "8", "-b", "any", "--hardware", "any", "--json", db_url=workloads).stdout
    )
    reasons = {v["recipe_id"]: (v["verdict"], v["reason"]) for v in explained["verdicts"]}
    assert reasons["w-a"][0] == "chosen" and "output_throughput 8000" in reasons["w-a"][1]  # at 1024/1024
    assert "no comparable benchmark (1 of other lengths)" in reasons["w-c"][1], reasons


# --------------------------------------------------------------------------- 7. wording


def test_request_throughput_is_said_in_requests_per_second(cli: Callable[..., Any], workloads: str) -> None:
    base = (
        "select",
        "org/w",
        "-b",
        "any",
        "--hardware",
        "any",
        "--host-gpus",
        "8",
        "--metric",
        "request_throughput",
    )
    human = cli(*base, db_url=workloads).stdout
    assert "-> 7.8 req/s on 8 GPUs; 1 x 8 GPU would give 3.9 req/s" in human, human


def test_hardware_asked_is_not_said_to_be_the_hosts(cli: Callable[..., Any], workloads: str) -> None:
    explained = json.loads(
        cli("explain", "org/w", "4", "--hardware", "MI355X", "--json", code=3, db_url=workloads).stdout
    )
    assert (
        explained["verdicts"][0]["reason"]
        == "hardware mismatch: recipe is for MI300X, --hardware asks for MI355X"
    )
    # No GPU detected and no --host-gpus: the count did not win "among the counts that fit".
    human = cli("select", "org/w", "-b", "any", "--hardware", "any", db_url=workloads).stdout
    assert "won among every count (host GPUs unknown), per GPU" in human


# --------------------------------------------------------------------------- 6. the views agree


def test_the_leaderboard_ranks_one_scenario_and_names_both_images(
    cli: Callable[..., Any], workloads: str
) -> None:
    board = json.loads(cli("report", "leaderboard", "-f", "json", db_url=workloads).stdout)
    by_gpus = {entry["gpu_count"]: entry for entry in board}
    assert set(by_gpus) == {4, 8}
    for gpus, entry in by_gpus.items():
        chosen = json.loads(
            cli(
                "select", "org/w", str(gpus), "-b", "any", "--hardware", "any", "--json", db_url=workloads
            ).stdout
        )
        assert (entry["recipe_id"], entry["backend"], entry["throughput"]) == (
            chosen["recipe_id"],
            chosen["backend"],
            chosen["score"],
        )
        assert (entry["scenario_input_len"], entry["scenario_output_len"]) == (1024, 1024)
    assert by_gpus[4]["backend"] == "sglang"  # not vLLM's 9,000 of the 1024/128 workload
    entry = by_gpus[4]
    assert (entry["request_rate"], entry["failed"], entry["benchmark_image"], entry["config_image"]) == (
        None,
        0,
        None,
        None,
    )


# --------------------------------------------------------------------------- 4. pareto


@pytest.fixture
def rerun_charted(
    cli: Callable[..., Any], make_catalog: Callable[..., Any], db_url: str, tmp_path: Path
) -> str:
    """org/fp4 on MI355X, SGLang 4 and 8 GPUs. InferenceX rows: 1024/1024 for both configs
    (two runs of 4 GPUs at concurrency 64), 8192/1024 for 4 GPUs only; one row has only
    TPOT p99, one only the interactivity keys."""
    fp4 = {"sglang": {4: {"enabled": True}, 8: {"enabled": True}}}
    make_catalog(
        {"fp4": {"model": "org/fp4", "hardware": "MI355X", "precision": "mxfp4", "configs": fp4}}, into=db_url
    )
    p99_only = fx.inferencex_agg(model="org/fp4", tp=8, conc=32, tput_per_gpu=900.0)
    del p99_only["median_tpot"], p99_only["median_intvty"]
    intvty_only = fx.inferencex_agg(model="org/fp4", tp=8, conc=64, tput_per_gpu=1200.0)
    for stat in ("mean", "median", "std", "p99"):
        del intvty_only[f"{stat}_tpot"]
    rows = [
        fx.inferencex_agg(model="org/fp4", conc=64, tput_per_gpu=3000.0, median_tpot=0.020),
        fx.inferencex_agg(model="org/fp4", conc=64, tput_per_gpu=2800.0, median_tpot=0.016),  # a rerun
        p99_only,
        intvty_only,
        fx.inferencex_agg(
            model="org/fp4", conc=64, isl=8192, osl=1024, tput_per_gpu=9000.0, median_tpot=0.01
        ),
    ]
    path = tmp_path / "agg_bmk.json"
    path.write_text(json.dumps(rows, indent=2))
    cli("bench", "import", str(path), db_url=db_url)
    return db_url


def test_pareto_charts_one_scenario_keeps_reruns_and_falls_back_to_p99(
    cli: Callable[..., Any], rerun_charted: str
) -> None:
    got = json.loads(cli("report", "pareto", "org/fp4", "-f", "json", db_url=rerun_charted).stdout)
    points = sorted(
        (r["config"], r["scenario"], r["concurrency"], r["tok/s per GPU"], r["tok/s per user"], r["tpot"])
        for r in got
    )
    assert points == [
        ("fp4 sglang 4 GPU", "1024/1024 tokens", 64, 2800.0, 62.5, "p50"),
        ("fp4 sglang 4 GPU", "1024/1024 tokens", 64, 3000.0, 50.0, "p50"),
        ("fp4 sglang 8 GPU", "1024/1024 tokens", 32, 900.0, 62.5, "p99"),  # p99 = 2 x 8 ms
        ("fp4 sglang 8 GPU", "1024/1024 tokens", 64, 1200.0, pytest.approx(131.6, abs=0.1), "p50"),
    ]
    other = json.loads(
        cli(
            "report",
            "pareto",
            "org/fp4",
            "--input-len",
            "8192",
            "--output-len",
            "1024",
            "-f",
            "json",
            db_url=rerun_charted,
        ).stdout
    )
    assert [(r["config"], r["scenario"], r["tok/s per GPU"]) for r in other] == [
        ("fp4 sglang 4 GPU", "8192/1024 tokens", 9000.0)
    ]


def test_pareto_of_a_bundled_model_charts_or_says_why(cli: Callable[..., Any]) -> None:
    charted = cli("report", "pareto", "deepseek-ai/DeepSeek-R1-0528", "-f", "json").stdout
    rows = json.loads(charted)
    assert rows and all(r["tpot"] == "p99" and r["scenario"] == "1024/1024 tokens" for r in rows)
    err = cli("report", "pareto", "amd/Llama-3.1-70B-Instruct-FP8-KV", code=3).stderr
    assert len(err.strip().splitlines()) == 1
    assert "none has a TPOT (p50 or p99)" in err and "bench import" in err


# --------------------------------------------------------------------------- 5. dry-run replicas


def test_dry_run_replicas_without_gpus_show_disjoint_placeholders(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    # The cli fixture points sysfs at an empty directory: no GPU is detected.
    out = cli("launch", "Qwen/Qwen3-32B", "4", "--replicas", "3", "--dry-run", "--json").stdout
    specs = json.loads(out)
    shown = [[int(i) for i in s["labels"]["aim-catalog.gpus"].split(",")] for s in specs]
    assert [len(gpus) for gpus in shown] == [4, 4, 4]
    assert len({i for gpus in shown for i in gpus}) == 12, shown  # no GPU shown for two copies
