"""The top-level commands are imported only when they run (``cli.app.COMMANDS``): the table
lists every command the modules register, with their help, and ``--help`` reads it alone.

Each check runs in a fresh interpreter: the test process has long imported every module."""

from __future__ import annotations

import json
import subprocess
import sys

# Prints, as JSON: the help of `aim-catalog ARGV` from a process that imported nothing but
# the app, the command modules it imported, then the table and the commands typer builds
# once every module of the table is imported.
PROBE = """
import contextlib, importlib, io, json, sys
import typer.main
from aim_catalog.cli.app import COMMANDS, app

def shown():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            typer.main.get_command(app)(sys.argv[1:], prog_name="aim-catalog")
        except SystemExit:
            pass
    return out.getvalue()

lazy_help = shown()
loaded = sorted(m for m in sys.modules if m.startswith("aim_catalog.cli.") and m != "aim_catalog.cli.app")
for modules, _ in COMMANDS.values():
    for module in modules:
        importlib.import_module("aim_catalog.cli." + module)
eager = typer.main.get_group_from_info(
    typer.models.TyperInfo(app), pretty_exceptions_short=True, suggest_commands=True,
    rich_markup_mode=None,
)
eager_help = shown()
print(json.dumps({
    "lazy_help": lazy_help,
    "eager_help": eager_help,
    "loaded": loaded,
    "table": {name: text for name, (_, text) in COMMANDS.items()},
    "built": {
        name: " ".join((cmd.help or "").split("\\n\\n")[0].split()) for name, cmd in eager.commands.items()
    },
}))
"""


def probe(*argv: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, object] = json.loads(result.stdout)
    return found


def test_the_table_names_every_command_the_modules_register_with_its_help() -> None:
    found = probe("--help")
    table, built = found["table"], found["built"]
    assert isinstance(table, dict) and isinstance(built, dict)
    # the same names with the same first paragraph (the table's order is the one --help shows)
    assert sorted(table.items()) == sorted(built.items())


def test_help_imports_no_command_module_and_lists_what_the_commands_would() -> None:
    found = probe("--help")
    assert found["loaded"] == []
    lazy = str(found["lazy_help"])
    assert "Commands:" in lazy and "  select " in lazy and "  catalog " in lazy
    assert lazy == found["eager_help"]  # the same listing as from the commands themselves


def test_a_command_imports_only_its_own_modules() -> None:
    found = probe("select", "--help")
    assert "Usage: aim-catalog select" in str(found["lazy_help"])
    assert found["loaded"] == [
        "aim_catalog.cli.choose",
        "aim_catalog.cli.selection_opts",
        "aim_catalog.cli.stderr_log",
    ]
    group = probe("bench", "--help")
    assert "import" in str(group["lazy_help"]) and "sweep" in str(group["lazy_help"])
    assert group["lazy_help"] == group["eager_help"]
