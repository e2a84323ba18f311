"""``aim-catalog catalog sync inferencex PATH`` end to end on a SQLite catalog, against the
checkout laid out from the reference copies of InferenceX at 843c6254 (``inferencex_checkout``):
what it cannot work with it says in one line with its own exit code and writes nothing; the
entries it cannot read it names one by one and syncs the rest; ``--out`` writes valid recipe
files the catalog points at; a MODELS.md dates the retired recipes. (The plan of a modified
checkout, on SQLite and PostgreSQL: ``integration/postgresql/test_sync.py``.)"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.catalogs import BIN
from support.inferencex import (
    ARCHIVED,
    MASTER,
    MODELS_MD,
    PARTIAL,
    PR,
    PRODUCED,
    catalog_state,
    edit_configs,
    sync,
)

SYNC = ("catalog", "sync", "inferencex")


@pytest.fixture
def synced(cli: Callable[..., Any], inferencex_checkout: Path, tmp_path: Path) -> str:
    """A SQLite catalog the reference checkout was synced into (the six recipes it gives)."""
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    assert sorted(sync(cli, url, inferencex_checkout)["added"]) == sorted(PRODUCED)
    return url


def test_a_path_that_is_not_a_checkout_is_a_usage_error(
    cli: Callable[..., Any], synced: str, tmp_path: Path
) -> None:
    before = catalog_state(synced)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "configs").mkdir(parents=True)  # a folder, but no configs/amd-master.yaml
    for options in ((), ("--dry-run",), ("--json",)):
        result = cli(*SYNC, str(elsewhere), *options, db_url=synced, code=2)
        assert result.stderr.splitlines() == [
            f"error: {elsewhere}: not an InferenceX checkout (no configs/amd-master.yaml)"
        ]
        assert result.stdout == ""
    missing = cli(*SYNC, str(tmp_path / "missing"), db_url=synced, code=2)
    assert f"{tmp_path / 'missing'} is not a directory" in missing.stderr
    assert catalog_state(synced) == before
    fresh = tmp_path / "fresh.db"
    cli(*SYNC, str(elsewhere), db_url=f"sqlite:///{fresh}", code=2)
    assert not fresh.exists()  # nothing was created either


def test_without_bash_it_says_bash_is_needed(
    synced: str, inferencex_checkout: Path, proc_env: dict[str, str], tmp_path: Path
) -> None:
    """A real `aim-catalog` process whose PATH has no bash (the console script names its
    Python itself)."""
    before = catalog_state(synced)
    (tmp_path / "no-bash").mkdir()
    env = {**proc_env, "PATH": str(tmp_path / "no-bash")}
    for options in ((), ("--dry-run",), ("--json",)):
        done = subprocess.run(
            [str(BIN / "aim-catalog"), "--db", synced, *SYNC, str(inferencex_checkout), *options],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        assert done.stderr.splitlines() == [
            "error: catalog sync inferencex runs the launch scripts in bash to resolve their flags; "
            "no bash on PATH (install it: apt-get install bash)"
        ]
        assert done.stdout == ""
    assert catalog_state(synced) == before


def test_entries_it_cannot_read_are_named_one_by_one_and_the_rest_goes_through(
    cli: Callable[..., Any], synced: str, inferencex_checkout: Path
) -> None:
    """A renamed key, an unknown precision and a script that fails: each recipe concerned is
    reported with its entry and left as the catalog has it (not retired: its entry is still
    upstream), while another entry's new image is synced."""
    root = inferencex_checkout
    before = catalog_state(synced)

    def break_entries(entries: dict[str, Any]) -> None:
        entry = entries["dsr1-fp8-mi300x-sglang"]
        entry["model_prefix"] = entry.pop("model-prefix")
        entries["dsv4-fp8-mi300x-vllm"]["precision"] = "fp6"

    edit_configs(root, MASTER, break_entries)
    script = root / "benchmarks/single_node/fixed_seq_len/qwen3.5_fp8_mi325x.sh"
    first, rest = script.read_text().split("\n", 1)
    script.write_text(f"{first}\necho 'this image does not run on MI325X' >&2\nexit 1\n{rest}")
    kimi = "configs/deprecated/amd-kimik2.5-8k1k-master.yaml"
    new_image = "vllm/vllm-openai-rocm:v9.9.9"
    edit_configs(root, kimi, lambda e: e["kimik2.5-int4-mi325x-vllm"].update(image=new_image))

    plan = sync(cli, synced, root)
    failed = {f["recipe_id"]: f["reasons"] for f in plan["failed"]}
    renamed = "dsr1-fp8-mi300x-sglang (configs/amd-master.yaml): no model-prefix; entry not understood"
    unknown = "dsv4-fp8-mi300x-vllm (configs/amd-master.yaml): unknown precision 'fp6'; entry not understood"
    assert failed["deepseek-r1-0528-mi300x-fp8"] == [renamed]
    assert failed["deepseek-v4-pro-mi300x-fp8"] == [unknown]  # the catalog's recipe of that entry
    assert failed["deepseek-v4-pro-mi300x-fp6"] == [unknown]  # and the one the entry now names
    assert failed["qwen3-5-397b-a17b-fp8-mi325x-fp8"] == [
        "qwen3.5-fp8-mi325x-sglang TP8: benchmarks/single_node/fixed_seq_len/qwen3.5_fp8_mi325x.sh did not "
        "start a server when run (this image does not run on MI325X)"
    ]
    assert plan["retired"] == [] and plan["added"] == []
    assert [c["recipe_id"] for c in plan["changed"]] == ["kimi-k2-5-mi325x-int4"]
    after = catalog_state(synced)
    assert after["kimi-k2-5-mi325x-int4"]["configs"][("vllm", 8)][1] == new_image
    after["kimi-k2-5-mi325x-int4"] = before["kimi-k2-5-mi325x-int4"]
    assert after == before


def test_out_writes_valid_recipe_files_the_catalog_points_at(
    cli: Callable[..., Any], inferencex_checkout: Path, tmp_path: Path
) -> None:
    url, out = f"sqlite:///{tmp_path / 'catalog.db'}", tmp_path / "recipes"
    dry = sync(cli, url, inferencex_checkout, "--out", str(out), "--dry-run")
    assert dry["written"] == [] and not out.exists()
    plan = sync(cli, url, inferencex_checkout, "--out", str(out))
    files = sorted(f"{recipe_id}.yaml" for recipe_id in PRODUCED)
    assert sorted(Path(p).name for p in plan["written"]) == files
    assert sorted(p.name for p in out.iterdir()) == files
    assert cli("validate", str(out)).stdout.strip() == f"{len(files)} file(s) valid, {len(files)} recipe(s)"
    listed = json.loads(cli("list-recipes", "--json", db_url=url).stdout)
    assert {r["recipe_id"]: Path(r["source_path"]) for r in listed} == {
        recipe_id: (out / f"{recipe_id}.yaml").resolve() for recipe_id in PRODUCED
    }
    for path in out.iterdir():
        assert path.read_text().startswith("# Written by `aim-catalog catalog sync inferencex`")
    copy = f"sqlite:///{tmp_path / 'copy.db'}"  # the files hold what the catalog holds
    cli("ingest", str(out), db_url=copy)
    assert catalog_state(copy) == catalog_state(url)
    empty = cli(*SYNC, str(inferencex_checkout), "--out", "", db_url=url, code=2)
    assert empty.stderr.splitlines() == ["error: --out is empty: name a directory"]


def test_models_md_dates_the_retired_recipes(
    cli: Callable[..., Any], inferencex_checkout: Path, tmp_path: Path
) -> None:
    """Without MODELS.md an archived recipe is retired undated; with one (the 843c6254 shape),
    with the date and reason it gives: gpt-oss-120b retired 2026-07-06 (#2101), Kimi-K2.5
    2026-08-07 (#2527)."""
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    undated = sync(cli, url, inferencex_checkout)
    assert "the checkout has no MODELS.md: retired recipes say no date" in undated["notes"]
    kimi = catalog_state(url)["kimi-k2-5-mi325x-int4"]["status"]
    assert kimi[:2] == ("retired", None)
    assert kimi[2] == (
        "InferenceX archived its entries under configs/deprecated/ "
        "(configs/deprecated/amd-kimik2.5-8k1k-master.yaml); MODELS.md says nothing of when"
    )

    (inferencex_checkout / "MODELS.md").write_text(MODELS_MD)
    dated = f"sqlite:///{tmp_path / 'dated.db'}"
    plan = sync(cli, dated, inferencex_checkout)
    assert not any("MODELS.md" in note for note in plan["notes"])
    statuses = {rid: state["status"] for rid, state in catalog_state(dated).items()}
    retired = "InferenceX retired {}: no scenario of it runs any more ({})"
    assert statuses == {
        **{rid: ("current", None, None) for rid in PRODUCED if rid not in ARCHIVED},
        "gpt-oss-120b-mi355x-mxfp4": ("retired", "2026-07-06", retired.format("gpt-oss-120b", f"{PR}2101")),
        "kimi-k2-5-mi325x-int4": (
            "retired",
            "2026-08-07",
            retired.format("Kimi-K2.5/2.6/2.7-Code", f"{PR}2527"),
        ),
    }

    # the undated catalog takes the date on its next sync (Kimi's: all its entries are read)
    again = sync(cli, url, inferencex_checkout)
    assert [c["recipe_id"] for c in again["changed"]] == ["kimi-k2-5-mi325x-int4"]
    assert again["changed"][0]["changes"] == [
        {"where": "recipe", "what": "status", "name": None, "old": "retired", "new": "retired on 2026-08-07"}
    ]
    assert catalog_state(url)["kimi-k2-5-mi325x-int4"]["status"] == statuses["kimi-k2-5-mi325x-int4"]


def test_an_entry_moved_to_another_recipe_or_an_unreadable_file_retires_nothing(
    cli: Callable[..., Any], synced: str, inferencex_checkout: Path
) -> None:
    """An entry whose runner changed still exists upstream (it gives another recipe now), and
    a config file that is not YAML any more says nothing of its entries: the catalog's recipes
    made from them are reported and left as they are, never retired as "gone"."""
    root = inferencex_checkout
    before = catalog_state(synced)
    edit_configs(root, MASTER, lambda e: e["dsr1-fp8-mi300x-sglang"].update(runner="mi325x"))
    (root / "configs/deprecated/amd-gptoss-master.yaml").write_text("gptoss: [unclosed\n")
    plan = sync(cli, synced, root)
    failed = {f["recipe_id"]: f["reasons"] for f in plan["failed"]}
    assert failed["deepseek-r1-0528-mi300x-fp8"] == [
        "dsr1-fp8-mi300x-sglang: still in the checkout's configs, but no longer gives this recipe "
        "(its runner, framework or model changed)"
    ]
    (why,) = failed["gpt-oss-120b-mi355x-mxfp4"]
    assert why.startswith("configs/deprecated/amd-gptoss-master.yaml: cannot be read: ")
    assert plan["retired"] == []
    after = catalog_state(synced)
    assert {k: v for k, v in after.items() if k in before} == before


def test_an_unreadable_master_config_retires_nothing(
    cli: Callable[..., Any], synced: str, inferencex_checkout: Path
) -> None:
    """configs/amd-master.yaml broken: the archive repeats its entry names, but nothing may be
    retired on its word; every recipe is reported and the catalog stays as it was."""
    root = inferencex_checkout
    before = catalog_state(synced)
    with (root / MASTER).open("a") as handle:
        handle.write("broken: [\n")
    plan = sync(cli, synced, root)
    assert plan["retired"] == [] and plan["changed"] == [] and plan["added"] == []
    failed = {f["recipe_id"]: f["reasons"] for f in plan["failed"]}
    assert set(PRODUCED) <= set(failed)
    for recipe_id in set(PRODUCED) - set(PARTIAL):  # the others fail on their unscripted entry
        assert any("configs/amd-master.yaml: cannot be read" in r for r in failed[recipe_id]), recipe_id
    assert catalog_state(synced) == before


def test_values_of_the_wrong_shape_are_one_entry_each(
    cli: Callable[..., Any], synced: str, inferencex_checkout: Path
) -> None:
    """A text ISL, scenarios as a list, an empty conc-list: no traceback; each entry's recipe is
    reported and left as it is, the rest is synced."""
    root = inferencex_checkout
    before = catalog_state(synced)

    def break_values(entries: dict[str, Any]) -> None:
        entries["dsr1-fp8-mi300x-sglang"]["scenarios"]["fixed-seq-len"][0]["isl"] = "abc"
        entries["dsv4-fp8-mi300x-vllm"]["scenarios"] = [1]
        entries["dsr1-fp8-mi355x-sglang"]["scenarios"]["fixed-seq-len"][0]["search-space"] = [
            {"tp": 8, "conc-list": []}
        ]

    edit_configs(root, MASTER, break_values)
    plan = sync(cli, synced, root)
    failed = {f["recipe_id"]: " ".join(f["reasons"]) for f in plan["failed"]}
    assert "ValueError" in failed["deepseek-r1-0528-mi300x-fp8"]
    assert "AttributeError" in failed["deepseek-v4-pro-mi300x-fp8"]
    assert "dsr1-fp8-mi355x-sglang" in failed["deepseek-r1-0528-mi355x-fp8"]
    assert plan["retired"] == [] and plan["changed"] == []
    assert catalog_state(synced) == before


def test_a_checkout_with_local_modifications_says_so(
    cli: Callable[..., Any], inferencex_checkout: Path, tmp_path: Path
) -> None:
    """The commit is git's HEAD; a tracked file changed since is said in the plan and in the
    source notes of every recipe written."""
    root = inferencex_checkout
    git = ["git", "-C", str(root), "-c", "user.email=t@example.org", "-c", "user.name=t"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "reference copy"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    edit_configs(
        root, MASTER, lambda e: e["dsv4-fp8-mi300x-vllm"].update(image="vllm/vllm-openai-rocm:v9.9.9")
    )
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    plan = sync(cli, url, root)
    said = f"read from a checkout of {head[:12]} with local modifications (git status)"
    assert plan["commit"] == head and said in plan["notes"]
    recipes = {r["recipe_id"]: r for r in json.loads(cli("list-recipes", "--json", db_url=url).stdout)}
    assert "deepseek-v4-pro-mi300x-fp8" in recipes
    state = catalog_state(url)
    assert state["deepseek-v4-pro-mi300x-fp8"]["configs"][("vllm", 8)][1] == "vllm/vllm-openai-rocm:v9.9.9"
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        document = conn.execute(
            text("SELECT document FROM recipes WHERE recipe_id = 'deepseek-v4-pro-mi300x-fp8'")
        ).scalar_one()
    engine.dispose()
    source = (json.loads(document) if isinstance(document, str) else document)["source"]
    assert source["commit"] == head and said in source["notes"]
