"""Review fixes of the benchmark import (issue 9): InferenceX rows matched to the MTP
recipes, per-row skips in multi-row files, explicit targets the file contradicts, array
elements named in messages. Result shapes are the writers' own (``fixtures_bench.py``
names each source: InferenceX ``utils/process_result.py`` at commit 843c6254, vLLM
``vllm bench serve`` 0.8+)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fixtures_bench as fx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from aim_catalog import db
from aim_catalog.cli import app
from aim_catalog.settings import default_db_url

DSR1 = "deepseek-ai/DeepSeek-R1-0528"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(tmp_path / "no-sysfs"))
    monkeypatch.delenv("AIM_CATALOG_DB_URL", raising=False)
    monkeypatch.delenv("AIM_CATALOG_LENGTH_TOLERANCE", raising=False)

    def invoke(*args: str, code: int = 0, db_url: str | None = None) -> Any:
        argv = (["--db", db_url] if db_url else []) + list(args)
        result = CliRunner().invoke(app, argv)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        return result

    return invoke


def rows(url: str) -> list[dict[str, Any]]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT r.recipe_id, c.backend, c.gpu_count, b.* FROM benchmarks b "
                "JOIN serve_configs c ON c.id = b.serve_config_id JOIN recipes r ON r.id = c.recipe_pk "
                "ORDER BY b.id"
            )
        )
        out = [dict(row._mapping) for row in found]
    engine.dispose()
    return out


def dsr1(spec: str, **over: Any) -> dict[str, Any]:
    """DeepSeek-R1-0528 on MI355X, FP8, SGLang TP8, as InferenceX's dsr1-fp8-mi355x-sglang(-mtp)
    entries (configs/amd-master.yaml) write it, ISL 8192 / OSL 1024."""
    doc = fx.inferencex_agg(
        model=DSR1,
        infmax_model_prefix="dsr1",
        precision="fp8",
        tp=8,
        conc=64,
        isl=8192,
        osl=1024,
        spec_decoding=spec,
        image="lmsysorg/sglang:v0.5.12-rocm700-mi35x",
        tput_per_gpu=2000.0,
        output_tput_per_gpu=200.0,
    )
    doc.update(over)
    return doc


# --------------------------------------------------------------------------- 1. bundled catalog


def test_inferencex_rows_go_to_the_mtp_recipe_and_unmatched_rows_are_skipped(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    qwen = fx.inferencex_agg(model="Qwen/Qwen3-32B", precision="bf16", tp=8)  # no MI355X Qwen3-32B recipe
    path = tmp_path / "agg_bmk.json"
    path.write_text(json.dumps([dsr1("none"), dsr1("mtp", tput_per_gpu=2600.0), qwen], indent=2))
    out = cli("bench", "import", str(path))
    assert "imported 2 run(s)" in out.stdout, out
    (skip,) = [line for line in out.stderr.splitlines() if "skipped" in line]
    assert "[element 2] skipped: no serve config matches (model Qwen/Qwen3-32B" in skip
    stored = {
        r["recipe_id"]: r["total_token_throughput"] for r in rows(default_db_url()) if r["origin"] == "import"
    }
    assert stored == {
        "deepseek-r1-0528-mi355x-fp8": 16000.0,
        "deepseek-r1-0528-mi355x-fp8-mtp": 20800.0,
    }


def test_a_single_run_that_fits_several_configs_is_still_an_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    old = dsr1("none")
    del old["spec_decoding"]  # files before the key: plain and MTP recipes both fit
    path = tmp_path / "agg_run.json"
    path.write_text(json.dumps(old))
    err = cli("bench", "import", str(path), code=4).stderr
    assert "2 serve configs match" in err
    assert "deepseek-r1-0528-mi355x-fp8/sglang/8 GPU; deepseek-r1-0528-mi355x-fp8-mtp/sglang/8 GPU" in err
    assert [r for r in rows(default_db_url()) if r["origin"] == "import"] == []


# --------------------------------------------------------------------------- 2. explicit targets


@pytest.fixture
def catalog(cli: Callable[..., Any], db_url: str, write_recipe: Callable[..., Path], tmp_path: Path) -> str:
    write_recipe(
        "qwen", model="Qwen/Qwen3-32B", configs={"vllm": {4: {"enabled": True}, 8: {"enabled": True}}}
    )
    write_recipe(
        "qwen-355", model="Qwen/Qwen3-32B", hardware="MI355X", configs={"sglang": {8: {"enabled": True}}}
    )
    cli("ingest", str(tmp_path / "recipes"), db_url=db_url)
    return db_url


@pytest.mark.parametrize(
    ("doc", "how", "field"),
    [
        (
            fx.vllm_bench_serve(model_id="meta-llama/Llama-3.3-70B-Instruct"),
            ("--recipe", "qwen", "--gpus", "4"),
            "model: the file says model meta-llama/Llama-3.3-70B-Instruct, "
            "but --recipe qwen is Qwen/Qwen3-32B: this run was not measured on that serve config",
        ),
        (
            fx.vllm_bench_serve(model_id="Qwen/Qwen3-32B", tensor_parallel_size="8"),
            ("--recipe", "qwen", "--gpus", "4"),
            "GPUs: the file says 8 GPU(s) (tensor parallel), but --gpus is 4",
        ),
        (
            fx.vllm_bench_serve(model_id="Qwen/Qwen3-32B"),
            ("--recipe", "qwen", "-b", "sglang", "--gpus", "4"),
            "backend: the file says backend vllm, but --backend is sglang",
        ),
        (
            fx.inferencex_agg(model="Qwen/Qwen3-32B", precision="fp8", framework="vllm", tp=8),
            (
                "--recipe",
                "qwen",
            ),
            "hardware: the file says hardware MI355X, but --recipe qwen is for MI300X",
        ),
        (
            fx.inferencex_agg(model="Qwen/Qwen3-32B", precision="fp8", tp=8),
            (
                "--recipe",
                "qwen-355",
            ),
            "precision: the file says precision fp8, but --recipe qwen-355 is bf16",
        ),
    ],
    ids=["model", "gpus", "backend", "hardware", "precision"],
)
def test_an_explicit_target_the_file_contradicts_is_refused(
    cli: Callable[..., Any],
    catalog: str,
    tmp_path: Path,
    doc: dict[str, Any],
    how: tuple[str, ...],
    field: str,
) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(doc))
    err = cli("bench", "import", str(path), *how, code=4, db_url=catalog).stderr
    assert f"run.json:1:1: {field}" in err, err
    assert rows(catalog) == []


def test_only_recipe_given_uses_the_files_tensor_parallel(
    cli: Callable[..., Any], catalog: str, tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(fx.vllm_bench_serve(model_id="Qwen/Qwen3-32B", tensor_parallel_size="8")))
    cli("bench", "import", str(path), "--recipe", "qwen", db_url=catalog)
    assert [(r["recipe_id"], r["gpu_count"]) for r in rows(catalog)] == [("qwen", 8)]


# --------------------------------------------------------------------------- 8. one-line arrays


def test_skips_in_a_one_line_array_name_the_element(
    cli: Callable[..., Any], catalog: str, tmp_path: Path
) -> None:
    path = tmp_path / "agg_bmk.json"
    ok = fx.inferencex_agg(model="Qwen/Qwen3-32B", precision="bf16", tp=8)
    path.write_text(json.dumps([ok, fx.inferencex_multinode(), fx.inferencex_agentic()]))  # one line
    err = cli("bench", "import", str(path), db_url=catalog).stderr
    assert "agg_bmk.json:1:1: [element 1] skipped: a multi-node" in err
    assert "agg_bmk.json:1:1: [element 2] skipped: an agentic" in err
