"""``aim-catalog catalog sync inferencex`` on SQLite and PostgreSQL: the reference checkout
(``inferencex_checkout``, InferenceX at 843c6254 laid out from ../shared) synced into an empty
catalog, then changed as InferenceX changes (an image moved to a new tag, an entry archived
under configs/deprecated/, an entry added): the dry run shows exactly those three and writes
nothing, the sync writes exactly them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from support.inferencex import MASTER, PARTIAL, PRODUCED, catalog_state, edit_configs, sync

IMAGE_MOVED = "deepseek-v4-pro-mi300x-fp8"  # dsv4-fp8-mi300x-vllm: vLLM TP8
ARCHIVED = "qwen3-5-397b-a17b-fp8-mi325x-fp8"  # qwen3.5-fp8-mi325x-sglang: SGLang TP8
ADDED = "deepseek-r1-mi300x-fp8"  # a copy of dsr1-fp8-mi300x-sglang for deepseek-ai/DeepSeek-R1
NEW_TAG = "vllm/vllm-openai-rocm:nightly-test-new-tag"
TEST_ARCHIVE = "configs/deprecated/amd-test-master.yaml"
NEW_MODEL = "deepseek-ai/DeepSeek-R1"
UNDATED = "MODELS.md says nothing of when"


def change_of(where: str, what: str, old: Any, new: Any) -> dict[str, Any]:
    return {"where": where, "what": what, "name": None, "old": old, "new": new}


def listed(cli: Callable[..., Any], url: str) -> dict[str, Any]:
    return {r["recipe_id"]: r for r in json.loads(cli("list-recipes", "--json", db_url=url).stdout)}


def test_a_changed_checkout_gives_exactly_its_changes(
    cli: Callable[..., Any], db_url: str, inferencex_checkout: Path
) -> None:
    root = inferencex_checkout
    first = sync(cli, db_url, root)
    assert sorted(first["added"]) == sorted(PRODUCED)
    assert first["changed"] == first["retired"] == first["unchanged"] == []
    assert first["commit"] is None and first["dry_run"] is False
    unread = {f["recipe_id"] for f in first["failed"]}
    assert len(unread) >= 40 and not unread & set(PRODUCED)

    master = yaml.safe_load((root / MASTER).read_text())
    old_tag = master["dsv4-fp8-mi300x-vllm"]["image"]
    archived = master["qwen3.5-fp8-mi325x-sglang"]

    def change(entries: dict[str, Any]) -> None:
        entries["dsv4-fp8-mi300x-vllm"]["image"] = NEW_TAG  # (a)
        del entries["qwen3.5-fp8-mi325x-sglang"]  # (b), archived below under its name
        copy = json.loads(json.dumps(entries["dsr1-fp8-mi300x-sglang"]))  # (c)
        entries["dsr1-r1-fp8-mi300x-sglang"] = {**copy, "model": NEW_MODEL}

    edit_configs(root, MASTER, change)
    edit_configs(root, TEST_ARCHIVE, lambda e: e.update({"qwen3.5-fp8-mi325x-sglang": archived}))
    state, recipes = catalog_state(db_url), listed(cli, db_url)

    dry = sync(cli, db_url, root, "--dry-run")
    assert dry["dry_run"] is True
    assert dry["added"] == [ADDED]
    assert dry["changed"] == [
        {
            "recipe_id": IMAGE_MOVED,
            "changes": [
                {"where": "vllm 8 GPU", "what": "image", "name": None, "old": old_tag, "new": NEW_TAG}
            ],
        }
    ]
    assert dry["retired"] == [
        {
            "recipe_id": ARCHIVED,
            "changes": [
                {"where": "recipe", "what": "status", "name": None, "old": "current", "new": "retired"}
            ],
        }
    ]
    # every other recipe is unchanged, but for those some of whose entries have no script in
    # the reference: those are left as the catalog has them, and said
    assert sorted(dry["unchanged"]) == sorted(set(PRODUCED) - {IMAGE_MOVED, ARCHIVED} - set(PARTIAL))
    failed = {f["recipe_id"]: f["reasons"] for f in dry["failed"]}
    assert set(failed) == unread | set(PARTIAL)
    for recipe_id, entry in PARTIAL.items():
        assert [r.split(":")[0] for r in failed[recipe_id]] == [entry]
    assert all("launch script not found" in r for reasons in failed.values() for r in reasons)
    assert catalog_state(db_url) == state and listed(cli, db_url) == recipes  # the dry run wrote nothing

    done = sync(cli, db_url, root)
    assert {**done, "dry_run": True} == dry
    after = catalog_state(db_url)
    # the new recipe is the dsr1 MI300X recipe's config for another model (--model is the launcher's)
    assert after.pop(ADDED) == state["deepseek-r1-0528-mi300x-fp8"]
    moved = after[IMAGE_MOVED]["configs"][("vllm", 8)]
    assert moved[1] == NEW_TAG
    after[IMAGE_MOVED]["configs"][("vllm", 8)] = (moved[0], old_tag, *moved[2:])
    reason = f"InferenceX archived its entries under configs/deprecated/ ({TEST_ARCHIVE}); {UNDATED}"
    assert after[ARCHIVED]["status"] == ("retired", None, reason)
    after[ARCHIVED]["status"] = ("current", None, None)
    assert after == state  # nothing else changed

    now = listed(cli, db_url)
    new = now.pop(ADDED)
    assert [new[k] for k in ("model_id", "hardware", "precision")] == [NEW_MODEL, "MI300X", "fp8"]
    assert new["configs"] == [{"backend": "sglang", "gpu_count": 8, "enabled": True}]
    for recipe_id in (IMAGE_MOVED, ARCHIVED):  # rewritten: their timestamps move
        assert now[recipe_id].pop("updated_at") >= recipes[recipe_id].pop("updated_at")
    if "status" in recipes[ARCHIVED]:  # where list-recipes shows a recipe's status
        status = ("status", "retired_reason", "retired_on")
        assert [recipes[ARCHIVED].pop(k) for k in status] == ["current", None, None]
        assert [now[ARCHIVED].pop(k) for k in status] == ["retired", reason, None]
    assert now == recipes  # and nothing else; the other recipes were not even rewritten
