"""Rows of the InferenceX app's API (``GET /api/v1/benchmarks?model=...``, inferencex.semianalysis.com).

Shape: ``interface BenchmarkRow`` of ``packages/db/src/queries/benchmarks.ts`` in
``SemiAnalysisAI/InferenceX-app`` as of commit 528c4146b8f5 (2026-06-14; the fork
``vngcloud/InferenceX-app`` holds that commit; ``../shared/reference/inferencex-results/api/
benchmarks.528c414.json`` was captured from it). A JSON array of objects with ``hardware``
(the GPU key, ``mi355x``), ``framework`` (the app's canonical name: ``sglang``, ``atom``,
``mori-sglang``, ``dynamo-sglang``...), ``model`` (the app's short key, ``dsr1``),
``precision`` (``fp8``, ``fp4``), ``spec_method`` (``mtp`` or ``none``), ``disagg``,
``is_multinode``, ``prefill_*``/``decode_*`` parallelism (``decode_tp`` is the TP of a
single-node row), ``isl``, ``osl``, ``conc``, ``image`` (may be null), ``metrics`` (the
InferenceX agg row's figures: ``tput_per_gpu``..., latencies in seconds, power), ``date``
(the UTC day the GitHub run was created, ``packages/db/src/ingest-ci-run.ts``) and
``run_url`` (the workflow run's attempt). The figures are read by the agg reader
(``inferencex``), so both dialects map every key the same way; ``date`` becomes
``measured_at`` and ``run_url`` the row's ``source``.

The short model key names a model family, not a checkpoint: ``MODELS`` maps it (with the
precision and speculative method, which pick the checkpoint InferenceX serves) to a
Hugging Face id. A key not in the table is skipped with its reason. Disaggregated and
multi-node rows (``mori-*``, ``dynamo-*``, ``*-disagg``) are skipped with their reason,
rows on other GPUs in one line per file.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from aim_catalog.backends.registry import BACKENDS
from aim_catalog.measurements.importers import inferencex  # the agg reader: one mapping of the figures
from aim_catalog.measurements.importers.common import Fields, NotAmd, Run, Skip

TOOL = "inferencex-api"
TITLE = "InferenceX"  # one family with the agg files, for the "not a ... result" message
SOURCE = "InferenceX app API"
_AMD_GPU = re.compile(r"^mi[0-9]{3}[a-z]?$", re.IGNORECASE)
_RUN_URL = re.compile(
    r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/actions/runs/[0-9]+(/attempts/[0-9]+)?$"
)

# (app model key, precision, spec_method or None for any) -> Hugging Face id. The app has the
# inverse only, many-to-one: MODEL_TO_KEY in packages/db/src/etl/normalizers.ts
# (SemiAnalysisAI/InferenceX-app). Of its ids for a key, the one InferenceX's AMD configs
# serve (configs/amd-master.yaml `model:`, SemiAnalysisAI/InferenceX @843c6254, unchanged
# since 2026-02-25): DeepSeek-R1 fp4 runs the MXFP4 Preview checkpoint, its MTP entries the
# MXFP4 one; the disaggregated fp4 entries (MXFP4-v2) are skipped before this table.
MODELS: dict[tuple[str, str, str | None], str] = {
    ("dsr1", "fp8", None): "deepseek-ai/DeepSeek-R1-0528",
    ("dsr1", "fp4", "none"): "amd/DeepSeek-R1-0528-MXFP4-Preview",
    ("dsr1", "fp4", "mtp"): "amd/DeepSeek-R1-0528-MXFP4",
    ("gptoss120b", "fp4", "none"): "openai/gpt-oss-120b",  # the key's only id in MODEL_TO_KEY
}


def matches(obj: dict[str, Any]) -> bool:
    return "hardware" in obj and "metrics" in obj and "spec_method" in obj


def hugging_face_id(key: str, precision: str, spec: str) -> str | None:
    """The checkpoint an app row of model ``key`` measured, or None when the table has none."""
    key, precision, spec = key.lower(), precision.lower(), spec.lower()
    return MODELS.get((key, precision, spec)) or MODELS.get((key, precision, None))


def read(obj: dict[str, Any], path: str, line: int, engine: Any) -> tuple[Run | None, Fields]:
    f = Fields(obj, path, line)
    hardware = f.text("hardware", max_len=64)
    framework = f.text("framework", max_len=32)
    key = f.text("model", max_len=64)
    precision = f.text("precision", max_len=16)
    spec = f.text("spec_method", max_len=32) or "none"
    if hardware is not None and not _AMD_GPU.match(hardware):
        raise NotAmd(hardware)
    if framework is not None:
        lowered = framework.lower()
        if (
            obj.get("disagg") is True
            or obj.get("is_multinode") is True
            or lowered.startswith(("dynamo-", "mori-"))
            or lowered.endswith("-disagg")
        ):
            raise Skip(
                f"a multi-node/disaggregated row (framework {framework!r}): prefill and decode "
                "workers, not one serve config"
            )
        if lowered not in BACKENDS:
            raise Skip(f"framework {framework!r} is not a backend of this catalog ({', '.join(BACKENDS)})")
    metrics = obj.get("metrics")
    if not isinstance(metrics, dict):
        f.bad("metrics", "must be an object of the run's figures")
    measured_at = _day(f)
    source = f.text("run_url", max_len=1000)
    if source is not None and not _RUN_URL.match(source):
        f.bad("run_url", "must be a GitHub Actions run URL (https://github.com/OWNER/REPO/actions/runs/ID)")
    if key is None and not f.problems:
        f.bad("model", "missing: the app's model key (dsr1, gptoss120b...)")
    if f.problems or not isinstance(metrics, dict) or key is None:
        return None, f
    model = hugging_face_id(key, precision or "", spec)
    if model is None:
        known = ", ".join(sorted({k for k, _, _ in MODELS}))
        raise Skip(
            f"model key {key!r} ({precision} precision, spec {spec}) has no Hugging Face id in "
            f"this reader's table (known: {known}): import it with --recipe"
        )
    # The agg shape: the figures, then the row's own facts (they win over a stray metric key).
    flat = {
        **metrics,
        "hw": hardware,
        "framework": framework,
        "model": model,
        "precision": precision,
        "spec_decoding": spec,
        "isl": obj.get("isl"),
        "osl": obj.get("osl"),
        "conc": obj.get("conc"),
        "image": obj.get("image"),
        "tp": obj.get("decode_tp"),
    }
    run, fields = inferencex.read(flat, path, line, engine)
    if run is None:
        return None, fields
    run.tool = TOOL
    if measured_at is not None:
        run.row["measured_at"] = measured_at
    if source is not None:
        run.row["source"] = source
    return run, fields


def _day(f: Fields) -> str | None:
    """``date`` as the app writes it (``YYYY-MM-DD``), kept as written."""
    value = f.text("date", max_len=10)
    if value is None:
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        f.bad("date", f"must be a day (YYYY-MM-DD), got {value!r}")
        return None
    return value
