"""``report pareto`` of a bundled model charts it, or says why not."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def test_pareto_of_a_bundled_model_charts_or_says_why(cli: Callable[..., Any]) -> None:
    charted = cli("report", "pareto", "deepseek-ai/DeepSeek-R1-0528", "-f", "json").stdout
    rows = json.loads(charted)
    assert rows and all(r["scenario"] == "1024/1024 tokens" for r in rows)
    # the bundled InferenceX measurements have TPOT p50; the MI325X recipe's own two rows p99 only
    assert sorted(r["tpot"] for r in rows).count("p99") == 2 and len(rows) > 30
    err = cli("report", "pareto", "amd/Llama-3.1-70B-Instruct-FP8-KV", code=3).stderr
    assert len(err.strip().splitlines()) == 1
    assert "none has a TPOT (p50 or p99)" in err and "bench import" in err
