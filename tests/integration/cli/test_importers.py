"""InferenceX single-node rows with the harness's prefill keys are imported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.bench_results import dsr1


def test_single_node_rows_with_the_harness_prefill_keys_are_imported(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    """benchmark_lib.sh (InferenceX 843c6254) writes prefill_tp/decode_tp = TP and
    is_multinode false into every run's metadata: such a row is single-node."""
    row = dsr1("none", prefill_tp=8, prefill_ep=1, prefill_num_workers=1, decode_tp=8, decode_num_workers=1)
    path = tmp_path / "agg_run.json"
    path.write_text(json.dumps(row))
    assert "imported 1 run(s)" in cli("bench", "import", str(path)).stdout
