"""The conversion of an InferenceX checkout, on the one laid out from the reference copies of
InferenceX at commit 843c6254 (``support.inferencex``): it gives the bundled recipes' serve
configs field for field, and reports, without producing them, the recipes whose launch
scripts the reference folder does not copy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support.inferencex import ARCHIVED, PARTIAL, PRODUCED, build_checkout

from aim_catalog.storage.resources import seed_recipe_dir
from aim_catalog.sync.inferencex.checkout import Checkout
from aim_catalog.sync.inferencex.convert import Conversion, convert_checkout, document

FIELDS = ("image", "args", "env", "setup", "enabled")
NO_COMMIT = "the InferenceX checkout had no git metadata: the commit is not recorded"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_checkout(tmp_path_factory.mktemp("InferenceX"))


@pytest.fixture(scope="module")
def conversion(tree: Path) -> Conversion:
    return convert_checkout(Checkout.open(tree))


def test_it_reproduces_the_bundled_recipes_config_by_config(conversion: Conversion) -> None:
    """Every serve config the six copied scripts give equals the one in seed_recipes/ (made by
    scripts/gen_inferencex_recipes.py from the full checkout): image, flags, environment,
    setup steps, enabled. Nine configs: dsr1 fp8 MI300X (SGLang TP8) and MI355X (TP4, TP8),
    qwen3.5 fp8 MI325X (SGLang TP8), dsv4 fp8 MI300X (vLLM TP8), and from the deprecated
    scripts gpt-oss fp4 MI355X (vLLM TP1, TP4, TP8) and Kimi-K2.5 int4 MI325X (vLLM TP8)."""
    produced = {rid: d for rid, d in conversion.drafts.items() if d.configs}
    assert {rid: {k: c.script_path for k, c in d.configs.items()} for rid, d in produced.items()} == PRODUCED
    differing, compared = [], 0
    for recipe_id, draft in sorted(produced.items()):
        ours = document(draft, None, "tests")
        bundled = yaml.safe_load((seed_recipe_dir() / f"{recipe_id}.yaml").read_text())
        for backend, gpus in sorted(draft.configs):
            mine = ours[f"{backend}_serve"][f"{gpus}_gpu"]
            theirs = bundled[f"{backend}_serve"][f"{gpus}_gpu"]
            differing += [
                f"{recipe_id} {backend} {gpus} GPU {name}: sync gives {mine.get(name)!r}, "
                f"seed_recipes/ has {theirs.get(name)!r}"
                for name in FIELDS
                if mine.get(name) != theirs.get(name)
            ]
            compared += 1
    assert differing == []
    assert compared >= 9


def test_the_recipes_of_entries_without_a_script_are_reported_not_produced(
    conversion: Conversion, tree: Path
) -> None:
    unread = {rid: d.failed for rid, d in conversion.drafts.items() if not d.configs}
    assert len(unread) >= 40  # every AMD single-node recipe but the six above
    assert not set(unread) & set(PRODUCED)
    for reasons in unread.values():
        assert reasons
        for reason in reasons:
            assert "launch script not found (" in reason
            missing = reason.rsplit("(", 1)[1].rstrip(")")
            assert missing.startswith("benchmarks/single_node/fixed_seq_len/")
            assert not (tree / missing).exists()
    partly = {rid: [r.split(":")[0] for r in d.failed] for rid, d in conversion.drafts.items() if d.configs}
    assert {rid: names for rid, names in partly.items() if names} == {rid: [e] for rid, e in PARTIAL.items()}
    # the entries not ours to read (multi-node, agentic-only) are said, and are not failures
    assert conversion.skipped and all(
        "multi-node" in s or "agentic trace replay only" in s for s in conversion.skipped
    )


def test_archived_recipes_are_retired_and_say_that_models_md_gave_no_date(conversion: Conversion) -> None:
    for recipe_id in PRODUCED:
        doc = document(conversion.drafts[recipe_id], None, "tests")
        if recipe_id not in ARCHIVED:
            assert "status" not in doc, recipe_id
            continue
        assert doc["status"] == "retired"
        assert "retired_on" not in doc
        assert doc["retired_reason"].startswith("InferenceX archived its entries under configs/deprecated/")
        assert doc["retired_reason"].endswith("MODELS.md says nothing of when")
        assert NO_COMMIT in doc["source"]["notes"]
