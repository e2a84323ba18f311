"""When and why InferenceX retired a benchmark, read from a MODELS.md in the shape of
InferenceX's at commit 843c6254 (``support.inferencex.MODELS_MD``: its "Model support matrix"
and "Scenarios" tables, rows cut to the models used here)."""

from __future__ import annotations

import pytest
from support.inferencex import MODELS_MD, PR

from aim_catalog.sync.inferencex.models_md import Retirement, retirement


def retired(model: str, pr: int) -> str:
    return f"InferenceX retired {model}: no scenario of it runs any more ({PR}{pr})"


def stopped(model: str, what: str, pr: int) -> str:
    return f"InferenceX stopped running {model}'s {what} ({PR}{pr})"


# case -> (prefix, scenario, precision), what MODELS_MD says of it
SAID = {
    "retired-model": (("gptoss", "8k1k", "fp4"), Retirement("2026-07-06", retired("gpt-oss-120b", 2101))),
    "retired-model-second-prefix-of-its-row": (
        ("glm5.1", "8k1k", "fp4"), Retirement("2026-07-18", retired("GLM-5 / GLM-5.1", 2276)),
    ),
    "fully-retired": (
        ("kimik2.5", "8k1k", "int4"), Retirement("2026-08-07", retired("Kimi-K2.5/2.6/2.7-Code", 2527)),
    ),
    "deprecated-scenario-with-its-own-date": (
        ("minimaxm3", "8k1k", "fp8"),
        Retirement("2026-08-04", stopped("MiniMax-M3", "Single-turn 8k1k", 2493)),
    ),
    "deprecated-precision": (
        ("qwen3.5", "8k1k", "bf16"),
        Retirement("2026-08-04", stopped("Qwen3.5-397B-A17B", "all bf16 recipes", 2493)),
    ),
    "scenario-dated-only-in-the-scenarios-table": (
        ("minimaxm3", "1k1k", "fp8"),
        Retirement("2026-07-17", stopped("MiniMax-M3", "Single-turn 1k1k", 2263)),
    ),
    "deprecated-scenario-of-an-active-model": (
        ("dsr1", "1k1k", "fp8"),
        Retirement("2026-07-17", stopped("DeepSeek-R1-0528", "Single-turn 1k1k", 2263)),
    ),
}  # fmt: skip


@pytest.mark.parametrize(("asked", "expected"), SAID.values(), ids=SAID.keys())
def test_retirement_gives_the_date_and_the_reason(asked: tuple[str, str, str], expected: Retirement) -> None:
    assert retirement(MODELS_MD, *asked) == expected


@pytest.mark.parametrize(
    ("prefix", "scenario", "precision"),
    [
        pytest.param("dsr1", "8k1k", "fp8", id="active-model"),
        pytest.param("dsv4", "8k1k", "fp8", id="active-model-with-a-deprecated-scenario"),
        pytest.param("qwen3.5", "8k1k", "fp8", id="active-precision-of-a-model-with-a-retired-one"),
        pytest.param("llama70b", "8k1k", "fp8", id="not-in-the-table"),
    ],
)
def test_retirement_says_nothing_of_what_still_runs(prefix: str, scenario: str, precision: str) -> None:
    assert retirement(MODELS_MD, prefix, scenario, precision) is None


def test_without_models_md_nothing_is_said() -> None:
    assert retirement(None, "gptoss", "8k1k", "fp4") is None
    assert retirement("# Models\n", "gptoss", "8k1k", "fp4") is None


def test_a_retired_model_in_the_shape_of_august_5_is_read_too() -> None:
    """InferenceX's MODELS.md at 02262ec2 (2026-08-05) wrote a retired model's active scenarios
    as "— (retired DATE, [#PR](url))"; 843c6254 writes "None (...)". A checkout at either says
    the model is retired, and when."""
    earlier = MODELS_MD.replace("| None (retired 2026-07-06", "| — (retired 2026-07-06")
    assert "— (retired 2026-07-06" in earlier
    expected = Retirement("2026-07-06", retired("gpt-oss-120b", 2101))
    assert retirement(earlier, "gptoss", "8k1k", "fp4") == expected
