"""The evidence an answer's figure stands on (aim_catalog.selection.evidence), as one line."""

from __future__ import annotations

from dataclasses import replace

from aim_catalog.selection.evidence import Evidence, evidence_of
from aim_catalog.selection.request import Candidate

ROW = {"source": "https://example.org/run/1", "measured_at": "2026-05-20", "image": "repo/img:old"}
BASE = Candidate(
    recipe_id="r", model_id="m", huggingface_id="org/m", hardware="MI300X", precision="bf16",
    backend="vllm", gpu_count=4, enabled=True, args={}, env={}, image="repo/img:new",
    metric="output_throughput", score=100.0, benchmark=ROW,
)  # fmt: skip


def test_a_row_on_another_image_is_stale_and_said_so() -> None:
    evidence = evidence_of(BASE)
    assert evidence == Evidence("measured", ROW["source"], "2026-05-20", "repo/img:old", "repo/img:new", True)
    assert evidence.sentence() == (
        "measured on repo/img:old (2026-05-20); this config now runs repo/img:new: "
        "the figure may be out of date"
    )


def test_a_row_on_the_launch_image_is_current() -> None:
    evidence = evidence_of(replace(BASE, image="repo/img:old"))
    assert evidence.stale is False
    assert evidence.sentence() == "measured on repo/img:old (2026-05-20); the image this config runs"


def test_a_row_that_names_no_image_or_date_is_not_called_current() -> None:
    evidence = evidence_of(replace(BASE, benchmark={"source": "x"}))
    assert (evidence.measured_image, evidence.stale) == (None, None)
    assert evidence.sentence() == (
        "measured on an image the row does not name (date not recorded): it may not be what this config runs"
    )


def test_no_benchmark_is_no_evidence() -> None:
    evidence = evidence_of(replace(BASE, score=None, benchmark=None, metric=None))
    assert evidence == Evidence("none") and evidence.sentence() is None


def test_a_config_without_its_own_image_is_compared_with_the_backend_default() -> None:
    from aim_catalog.backends import images

    default = images.default_image("vllm", "MI300X")
    assert default is not None
    evidence = evidence_of(replace(BASE, image=None, benchmark={**ROW, "image": default}))
    assert (evidence.launch_image, evidence.stale) == (default, False)
