"""Selection: ranking by stored throughput, deterministic ties, filters, and explain."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from support.bench_results import vllm_result, write_json

from aim_catalog.backends.server_args import server_argv
from aim_catalog.errors import NoSuitableRecipe
from aim_catalog.recipes.files import load_recipes
from aim_catalog.recipes.ingest import ingest
from aim_catalog.selection.best import select_best
from aim_catalog.selection.explaining import explain
from aim_catalog.selection.listing import supported_configurations
from aim_catalog.selection.request import Request
from aim_catalog.storage import db
from aim_catalog.storage.models import Benchmark
from aim_catalog.storage.resources import seed_recipe_dir

M = "org/model-a"


def bench(value: float | None = None, **kw: Any) -> dict[str, Any]:
    row = dict(kw)
    if value is not None:
        row["output_throughput"] = value
    return row


def pick(engine: Engine, **kw: Any) -> Any:
    with db.session_factory(engine)() as session:
        return select_best(session, Request(model=kw.pop("model", M), **kw))


def verdicts(engine: Engine, **kw: Any) -> dict[tuple[str, str | None, int | None], Any]:
    with db.session_factory(engine)() as session:
        found = explain(session, Request(model=kw.pop("model", M), **kw))
    return {(v.recipe_id, v.backend, v.gpu_count): v for v in found}


def vllm(
    n: int = 4, enabled: bool = True, rows: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"enabled": enabled, **extra}
    if rows:
        body["benchmarks"] = rows
    return {"vllm": {n: body}}


def test_highest_stored_throughput_wins(selection_catalog: Callable[..., Engine]) -> None:
    engine = selection_catalog(
        {
            "a-slow": {"configs": vllm(rows=[bench(100), bench(150)])},
            "b-fast": {"configs": vllm(rows=[bench(300)])},
            "c-none": {"configs": vllm()},
        }
    )
    chosen = pick(engine, gpus=4)
    assert (chosen.recipe_id, chosen.score, chosen.metric) == ("b-fast", 300.0, "output_throughput")
    found = verdicts(engine, gpus=4)
    assert found[("b-fast", "vllm", 4)].verdict == "chosen"
    assert found[("a-slow", "vllm", 4)].reason.startswith("ranked 2 of 3")
    assert "150" in found[("a-slow", "vllm", 4)].reason  # its best row, not its first
    assert found[("c-none", "vllm", 4)].reason == "ranked 3 of 3: vLLM 4 GPU, no benchmark"


def test_ties_break_by_recipe_id(selection_catalog: Callable[..., Engine]) -> None:
    engine = selection_catalog(
        {"zeta": {"configs": vllm(rows=[bench(5)])}, "alpha": {"configs": vllm(rows=[bench(5)])}}
    )
    assert pick(engine, gpus=4).recipe_id == "alpha"
    assert "tie; recipe_id after alpha" in verdicts(engine, gpus=4)[("zeta", "vllm", 4)].reason


def test_without_any_benchmark_the_first_recipe_id_wins(selection_catalog: Callable[..., Engine]) -> None:
    engine = selection_catalog({"m2": {"configs": vllm()}, "m1": {"configs": vllm()}})
    chosen = pick(engine, gpus=4)
    assert (chosen.recipe_id, chosen.score, chosen.metric, chosen.benchmark) == (
        "m1",
        None,
        None,
        None,
    )


def test_disabled_configs_never_win(selection_catalog: Callable[..., Engine]) -> None:
    engine = selection_catalog(
        {"off": {"configs": vllm(enabled=False, rows=[bench(999)])}, "on": {"configs": vllm()}}
    )
    assert pick(engine, gpus=4).recipe_id == "on"
    assert verdicts(engine, gpus=4)[("off", "vllm", 4)].reason == "disabled: vLLM 4 GPU"


def test_total_token_throughput_is_the_fallback_and_says_so(selection_catalog: Callable[..., Engine]) -> None:
    engine = selection_catalog(
        {
            "published": {
                "configs": vllm(rows=[{"total_token_throughput": 900.0, "input_len": 128, "source": "AMD"}])
            },
            "measured": {"configs": vllm(rows=[bench(500, total_token_throughput=1000.0)])},
        }
    )
    chosen = pick(engine, gpus=4)
    assert (chosen.recipe_id, chosen.metric, chosen.score) == (
        "published",
        "total_token_throughput",
        900.0,
    )
    assert chosen.benchmark == {
        "input_len": 128,
        "output_len": None,
        "concurrency": None,
        "source": "AMD",
        "measured_at": None,
        "image": None,
        "nominal_input_len": None,
        "nominal_output_len": None,
        "dataset": None,
        "request_rate": None,
    }
    # An explicit metric uses that column only.
    explicit = pick(engine, gpus=4, metric="total_token_throughput")
    assert (explicit.recipe_id, explicit.score) == ("measured", 1000.0)


def test_request_throughput_metric_ignores_rows_without_it(selection_catalog: Callable[..., Engine]) -> None:
    engine = selection_catalog(
        {
            "x": {"configs": vllm(rows=[bench(10_000)])},
            "y": {"configs": vllm(rows=[{"request_throughput": 3.5}])},
        }
    )
    chosen = pick(engine, gpus=4, metric="request_throughput")
    assert (chosen.recipe_id, chosen.score) == ("y", 3.5)


def test_hardware_filter_and_its_explanation(selection_catalog: Callable[..., Engine]) -> None:
    engine = selection_catalog(
        {
            "on-300": {"hardware": "MI300X", "configs": vllm(rows=[bench(1)])},
            "on-355": {"hardware": "mi355x", "configs": vllm(rows=[bench(2)])},
        }
    )
    assert pick(engine, gpus=4, hardware="MI300X").recipe_id == "on-300"
    assert pick(engine, gpus=4, hardware="mi355x").recipe_id == "on-355"
    assert pick(engine, gpus=4, hardware=None).recipe_id == "on-355"  # no filter: best overall
    reason = verdicts(engine, gpus=4, hardware="MI300X")[("on-355", "vllm", 4)].reason
    assert reason == "hardware mismatch: recipe is for MI355X, --hardware asks for MI300X"


def test_backend_any_takes_the_best_of_both(selection_catalog: Callable[..., Engine]) -> None:
    engine = selection_catalog(
        {
            "v": {"configs": vllm(rows=[bench(100)])},
            "s": {"configs": {"sglang": {4: {"enabled": True, "benchmarks": [bench(200)]}}}},
        }
    )
    assert pick(engine, gpus=4).recipe_id == "v"  # default backend is vllm
    chosen = pick(engine, gpus=4, backend="any")
    assert (chosen.recipe_id, chosen.backend) == ("s", "sglang")
    assert (
        verdicts(engine, gpus=4)[("s", "vllm", 4)].reason
        == "no such backend: the recipe has no vllm_serve configs"
    )


def test_omitted_gpu_count_lets_every_fitting_count_compete(selection_catalog: Callable[..., Engine]) -> None:
    engine = selection_catalog(
        {
            "m": {
                "configs": {
                    "vllm": {
                        1: {"enabled": True, "benchmarks": [bench(10)]},  # 10 per GPU
                        4: {"enabled": True, "benchmarks": [bench(60)]},  # 15 per GPU
                        8: {"enabled": True, "benchmarks": [bench(160)]},  # 20 per GPU
                    }
                }
            }
        }
    )
    assert pick(engine).gpu_count == 8  # no GPU detected: all counts compete
    assert pick(engine, max_gpus=4).gpu_count == 4
    found = verdicts(engine, max_gpus=4)
    assert found[("m", "vllm", 4)].verdict == "chosen"
    assert found[("m", "vllm", 1)].reason.startswith("ranked 2 of 2")
    assert ("m", "vllm", 8) not in found


def test_explain_names_every_kind_of_loser(selection_catalog: Callable[..., Engine]) -> None:
    engine = selection_catalog(
        {
            "fp8": {"precision": "fp8", "configs": vllm(rows=[bench(1)])},
            "two-only": {"configs": {"vllm": {1: {"enabled": True}, 2: {"enabled": True}}}},
            "winner": {"configs": vllm(rows=[bench(1)])},
        }
    )
    found = verdicts(engine, gpus=4)
    assert found[("fp8", "vllm", 4)].reason == "precision mismatch: recipe is fp8, asked bf16"
    assert found[("two-only", "vllm", 4)].reason == "no 4-GPU config (has 1, 2)"
    assert found[("winner", "vllm", 4)].reason == (
        "chosen: vLLM 4 GPU, output_throughput 1; measured on an image the row does not name "
        "(date not recorded): it may not be what this config runs (best of 1)"
    )
    assert [v.verdict for v in verdicts(engine, gpus=4).values()].count("chosen") == 1


def test_no_match_lists_the_supported_configurations(selection_catalog: Callable[..., Engine]) -> None:
    engine = selection_catalog({"m": {"configs": {"vllm": {1: {"enabled": True}, 2: {"enabled": False}}}}})
    with pytest.raises(NoSuitableRecipe) as caught:
        pick(engine, gpus=16, precision="fp8")
    assert str(caught.value).splitlines() == [
        f"No suitable recipe found for {M}",
        f"{M} supported configurations:",
        "- 1 GPU, bf16, vLLM: ✅ Enabled",
        "- 2 GPU, bf16, vLLM: ❌ Disabled",
    ]
    with pytest.raises(NoSuitableRecipe, match="no recipe for nobody/none"):
        pick(engine, model="nobody/none", gpus=1)


def test_seed_catalog_answers_the_seed_design_example(engine: Engine) -> None:
    docs, _, _ = load_recipes([seed_recipe_dir()])
    with db.session_factory(engine).begin() as session:
        ingest(session, docs)
        lines = supported_configurations(session, "Qwen/Qwen3-32B")
    chosen = pick(engine, model="Qwen/Qwen3-32B", gpus=4, precision="bf16", backend="vllm")
    assert chosen.recipe_id == "qwen3-32b-mi300x-bf16"
    assert server_argv(chosen.args)[:2] == ["--model", "Qwen/Qwen3-32B"]
    assert lines == ["Qwen/Qwen3-32B supported configurations:"] + [
        f"- {n} GPU, bf16, {label}: ✅ Enabled" for label in ("vLLM", "sglang") for n in (1, 2, 4, 8)
    ]
    # The published 70B figures: the June 2025 image has the best 128/2048 throughput.
    best = pick(engine, model="amd/Llama-3.1-70B-Instruct-FP8-KV", gpus=8, precision="fp8")
    assert (best.recipe_id, best.score) == ("llama-3-1-70b-fp8-kv-mi300x-fp8-vllm-2025-06", 16581.5)
    assert best.metric == "total_token_throughput"


def test_an_unasked_backend_falls_back_only_when_the_model_has_no_config_of_the_default(
    selection_catalog: Callable[..., Engine],
) -> None:
    """`launch deepseek-ai/DeepSeek-R1-0528 8 -p fp8`: a model served only by
    SGLang/ATOM is answered when --backend is not given, and says so; an explicit --backend
    vllm still finds nothing, and a model that has vLLM configs (on other hardware) is not
    silently switched to another backend."""
    engine = selection_catalog(
        {
            "only-sglang": {"configs": {"sglang": {8: {"enabled": True, "benchmarks": [bench(50.0)]}}}},
            "only-atom": {"configs": {"atom": {8: {"enabled": True, "benchmarks": [bench(70.0)]}}}},
            "b-vllm-mi300x": {"model": "org/b", "configs": {"vllm": {8: {"enabled": True}}}},
            "b-sglang-mi355x": {
                "model": "org/b",
                "hardware": "MI355X",
                "configs": {"sglang": {8: {"enabled": True}}},
            },
        }
    )
    chosen = pick(engine, gpus=8, backend_defaulted=True)
    assert (chosen.recipe_id, chosen.backend, chosen.any_backend) == ("only-atom", "atom", True)
    with pytest.raises(NoSuitableRecipe):
        pick(engine, gpus=8)  # --backend vllm given: no fallback
    assert pick(engine, gpus=8, backend="any").any_backend is False
    found = verdicts(engine, gpus=8, backend_defaulted=True)
    assert found[("only-atom", "atom", 8)].verdict == "chosen"
    assert found[("only-sglang", "sglang", 8)].verdict == "ranked"
    with pytest.raises(NoSuitableRecipe):
        pick(engine, model="org/b", gpus=8, hardware="MI355X", backend_defaulted=True)


MODEL = "org/bench-model"

# --------------------------------------------------------------------------- scenario and SLO selection


def test_slo_and_scenario_decide_the_winner(
    cli: Callable[..., Any], bench_catalog: str, tmp_path: Path
) -> None:
    fast_but_slow_start = write_json(
        tmp_path / "a.json", vllm_result(output_throughput=3000.0, p99_ttft_ms=812.0)
    )
    slower_but_snappy = write_json(
        tmp_path / "b.json", vllm_result(output_throughput=2000.0, p99_ttft_ms=310.0)
    )
    cli(
        "bench",
        "import",
        str(fast_but_slow_start),
        "--recipe",
        "bench-a",
        "-b",
        "vllm",
        "--gpus",
        "4",
        db_url=bench_catalog,
    )
    cli(
        "bench",
        "import",
        str(slower_but_snappy),
        "--recipe",
        "bench-b",
        "-b",
        "vllm",
        "--gpus",
        "4",
        db_url=bench_catalog,
    )

    def pick(*extra: str, code: int = 0) -> Any:
        result = cli("select", MODEL, "4", "--json", *extra, code=code, db_url=bench_catalog)
        return json.loads(result.stdout) if code == 0 else result

    assert pick()["recipe_id"] == "bench-a"
    assert pick("--max-ttft-ms", "500")["recipe_id"] == "bench-b"
    assert pick("--max-ttft-ms", "500", "--concurrency", "64")["recipe_id"] == "bench-b"
    assert "No suitable recipe found" in pick("--max-ttft-ms", "100", code=3).stderr
    # No row of that scenario: nobody has a benchmark, so the tie breaks by recipe_id.
    assert pick("--concurrency", "8") | {} == pick("--concurrency", "8")
    assert (pick("--concurrency", "8")["recipe_id"], pick("--concurrency", "8")["score"]) == ("bench-a", None)
    explained = json.loads(
        cli("explain", MODEL, "4", "--max-ttft-ms", "500", "--json", db_url=bench_catalog).stdout
    )
    reasons = {v["recipe_id"]: v["reason"] for v in explained["verdicts"]}
    assert reasons["bench-a"] == "misses the SLO: ttft p99 812 ms > 500 ms"
    assert reasons["bench-b"].startswith("chosen: vLLM 4 GPU, output_throughput 2000")
    explained = json.loads(
        cli(
            "explain",
            MODEL,
            "4",
            "--max-ttft-ms",
            "500",
            "--input-len",
            "99",
            "--json",
            code=3,
            db_url=bench_catalog,
        ).stdout
    )
    assert {v["reason"] for v in explained["verdicts"]} == {"SLO unproven: no benchmark for input_len 99"}


# --------------------------------------------------------------------------- one scenario ranks


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
    assert "scenario: input_len 1024, output_len 1024 (the scenario most candidates" in human
    assert "operating point: concurrency 64 (measured): 5,000 tok/s (1,250 tok/s per GPU)" in human
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


# --------------------------------------------------------------------------- wording


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


# --------------------------------------------------------------------------- ranking


def test_smoke_rows_never_outrank_a_benchmark(
    engine: Engine, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    """A smoke test (origin 'smoke') at 10x the throughput changes no ranking, on both dialects."""
    model = "org/model-a"
    write_recipe("r-measured", model=model, configs={"vllm": {1: {"enabled": True}}})
    write_recipe("r-smoked", model=model, configs={"vllm": {1: {"enabled": True}}})
    docs, problems, _ = load_recipes([tmp_path / "recipes"])
    assert problems == []
    sessions = db.session_factory(engine)
    with sessions.begin() as session:
        ingest(session, docs)
    with engine.connect() as conn:
        query = "SELECT r.recipe_id, sc.id FROM recipes r JOIN serve_configs sc ON sc.recipe_pk = r.id"
        ids = {recipe_id: config for recipe_id, config in conn.execute(text(query))}
    assert sorted(ids) == ["r-measured", "r-smoked"]
    with sessions.begin() as session:
        session.add(Benchmark(serve_config_id=ids["r-measured"], origin="import", output_throughput=1000.0))
        session.add(Benchmark(serve_config_id=ids["r-smoked"], origin="import", output_throughput=500.0))
        session.add(Benchmark(serve_config_id=ids["r-smoked"], origin="smoke", output_throughput=10_000.0))
    with sessions() as session:
        chosen = select_best(session, Request(model=model, gpus=1))
        assert (chosen.recipe_id, chosen.score) == ("r-measured", 1000.0)
        ranked = {v.recipe_id: v for v in explain(session, Request(model=model, gpus=1))}
    assert ranked["r-smoked"].score == 500.0  # its real run, not the smoke test
    with sessions.begin() as session:  # only smoke rows: the config ranks as unmeasured
        session.execute(text("DELETE FROM benchmarks WHERE origin = 'import' AND output_throughput = 500"))
    with sessions() as session:
        ranked = {v.recipe_id: v for v in explain(session, Request(model=model, gpus=1))}
    assert ranked["r-smoked"].score is None


def test_select_with_debug_logging_runs_one_more_statement_not_a_whole_explain(
    selection_catalog: Callable[..., Engine], caplog: pytest.LogCaptureFixture
) -> None:
    """`select -v` logs every match check. It ran a whole explain to do so (ranked reasons,
    a second query for configs without a comparable row...); now the explain statement alone."""
    import logging

    from sqlalchemy import event

    engine = selection_catalog(
        {"a-fast": {"configs": vllm(rows=[bench(300)])}, "b-none": {"configs": vllm()}}
    )
    ran: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's explicit BEGIN: once
            ran.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    request = Request(model=M, gpus=4, backend="vllm")  # a backend given: nothing to resolve
    with db.session_factory(engine)() as session:
        assert select_best(session, request).recipe_id == "a-fast"
        quiet = len(ran)
        ran.clear()
        with caplog.at_level(logging.DEBUG, logger="aim_catalog"):
            assert select_best(session, request).recipe_id == "a-fast"
    assert len(ran) == quiet + 1
    assert "Checking recipe b-none" in caplog.messages and "GPU count match: True" in caplog.messages
