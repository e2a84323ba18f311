"""dialects.py: the one place that knows SQLite from PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aim_catalog.recipes.seed import seed_catalog
from aim_catalog.storage import db


def test_a_select_on_sqlite_loads_no_postgresql_or_migration_code(tmp_path: Path) -> None:
    # Each of these costs a cold `select` tens of milliseconds; SQLite needs none of them.
    path = tmp_path / "c.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine, on_created=seed_catalog)
    engine.dispose()
    probe = (
        "import sys\n"
        f"sys.argv = ['aim-catalog', '--db', 'sqlite:///{path}', 'select', 'Qwen/Qwen3-32B', '4',"
        " '--hardware', 'MI300X']\n"
        "from aim_catalog import cli\n"
        "try:\n    cli.main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = ('sqlalchemy.dialects.postgresql', 'alembic', 'psycopg', 'sqlalchemy.orm')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIM_CATALOG_")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), AIM_CATALOG_SYSFS_ROOT=str(tmp_path / "no-sysfs"))
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Selected qwen3-32b-mi300x-bf16" in result.stdout
    assert "LOADED []" in result.stdout
