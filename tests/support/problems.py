"""Reading what a refused command says: the located problems of an exit-4 report, Click's
one usage line; a recipe head for hostile documents; which tables a refusal left empty."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

from aim_catalog.storage import db

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


def tables_with_rows(url: str) -> set[str]:
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
