"""Issue 8, points 12 and 13: every hostile number, string, path and catalog row gets one
clear line and its exit code, never a traceback; `export` writes only inside --out, all or
nothing, and keeps imported benchmarks' import keys across a round trip.

Result files are `vllm bench serve --save-result` documents (vLLM 0.11, the writer
support.bench_results.vllm_result mimics).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from support.bench_results import vllm_result
from support.mounts import tmpfs
from support.recipes import dedent
from support.services import reset_pg

from aim_catalog.storage import db
from aim_catalog.storage.tables import benchmarks as benchmarks_table

MODEL = "org/bench-model"


def problem_lines(result: Any) -> list[str]:
    """The located problems of an exit-4 report (after its 'N problems in M files' head)."""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: "), result.stderr
    return lines[1:]


def usage_error(result: Any) -> str:
    """Click's usage report: the one 'Error:' line."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def head(recipe_id: str = "h") -> str:
    return (
        f"recipe_id: {recipe_id}\nmodel_id: {MODEL}\nhuggingface_id: {MODEL}\n"
        "hardware: MI300X\nprecision: bf16\n"
    )


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ({"output_throughput": int("9" * 400)}, "must be a number no larger than 1.79769e+308 (a double)"),
        ({"output_throughput": 1.0, "input_len": int("9" * 30)}, "must be an integer from 1 to 2147483647"),
    ],
    ids=["400-digit-metric", "30-digit-length"],
)
def test_numbers_beyond_their_column_are_refused_in_one_line(
    cli: Callable[..., Any], db_url: str, tmp_path: Path, row: dict[str, Any], fragment: str
) -> None:
    fields = ", ".join(f"{k}: {v}" for k, v in row.items())
    path = tmp_path / "big.yaml"
    path.write_text(
        head() + f"vllm_serve:\n  1_gpu:\n    enabled: true\n    benchmarks:\n      - {{{fields}}}\n"
    )
    for command in (("validate",), ("ingest",)):
        result = cli(*command, str(path), code=4, db_url=db_url if command == ("ingest",) else None)
        (line,) = problem_lines(result)
        assert line.startswith(f"{path}:10:") and "vllm_serve.1_gpu.benchmarks[0]." in line, line
        assert fragment in line and len(line) < 300, line
    assert "recipes" not in _tables_with_rows(db_url)


def test_a_5000_digit_integer_is_refused_without_quoting_it(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(
        head() + "vllm_serve:\n  1_gpu:\n    enabled: true\n    args: {--max-model-len: " + "7" * 5000 + "}\n"
    )
    (line,) = problem_lines(cli("validate", str(path), code=4))
    assert line.startswith(f"{path}:9:") and "bad int value" in line and len(line) < 300, line


def _tables_with_rows(url: str) -> set[str]:
    engine: Engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            if db.current_revision(conn) is None:
                return set()
            return {
                t
                for t in ("recipes", "benchmarks")
                if conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
            }
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "argv",
    [
        ("select", MODEL, "99999999999999999999"),
        ("select", MODEL, "1", "--input-len", "99999999999999999999"),
        ("explain", MODEL, "1", "--output-len", "3000000000"),
        ("select", MODEL, "1", "--concurrency", "9" * 5000),
        ("select", MODEL, "1", "--max-ttft-ms", "nan"),
        ("explain", MODEL, "1", "--max-e2el-ms", "inf"),
        ("launch", MODEL, "1", "--dry-run", "--timeout", "nan"),
        ("bench", "import", "x.json", "--recipe", "n1", "-b", "vllm", "--gpus", "99999999999999999999"),
    ],
    ids=[
        "gpus",
        "input-len",
        "output-len",
        "5000-digit-concurrency",
        "nan-slo",
        "inf-slo",
        "nan-timeout",
        "bench-gpus",
    ],
)
def test_numbers_on_the_command_line_are_range_checked(
    cli: Callable[..., Any],
    db_url: str,
    write_recipe: Callable[..., Path],
    tmp_path: Path,
    argv: tuple[str, ...],
) -> None:
    write_recipe("n1", model=MODEL)
    cli("ingest", str(tmp_path / "recipes"), db_url=db_url)
    line = usage_error(cli(*argv, code=2, db_url=db_url))
    assert "Invalid value" in line and ("range" in line or "finite" in line or "valid integer" in line), line


def test_launch_gpu_indexes_are_range_checked(
    cli: Callable[..., Any], db_url: str, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    write_recipe("n1", model=MODEL)
    cli("ingest", str(tmp_path / "recipes"), db_url=db_url)
    for value in ("99999999999999999999", "0," + "9" * 5000):
        result = cli("launch", MODEL, "1", "--dry-run", "--gpus", value, code=2, db_url=db_url)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: --gpus takes"), result.stderr
        assert len(lines[0]) < 200  # the value is quoted cut short


# --------------------------------------------------------------------------- strings


@pytest.mark.parametrize(
    ("body", "line_no", "field"),
    [
        ('    image: "rocm/vllm:x\\0"\n', 9, "vllm_serve.1_gpu.image"),
        ('    env: {VLLM_X: "a\\0b"}\n', 9, "vllm_serve.1_gpu.env.VLLM_X"),
        ('    args: {--served-model-name: "x\\e[31m"}\n', 9, "vllm_serve.1_gpu.args.--served-model-name"),
        (
            '    benchmarks:\n      - {output_throughput: 1, source: "a\\0"}\n',
            10,
            "vllm_serve.1_gpu.benchmarks[0].source",
        ),
        (
            '    benchmarks:\n      - {output_throughput: 1, measured_at: "\\x9b2J"}\n',
            10,
            "vllm_serve.1_gpu.benchmarks[0].measured_at",
        ),
    ],
    ids=["nul-image", "nul-env", "esc-arg", "nul-source", "csi-measured-at"],
)
def test_control_characters_are_refused_with_file_line_and_field(
    cli: Callable[..., Any], db_url: str, tmp_path: Path, body: str, line_no: int, field: str
) -> None:
    path = tmp_path / "ctl.yaml"
    path.write_text(head() + "vllm_serve:\n  1_gpu:\n    enabled: true\n" + body)
    result = cli("ingest", str(path), code=4, db_url=db_url)
    (line,) = problem_lines(result)
    assert line.startswith(f"{path}:{line_no}:") and f" {field}: " in line, line
    assert "control character U+00" in line and "\x1b" not in result.stderr and "\x00" not in result.stderr
    assert "recipes" not in _tables_with_rows(db_url)


def test_a_symlink_out_of_the_directory_is_not_followed_nor_quoted(
    cli: Callable[..., Any], db_url: str, tmp_path: Path, write_recipe: Callable[..., Path]
) -> None:
    secret = tmp_path / "shadow"
    secret.write_text("root_password_hash: $6$hunter2hunter2\n")  # as if /etc/shadow held YAML
    recipes = tmp_path / "recipes"
    write_recipe("fine")
    (recipes / "evil.yaml").symlink_to(secret)
    (recipes / "twin.yaml").symlink_to(recipes / "fine.yaml")  # a link inside is fine
    (recipes / "sub").mkdir()
    (recipes / "sub" / "shadow.yaml").symlink_to("/etc/shadow")
    for command in (("validate",), ("ingest",)):
        result = cli(*command, str(recipes), code=4, db_url=db_url if command == ("ingest",) else None)
        lines = problem_lines(result)
        assert lines == [
            f"{recipes / 'evil.yaml'}: symbolic link to a file outside {recipes}; not followed",
            f"{recipes / 'sub' / 'shadow.yaml'}: symbolic link to a file outside {recipes}; not followed",
        ], result.stderr
        assert "hunter2" not in result.stderr and "root" not in result.stderr.replace(str(tmp_path), "")
    (recipes / "evil.yaml").unlink()
    (recipes / "sub" / "shadow.yaml").unlink()
    assert cli("ingest", str(recipes), db_url=db_url).stdout.startswith("added 1,")


# --------------------------------------------------------------------------- export


EXPORT_RECIPES: dict[str, dict[str, Any]] = {
    "exp-a": {
        "model": MODEL,
        "configs": {
            "vllm": {4: {"enabled": True, "benchmarks": [{"output_throughput": 10.0, "concurrency": 8}]}}
        },
    },
}


@pytest.fixture
def export_catalog(make_catalog: Callable[..., Any], db_url: str) -> str:
    """'exp-a': MODEL on vLLM 4 GPUs with one published benchmark row."""
    return str(make_catalog(EXPORT_RECIPES, into=db_url))


def test_export_onto_a_file_or_proc_says_so_in_one_line(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("keep")
    for out, reason in (
        (a_file, "exists and is not a directory"),
        (Path("/proc"), ""),
        (Path("/proc/x/y"), ""),
    ):
        result = cli("export", "--out", str(out), code=1, db_url=export_catalog)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: cannot export to {out}: "), result.stderr
        assert reason in lines[0] and lines[0].endswith("(nothing was written)")
    assert a_file.read_text() == "keep"


def test_export_on_a_full_disk_leaves_nothing(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path, write_recipe: Callable[..., Path]
) -> None:
    long_source = "s" * 900
    for i in range(40):  # ~40 x 20 KiB of YAML: more than the 256 KiB file system holds
        rows = [
            {"output_throughput": float(n), "concurrency": n + 1, "source": long_source} for n in range(20)
        ]
        write_recipe(
            f"exp-{i:02d}", model=MODEL, configs={"vllm": {1: {"enabled": True, "benchmarks": rows}}}
        )
    cli("ingest", str(tmp_path / "recipes"), db_url=export_catalog)
    with tmpfs(tmp_path / "small", size="256k") as mount:
        for out in (mount / "new-dir", mount):  # a new directory, and into an existing one
            result = cli("export", "--out", str(out), code=1, db_url=export_catalog)
            assert (
                result.stderr.strip()
                == f"error: cannot export to {out}: No space left on device (nothing was written)"
            )
            assert list(mount.iterdir()) == [], list(mount.iterdir())


def test_export_never_writes_outside_out(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path
) -> None:
    engine = db.make_engine(export_catalog)
    with engine.begin() as conn:  # a row another client of a shared catalog wrote
        conn.execute(text("UPDATE recipes SET recipe_id = '../../../escaped'"))
    engine.dispose()
    out = tmp_path / "a" / "b" / "c" / "out"
    result = cli("export", "--out", str(out), code=1, db_url=export_catalog)
    assert result.stderr.strip().startswith(
        "error: the catalog holds recipe_id '../../../escaped', which is not"
    )
    assert not out.exists() and not list(tmp_path.rglob("escaped*"))


def test_export_replaces_a_symlink_in_out_instead_of_following_it(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "exp-a.yaml").symlink_to(victim)
    (out / "unrelated.txt").write_text("stays")
    cli("export", "--out", str(out), db_url=export_catalog)
    assert victim.read_text() == "precious"
    assert not (out / "exp-a.yaml").is_symlink() and "recipe_id: exp-a" in (out / "exp-a.yaml").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["exp-a.yaml", "unrelated.txt"]  # no staging left


def _benchmarks(url: str) -> list[tuple[Any, ...]]:
    engine = db.make_engine(url)
    names = [c.name for c in benchmarks_table.columns if c.name not in ("id", "serve_config_id")]
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {', '.join(names)} FROM benchmarks")).all()
    engine.dispose()
    return sorted((tuple(r) for r in rows), key=repr)


def test_export_round_trip_keeps_import_keys_and_every_column(
    cli: Callable[..., Any], export_catalog: str, tmp_path: Path
) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps(vllm_result()))
    target = ("--recipe", "exp-a", "-b", "vllm", "--gpus", "4")
    cli("bench", "import", str(result), *target, db_url=export_catalog)
    engine = db.make_engine(export_catalog)
    with engine.begin() as conn:  # a row with every column set: new columns must round-trip too
        sc = conn.execute(text("SELECT id FROM serve_configs")).scalar()
        values: dict[str, Any] = {"serve_config_id": sc, "origin": "import", "import_key": "k" * 64}
        for column in benchmarks_table.columns:
            if column.name not in values and column.name != "id":
                kind = column.type.python_type
                values[column.name] = 3 if kind is int else 2.5 if kind is float else "x"
        names = ", ".join(values)
        conn.execute(
            text(f"INSERT INTO benchmarks ({names}) VALUES ({', '.join(':' + n for n in values)})"), values
        )
    engine.dispose()
    before = _benchmarks(export_catalog)
    assert sorted(r[0] for r in _origins(export_catalog)) == ["import", "import", "recipe"]
    out = tmp_path / "exported"
    cli("export", "--out", str(out), db_url=export_catalog)
    if export_catalog.startswith("postgresql"):
        reset_pg(export_catalog)
        copy = export_catalog
    else:
        copy = f"sqlite:///{tmp_path / 'copy.db'}"
    cli("ingest", str(out), db_url=copy)
    assert _benchmarks(copy) == before
    again = cli("bench", "import", str(result), *target, db_url=copy)
    assert "imported 0 run(s), 1 already present" in again.stdout, again.stdout
    # A changed recipe file re-ingested keeps exactly one copy of each imported row.
    path = out / "exp-a.yaml"
    path.write_text(path.read_text().replace("enabled: true", "enabled: false"))
    cli("ingest", str(out), db_url=copy)
    assert len(_benchmarks(copy)) == len(before)


def _origins(url: str) -> list[tuple[Any, ...]]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT origin, import_key FROM benchmarks"))]
    engine.dispose()
    return rows


def test_an_imported_row_in_a_recipe_needs_its_import_key(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        head()
        + dedent(
            """
            vllm_serve:
              1_gpu:
                enabled: true
                benchmarks:
                  - {output_throughput: 1, origin: import}
                  - {output_throughput: 1, import_key: abc}
            """
        )
    )
    lines = problem_lines(cli("validate", str(path), code=4))
    assert len(lines) == 2 and all("needs an import_key, and only such a row" in line for line in lines), (
        lines
    )
