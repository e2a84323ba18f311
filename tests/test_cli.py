"""The command line as users meet it: output formats, exit codes, first use, secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from support.host import fake_kfd_sysfs

from aim_catalog.storage.db import HEAD_REVISION

SELECT_KEYS = {
    "recipe_id",
    "model_id",
    "huggingface_id",
    "hardware",
    "precision",
    "backend",
    "gpu_count",
    "args",
    "image",
    "metric",
    "score",
}
BIN = Path(sys.executable).parent


def test_first_use_creates_migrates_and_seeds_the_default_catalog(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    result = cli("select", "Qwen/Qwen3-32B", "4", "--precision", "bf16", "--backend", "vllm", "--json")
    chosen = json.loads(result.stdout)
    assert chosen.keys() >= SELECT_KEYS
    assert (chosen["recipe_id"], chosen["gpu_count"], chosen["backend"]) == (
        "qwen3-32b-mi300x-bf16",
        4,
        "vllm",
    )
    assert chosen["args"]["--tensor-parallel-size"] == "4"
    assert chosen["score"] is None and chosen["metric"] is None
    assert (tmp_path / "data" / "aim-catalog" / "catalog.db").is_file()
    assert "no AMD GPU detected" in result.stderr


def test_show_configurations_prints_the_seed_format(cli: Callable[..., Any]) -> None:
    result = cli("show-configurations", "Qwen/Qwen3-32B")
    assert result.stdout.splitlines() == [
        "Qwen/Qwen3-32B supported configurations:",
        "- 1 GPU, bf16, vLLM: ✅ Enabled",
        "- 2 GPU, bf16, vLLM: ✅ Enabled",
        "- 4 GPU, bf16, vLLM: ✅ Enabled",
        "- 8 GPU, bf16, vLLM: ✅ Enabled",
        "- 1 GPU, bf16, sglang: ✅ Enabled",
        "- 2 GPU, bf16, sglang: ✅ Enabled",
        "- 4 GPU, bf16, sglang: ✅ Enabled",
        "- 8 GPU, bf16, sglang: ✅ Enabled",
    ]
    missing = cli("show-configurations", "nobody/none", code=3)
    assert "No recipe found for nobody/none" in missing.stderr


def test_no_match_exits_3_with_the_supported_configurations(cli: Callable[..., Any]) -> None:
    result = cli("select", "Qwen/Qwen3-32B", "16", "--precision", "fp8", code=3)
    assert "No suitable recipe found for Qwen/Qwen3-32B" in result.stderr
    assert "- 8 GPU, bf16, sglang: ✅ Enabled" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_list_recipes_json_is_one_object_per_recipe(
    cli: Callable[..., Any], db_url: str, reference_dir: Path
) -> None:
    cli("ingest", str(reference_dir), db_url=db_url)
    data = json.loads(cli("list-recipes", "--json", db_url=db_url).stdout)
    assert isinstance(data, list)
    assert sorted(r["recipe_id"] for r in data) == sorted(p.stem for p in reference_dir.glob("*.yaml"))
    qwen = next(r for r in data if r["recipe_id"] == "qwen3-32b-mi300x-bf16")
    assert qwen["huggingface_id"] == "Qwen/Qwen3-32B" and len(qwen["configs"]) == 8
    only = json.loads(cli("list-recipes", "--model", "Qwen/Qwen3-32B", "--json", db_url=db_url).stdout)
    assert [r["recipe_id"] for r in only] == ["qwen3-32b-mi300x-bf16"]
    table = cli("list-recipes", db_url=db_url).stdout
    assert "qwen3-32b-mi300x-bf16" in table and "vLLM:1,2,4,8" in table


def test_ingest_summary_and_idempotence(cli: Callable[..., Any], db_url: str, reference_dir: Path) -> None:
    assert (
        cli("ingest", str(reference_dir), db_url=db_url).stdout.strip()
        == "added 4, updated 0, unchanged 0, removed 0"
    )
    assert (
        cli("ingest", str(reference_dir), db_url=db_url).stdout.strip()
        == "added 0, updated 0, unchanged 4, removed 0"
    )


def test_ingest_is_atomic_on_invalid_input(
    cli: Callable[..., Any],
    db_url: str,
    write_recipe: Callable[..., Path],
    engine_for: Callable[[str], Engine],
) -> None:
    first = write_recipe("first")
    cli("ingest", str(first), db_url=db_url)
    before = rows(engine_for(db_url))
    write_recipe("second")
    write_recipe("broken", text_="recipe_id: broken\nmodel_id: x\nvllm_serve:\n  4_gpu: {args: {}}\n")
    write_recipe("worse", text_="a: &x 1\nb: *x\n")
    result = cli("ingest", str(first.parent), "--prune", db_url=db_url, code=4)
    assert "broken.yaml:1:1: missing required field 'huggingface_id'" in result.stderr
    assert "broken.yaml:4:3: vllm_serve.4_gpu: missing required field 'enabled'" in result.stderr
    assert "worse.yaml:1:4: YAML anchors/aliases are not allowed" in result.stderr
    assert rows(engine_for(db_url)) == before


def test_ingest_dry_run_writes_nothing(cli: Callable[..., Any], db_url: str, reference_dir: Path) -> None:
    out = cli("ingest", str(reference_dir), "--dry-run", db_url=db_url).stdout
    assert out.strip() == "added 4, updated 0, unchanged 0, removed 0 (dry run: nothing written)"
    if db_url.startswith("sqlite"):  # not even a file: a read command does not create one
        assert "no catalog at" in cli("list-recipes", "--json", db_url=db_url, code=1).stderr
    else:
        assert json.loads(cli("list-recipes", "--json", db_url=db_url).stdout) == []


def test_validate_needs_no_database(
    cli: Callable[..., Any], reference_dir: Path, write_recipe: Callable[..., Path]
) -> None:
    env = {"AIM_CATALOG_DB_URL": "postgresql://nobody:secret@127.0.0.1:1/none"}
    assert cli("validate", str(reference_dir), env=env).stdout.strip() == "4 file(s) valid, 4 recipe(s)"
    bad = write_recipe("bad", text_="recipe_id: bad\nrecipe_id: again\n")
    result = cli("validate", str(bad), code=4)
    assert f"{bad.resolve()}:2:1: duplicate key 'recipe_id' (first defined on line 1)" in result.stderr
    missing = cli("validate", "/no/such/dir", code=4)
    assert "/no/such/dir: no such file or directory" in missing.stderr


def test_explain_lists_every_recipe_with_a_verdict(cli: Callable[..., Any]) -> None:
    model = "amd/Llama-3.1-405B-Instruct-FP8-KV"
    data = json.loads(cli("explain", model, "8", "--precision", "fp8", "--json").stdout)
    verdicts = {v["recipe_id"]: v for v in data["verdicts"]}
    assert len(verdicts) == 4
    assert verdicts["llama-3-1-405b-fp8-kv-mi300x-fp8-vllm-2025-06"]["verdict"] == "chosen"
    assert sorted(v["reason"].split(":")[0] for v in verdicts.values() if v["verdict"] == "ranked") == [
        "ranked 2 of 4",
        "ranked 3 of 4",
        "ranked 4 of 4",
    ]
    lost = json.loads(cli("explain", model, "4", "--precision", "fp8", "--json", code=3).stdout)
    assert {v["reason"] for v in lost["verdicts"]} == {"no 4-GPU config (has 8)"}
    table = cli("explain", model, "8", "--precision", "fp8").stdout
    assert "chosen" in table and "ranked 4 of 4" in table


def test_select_human_output_names_the_metric_fallback(cli: Callable[..., Any]) -> None:
    out = cli("select", "amd/Llama-3.1-70B-Instruct-FP8-KV", "8", "-p", "fp8").stdout
    assert out.splitlines()[0] == (
        "Selected llama-3-1-70b-fp8-kv-mi300x-fp8-vllm-2025-06 for amd/Llama-3.1-70B-Instruct-FP8-KV: "
        "8 GPU, fp8, vLLM on MI300X"
    )
    assert "score:  total_token_throughput 16581.5 (the row has no output_throughput)" in out
    assert "image:  rocm/vllm:rocm6.4.1_vllm_0.9.0.1_20250605" in out


def test_verbose_logs_each_match_check(cli: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="aim_catalog")
    cli("-v", "select", "Qwen/Qwen3-32B", "4")
    messages = [r.getMessage() for r in caplog.records]
    start = messages.index("Checking recipe qwen3-32b-mi300x-bf16")
    assert messages[start : start + 6] == [
        "Checking recipe qwen3-32b-mi300x-bf16",
        "Model match: True",
        "Precision match: True",
        "Backend match: True",
        "GPU count match: True",
        "Enabled: True",
    ]
    assert "Selected recipe: qwen3-32b-mi300x-bf16" in messages


def test_detected_hardware_filters_and_bounds_the_gpu_count(
    cli: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    write_recipe: Callable[..., Path],
) -> None:
    fake_kfd_sysfs(tmp_path / "sysfs", 2, target=90500, device_id=0x75A3)  # 2 x MI355X
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(tmp_path / "sysfs"))
    result = cli("select", "Qwen/Qwen3-32B", "4", code=3)  # the seeds are MI300X recipes
    assert "No suitable recipe found" in result.stderr
    assert (
        "hardware MI355X was required" in result.stderr and "--hardware any lifts the filter" in result.stderr
    )
    explained = json.loads(cli("explain", "Qwen/Qwen3-32B", "4", "--json", code=3).stdout)
    assert explained["verdicts"][0]["reason"] == "hardware mismatch: recipe is for MI300X, host has MI355X"
    # More GPUs score better here (per GPU too), but only the counts that fit the 2 detected
    # GPUs compete, with or without the hardware filter.
    scores = {
        n: {"enabled": True, "benchmarks": [{"output_throughput": 100.0 * n * n}]} for n in (1, 2, 4, 8)
    }
    path = write_recipe("scaling", model="org/scaling", configs={"vllm": scores})
    cli("ingest", str(path))
    for hardware in ("any", "MI300X"):
        chosen = json.loads(cli("select", "org/scaling", "--hardware", hardware, "--json").stdout)
        assert (chosen["gpu_count"], chosen["score"]) == (2, 400.0)
        assert (chosen["per_gpu"], chosen["replicas"], chosen["host_gpus"]) == (200.0, 1, 2)
    assert "GPU count: 2 won" in cli("select", "org/scaling", "--hardware", "any").stdout


def test_usage_errors_exit_2(cli: Callable[..., Any]) -> None:
    assert "unknown backend 'tgi'" in cli("select", "Qwen/Qwen3-32B", "4", "--backend", "tgi", code=2).stderr
    cli("select", "Qwen/Qwen3-32B", "four", code=2)
    cli("no-such-command", code=2)
    assert "not a database URL" in cli("--db", "::::", "list-recipes", code=2).stderr


def test_unreachable_database_exits_1_without_leaking_the_password(cli: Callable[..., Any]) -> None:
    result = cli("--db", "postgresql://admin:s3cr3t-pw@127.0.0.1:1/catalog", "list-recipes", code=1)
    assert "database error on postgresql+psycopg://admin:***@127.0.0.1:1/catalog" in result.stderr
    assert "s3cr3t-pw" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_auto_migrate_off_asks_for_db_upgrade(cli: Callable[..., Any], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    (tmp_path / "fresh.db").touch()  # an empty database (a missing file is no catalog at all)
    result = cli("--db", url, "list-recipes", code=1, env={"AIM_CATALOG_AUTO_MIGRATE": "0"})
    assert "run `aim-catalog db upgrade`" in result.stderr
    head = HEAD_REVISION
    assert cli("--db", url, "db", "current").stdout.strip() == f"base (empty) (head is {head})"
    assert cli("--db", url, "db", "upgrade").stdout.strip() == f"catalog at revision {head}"
    assert cli("--db", url, "db", "current").stdout.strip() == f"{head} (up to date)"
    assert (
        cli("--db", url, "list-recipes", "--json", env={"AIM_CATALOG_AUTO_MIGRATE": "0"}).stdout.strip()
        == "[]"
    )
    assert cli("--db", url, "db", "downgrade", "base").stdout.strip() == "catalog at revision base (empty)"


def rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
            for t in ("recipes", "serve_configs", "benchmarks")
        }


@pytest.fixture
def engine_for() -> Any:
    from aim_catalog.storage import db

    engines: list[Engine] = []

    def make(url: str) -> Engine:
        engines.append(db.make_engine(url))
        return engines[-1]

    yield make
    for e in engines:
        e.dispose()


# ------------------------------------------------------------------ real processes


def run(*argv: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False)


def test_installed_console_scripts(proc_env: dict[str, str]) -> None:
    result = run(
        str(BIN / "aim-catalog"),
        "select",
        "Qwen/Qwen3-32B",
        "4",
        "--precision",
        "bf16",
        "--backend",
        "vllm",
        env=proc_env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "Selected qwen3-32b-mi300x-bf16 for Qwen/Qwen3-32B: 4 GPU, bf16, vLLM on MI300X"
    )
    alias = run(str(BIN / "aim-engine"), "show-configurations", "Qwen/Qwen3-32B", env=proc_env)
    assert alias.returncode == 0 and alias.stdout.startswith("Qwen/Qwen3-32B supported configurations:")
    module = run(sys.executable, "-m", "aim_catalog", "--version", env=proc_env)
    assert module.returncode == 0 and module.stdout.startswith("aim-catalog ")
    missing = run(str(BIN / "aim-catalog"), "select", "Qwen/Qwen3-32B", "3", env=proc_env)
    assert missing.returncode == 3 and "No suitable recipe found for Qwen/Qwen3-32B" in missing.stderr


def test_help_imports_nothing_heavy(proc_env: dict[str, str]) -> None:
    probe = (
        "import sys\n"
        "sys.argv = ['aim-catalog', '--help']\n"
        "from aim_catalog import cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "names = ('sqlalchemy', 'alembic', 'yaml', 'docker', 'psycopg')\n"
        "heavy = sorted(m for m in names if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    result = run(sys.executable, "-c", probe, env=proc_env)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_two_ingest_processes_at_once(
    db_url: str,
    proc_env: dict[str, str],
    tmp_path: Path,
    write_recipe: Callable[..., Path],
    engine_for: Callable[[str], Engine],
) -> None:
    for i in range(300):
        write_recipe(
            f"c{i:03d}",
            configs={"vllm": {1: {"enabled": True, "benchmarks": [{"output_throughput": i}]}}},
        )
    argv = (str(BIN / "aim-catalog"), "--db", db_url, "ingest", str(tmp_path / "recipes"))
    procs = [
        subprocess.Popen(argv, env=proc_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    summaries = sorted(out.strip() for out, _ in outputs)
    assert summaries == [
        "added 0, updated 0, unchanged 300, removed 0",
        "added 300, updated 0, unchanged 0, removed 0",
    ]
    engine = engine_for(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), count(DISTINCT recipe_id) FROM recipes")).one() == (
            300,
            300,
        )
        assert conn.execute(text("SELECT count(*) FROM benchmarks")).scalar() == 300
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
