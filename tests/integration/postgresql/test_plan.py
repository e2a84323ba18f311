"""`Catalog.plan` on both dialects over the bundled catalog, checked against figures computed
by hand from the real InferenceX rows the bundle was made from
(../shared/reference/inferencex-results/api/benchmarks.528c414.json: the InferenceX API's
rows, per-GPU throughputs and latencies in seconds, written by InferenceX's
utils/process_result.py).

The case: DeepSeek-R1-0528 FP8, SGLang on 8 GPUs, 8192/1024, under a p99 TPOT limit of
110 ms, which every measured point of the three curves below meets, so each config's
operating point is its highest measured concurrency (never extrapolated):

- MI300X (deepseek-r1-0528-mi300x-fp8), lmsysorg/sglang:v0.5.12-rocm700-mi30x, run
  26008678094 (2026-05-18): concurrency 64, output 98.927 tok/s/GPU, p99 TPOT 107.1 ms;
- MI355X (deepseek-r1-0528-mi355x-fp8), lmsysorg/sglang:v0.5.12-rocm700-mi35x, run
  26486957776: concurrency 32, output 140.01 tok/s/GPU, p99 TPOT 44.2 ms;
- MI355X MTP (deepseek-r1-0528-mi355x-fp8-mtp), the same image, run 26197707118:
  concurrency 64, 238.16 tok/s/GPU, p99 TPOT 59.6 ms.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from support.paths import SHARED

from aim_catalog import Catalog
from aim_catalog.errors import NoSuitableRecipe
from aim_catalog.recipes.seed import seed_catalog
from aim_catalog.selection.capacity import PlanOptions, Prices, Target
from aim_catalog.storage import db

API = SHARED / "reference" / "inferencex-results" / "api" / "benchmarks.528c414.json"
MODEL = "deepseek-ai/DeepSeek-R1-0528"
CASE = {
    "deepseek-r1-0528-mi300x-fp8": ("mi300x", "none", "lmsysorg/sglang:v0.5.12-rocm700-mi30x", 64),
    "deepseek-r1-0528-mi355x-fp8": ("mi355x", "none", "lmsysorg/sglang:v0.5.12-rocm700-mi35x", 32),
    "deepseek-r1-0528-mi355x-fp8-mtp": ("mi355x", "mtp", "lmsysorg/sglang:v0.5.12-rocm700-mi35x", 64),
}
SCOPE: dict[str, Any] = {
    "input_len": 8192,
    "output_len": 1024,
    "max_tpot_ms": 110.0,
    "precisions": ("fp8",),
    "backend": "sglang",
    "gpus": (8,),
    "hardware": ("MI300X", "MI355X"),  # MI325X's configs are the bundle's too: left out here
}


def _api_row(hardware: str, spec: str, image: str, conc: int) -> dict[str, Any]:
    rows = [
        r
        for r in json.loads(API.read_text())
        if (r["hardware"], r["model"], r["precision"], r["framework"], r["spec_method"])
        == (hardware, "dsr1", "fp8", "sglang", spec)
        and (r["isl"], r["osl"], r["image"], r["conc"], r["decode_tp"]) == (8192, 1024, image, conc, 8)
    ]
    assert len(rows) == 1, (hardware, spec, conc)
    return dict(rows[0])


def _by_hand() -> dict[str, dict[str, float]]:
    """Per recipe: one replica's output tokens/s (per-GPU figure x 8 GPUs) and p99 TPOT (ms)."""
    out = {}
    for recipe, (hardware, spec, image, conc) in CASE.items():
        metrics = _api_row(hardware, spec, image, conc)["metrics"]
        out[recipe] = {
            "tokens": metrics["output_tput_per_gpu"] * 8,
            "tpot": metrics["p99_tpot"] * 1000,
            "concurrency": conc,
        }
        assert out[recipe]["tpot"] <= SCOPE["max_tpot_ms"]  # the whole curve meets the SLO
    return out


@pytest.fixture
def catalog(db_url: str) -> Any:
    engine = db.make_engine(db_url)
    db.upgrade(engine, on_created=seed_catalog)
    engine.dispose()
    with Catalog.open(db_url) as opened:
        yield opened


def test_replicas_and_gpus_per_config_for_a_token_target(catalog: Any) -> None:
    hand = _by_hand()
    planned = catalog.plan(PlanOptions(MODEL, Target("tokens", 10000.0), **SCOPE))
    by_recipe = {p.recipe_id: p for p in planned.plans}
    assert set(by_recipe) == set(CASE)
    for recipe, figures in hand.items():
        plan = by_recipe[recipe]
        replicas = math.ceil(10000 / figures["tokens"])  # MI300X 13, MI355X 9, MI355X MTP 6
        assert (plan.concurrency, plan.kind) == (figures["concurrency"], "measured")
        assert plan.per_replica["tokens"] == pytest.approx(figures["tokens"], rel=1e-9)
        assert plan.latencies_ms["tpot"] == pytest.approx(figures["tpot"], rel=1e-9)
        assert (plan.replicas, plan.gpus) == (replicas, 8 * replicas)
        assert plan.headroom == pytest.approx(replicas * figures["tokens"] / 10000 - 1)
        assert plan.evidence["kind"] == "measured" and plan.evidence["stale"] is False
    assert [(p.recipe_id, p.gpus) for p in planned.plans] == [
        ("deepseek-r1-0528-mi355x-fp8-mtp", 48),
        ("deepseek-r1-0528-mi355x-fp8", 72),
        ("deepseek-r1-0528-mi300x-fp8", 104),
    ]
    assert planned.warning() is None  # measured on the image the winner launches


def test_a_rate_target_and_costs_rank_by_cost_with_power(catalog: Any) -> None:
    """5 requests/s of 1024 output tokens each; MI300X at 1.00/GPU-hour against MI355X at
    3.00, power at 0.10/kWh: the MI300X plan needs more GPUs but costs least. InferenceX
    measured power (avg_power_w per GPU) for one of the three operating points only (the
    MI355X run 26486957776 at concurrency 32): its energy cost is shown, but the costs that
    rank stay GPU-hours for all, so that they compare, and the plan says so."""
    hand = _by_hand()
    prices = Prices({"MI300X": 1.0, "MI355X": 3.0}, kwh=0.10)
    planned = catalog.plan(PlanOptions(MODEL, Target("rate", 5.0), prices=prices, **SCOPE))
    assert planned.ranked_by == "cost"
    assert any(
        n.startswith("power was measured for some plans only: costs are GPU-hours only")
        for n in planned.notes
    )
    watts = _api_row("mi355x", "none", CASE["deepseek-r1-0528-mi355x-fp8"][2], 32)["metrics"]["avg_power_w"]
    by_recipe = {p.recipe_id: p for p in planned.plans}
    for recipe, figures in hand.items():
        per_replica = figures["tokens"] / 1024  # requests/s: output tokens/s / tokens per request
        replicas = math.ceil(5.0 / per_replica)  # MI300X 7, MI355X 5, MI355X MTP 3
        gpus = replicas * 8
        cost = gpus * (1.0 if "mi300x" in recipe else 3.0)
        plan = by_recipe[recipe]
        assert (plan.replicas, plan.gpus) == (replicas, gpus)
        assert plan.cost_per_hour == pytest.approx(cost)
        assert plan.cost_per_million_tokens == pytest.approx(cost / (5.0 * 1024 * 3600) * 1e6)
        assert any("requests/s = output tokens/s / 1024" in d for d in plan.derived)
        if recipe == "deepseek-r1-0528-mi355x-fp8":
            assert plan.energy_cost_per_hour == pytest.approx(gpus * watts / 1000 * 0.10)
            assert plan.joules_per_output_token == pytest.approx(watts * 8 / figures["tokens"])
        else:
            assert plan.energy_cost_per_hour is None
            assert "no power measured: no energy cost" in plan.derived
    assert planned.best.recipe_id == "deepseek-r1-0528-mi300x-fp8"
    costs = [p.cost_per_hour for p in planned.plans]
    assert costs == sorted(costs)


def test_energy_adds_to_the_cost_when_every_plan_measured_power(catalog: Any) -> None:
    """DeepSeek-R1-0528 MXFP4-Preview on MI355X SGLang, 8192/1024 (lmsysorg/sglang:v0.5.12-
    rocm700-mi35x): InferenceX measured power at every point, so each plan's cost per hour is
    GPU-hours plus energy. No SLO: each config's highest measured throughput (8 GPUs at
    concurrency 16, 4 GPUs at 4)."""
    rows = [
        r
        for r in json.loads(API.read_text())
        if (r["hardware"], r["model"], r["precision"], r["framework"], r["spec_method"], r["isl"], r["osl"])
        == ("mi355x", "dsr1", "fp4", "sglang", "none", 8192, 1024)
        and r["image"] == "lmsysorg/sglang:v0.5.12-rocm700-mi35x"
    ]
    by_tp = {
        r["decode_tp"]: max((x for x in rows if x["decode_tp"] == r["decode_tp"]), key=lambda x: x["conc"])
        for r in rows
    }
    planned = catalog.plan(
        PlanOptions(
            "amd/DeepSeek-R1-0528-MXFP4-Preview",
            Target("tokens", 3000.0),
            input_len=8192,
            output_len=1024,
            precisions=("mxfp4",),
            backend="sglang",
            hardware=("MI355X",),
            prices=Prices({"MI355X": 3.0}, kwh=0.10),
        )
    )
    assert {p.gpus_per_replica for p in planned.plans} == set(by_tp) == {4, 8}
    for plan in planned.plans:
        metrics = by_tp[plan.gpus_per_replica]["metrics"]
        tokens = metrics["output_tput_per_gpu"] * plan.gpus_per_replica
        gpus = math.ceil(3000 / tokens) * plan.gpus_per_replica
        energy = gpus * metrics["avg_power_w"] / 1000 * 0.10
        assert plan.gpus == gpus
        assert plan.energy_cost_per_hour == pytest.approx(energy)
        assert plan.cost_per_hour == pytest.approx(gpus * 3.0 + energy)
    assert not any("power was measured for some plans only" in n for n in planned.notes)


def test_a_limit_no_config_meets_exits_3_naming_the_binding_slo(catalog: Any) -> None:
    """Below every curve's least TPOT: the lowest one reached (MI355X MTP at concurrency 8,
    15.9 ms, run 26197707118) is named."""
    best = (
        _api_row("mi355x", "mtp", CASE["deepseek-r1-0528-mi355x-fp8-mtp"][2], 8)["metrics"]["p99_tpot"] * 1000
    )
    with pytest.raises(NoSuitableRecipe) as caught:
        catalog.plan(PlanOptions(MODEL, Target("users", 64), **{**SCOPE, "max_tpot_ms": 10.0}))
    message = str(caught.value)
    assert "tpot p99 <= 10 ms at any measured concurrency: it binds first" in message
    assert (
        f"the best reached is {best:.4g} ms (deepseek-r1-0528-mi355x-fp8-mtp, sglang, 8 GPU at concurrency 8"
        in message
    )


def test_users_target_and_an_interpolated_operating_point(catalog: Any) -> None:
    """A TPOT limit between two measured MI300X points (41.97 ms at 16, 67.90 ms at 32) puts
    its operating point on the SLO boundary between them: interpolated, said, and the plan's
    first line says so when it wins."""
    planned = catalog.plan(
        PlanOptions(MODEL, Target("users", 100), **{**SCOPE, "max_tpot_ms": 50.0, "hardware": ("mi300x",)})
    )
    (plan,) = planned.plans
    assert plan.kind == "interpolated" and 16 < plan.concurrency < 32
    assert plan.latencies_ms["tpot"] == pytest.approx(50.0, rel=1e-6)
    assert plan.replicas == math.ceil(100 / plan.concurrency)
    assert planned.warning() == "this plan rests on evidence interpolated between measured concurrencies"
    between = [row["concurrency"] for row in plan.evidence["between"]]
    assert between == [16, 32]


def test_a_row_with_only_total_throughput_is_planned_from_it_and_says_how(catalog: Any) -> None:
    """The bundled gpt-oss-120b MI300X vLLM row (InferenceX PR 1092: 219 total tok/s/GPU x 8
    at concurrency 4, 1024/1024) has no output figure: output tokens/s are derived from the
    total and the lengths, and said. Retired upstream: the plan carries that too."""
    planned = catalog.plan(
        PlanOptions(
            "openai/gpt-oss-120b", Target("tokens", 4000.0), precisions=("mxfp4",), hardware=("MI300X",)
        )
    )
    (plan,) = planned.plans
    tokens = 219.0 * 8 * 1024 / (1024 + 1024)
    assert plan.per_replica["tokens"] == pytest.approx(tokens)
    assert (plan.concurrency, plan.replicas, plan.gpus) == (
        4,
        math.ceil(4000 / tokens),
        8 * math.ceil(4000 / tokens),
    )
    assert "output tokens/s = total tokens/s x output/(input + output) length" in plan.derived
    assert plan.retired is not None and plan.retired.startswith("retired upstream on 2026-07-06")
    assert {u.gpus_per_replica for u in planned.unplanned} == {1, 2, 4}  # configs without rows, said


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {"target": Target("tokens", 0.0)},
            "target tokens must be a finite number at least 1e-06 and at most 1e",
        ),
        (
            {"target": Target("users", 1e12)},
            "target users must be a finite number at least 1e-06 and at most 1e",
        ),
        ({"target": "10 req/s"}, "target must be a Target"),
        ({"gpus": (0,)}, "gpus must be"),
        ({"hardware": "MI300X"}, "hardware must be a tuple"),
        ({"percentile": "p95"}, "percentile must be one of p50, p90, p99"),
        ({"input_len": "8k"}, "input_len must be an integer"),
    ],
)
def test_plan_options_refuse_what_the_cli_would(change: dict[str, Any], error: str) -> None:
    from aim_catalog.errors import UsageProblem

    given: dict[str, Any] = {"target": Target("rate", 1.0), **change}
    with pytest.raises(UsageProblem, match=error.replace("(", r"\(")):
        PlanOptions(MODEL, **given)
