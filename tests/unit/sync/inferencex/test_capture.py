"""Running a launch script with the harness stubbed: scripts written here in the shape of
InferenceX's at 843c6254 (``source benchmark_lib.sh``, the server started with ``&`` into a
log, ``wait_for_server_ready``), cut to what each test needs."""

from __future__ import annotations

from pathlib import Path

from aim_catalog.sync.inferencex.capture import Captured, run_script

PATH = "benchmarks/single_node/fixed_seq_len/test_fp8_mi300x.sh"
ENV = {"MODEL": "org/m", "TP": "8", "PORT": "8888"}
HEAD = 'source "$(dirname "$0")/../../benchmark_lib.sh"\ncheck_env_vars MODEL TP PORT\n'


def test_the_server_command_its_environment_and_the_setup_before_it_are_captured() -> None:
    script = HEAD + (
        "pip install -U transformers\n"
        "export VLLM_ROCM_USE_AITER=1\n"
        "export MAX_NUM_SEQS=256\n"  # a shell variable that only builds a flag
        'vllm serve "$MODEL" --port "$PORT" -tp "$TP" --max-num-seqs $MAX_NUM_SEQS > server.log 2>&1 &\n'
        'SERVER_PID=$!\nwait_for_server_ready --port "$PORT" --server-pid "$SERVER_PID"\n'
        "pip install datasets\n"  # the benchmark client's, after the server
    )
    captured = run_script(script, PATH, ENV)
    assert captured == Captured(
        argv=["vllm", "serve", "org/m", "--port", "8888", "-tp", "8", "--max-num-seqs", "256"],
        env={"VLLM_ROCM_USE_AITER": "1"},
        setup=[["pip", "install", "-U", "transformers"]],
        files={},
        shell_only=["MAX_NUM_SEQS"],
    )


def test_a_server_still_starting_when_the_script_ends_is_waited_for() -> None:
    """A script that leaves its server starting in the background and exits: the capture
    comes from the job it left running (its process group), not from the script."""
    script = HEAD + '{ command sleep 0.5; vllm serve "$MODEL" -tp "$TP"; } > server.log 2>&1 &\nexit 0\n'
    captured = run_script(script, PATH, ENV)
    assert isinstance(captured, Captured)
    assert captured.argv == ["vllm", "serve", "org/m", "-tp", "8"]


def test_a_script_that_fails_says_its_last_error_line() -> None:
    script = HEAD + "echo 'checking the image' >&2\necho 'this image does not run on MI300X' >&2\nexit 1\n"
    assert run_script(script, PATH, ENV) == "this image does not run on MI300X"


def test_a_python_step_before_the_server_is_not_run_but_named() -> None:
    script = HEAD + 'python3 patch_model.py --fix-rope\nvllm serve "$MODEL" -tp "$TP"\n'
    assert run_script(script, PATH, ENV) == (
        "it runs `python3 patch_model.py --fix-rope` before the server (a Python step, not run "
        "here: a recipe's setup holds only pip install lines)"
    )


def test_nothing_the_script_started_outlives_the_capture() -> None:
    """A helper job the script leaves running (a log tail, a monitor) is killed with its
    process group once the server command is captured."""
    import uuid

    marker = f"aim-capture-{uuid.uuid4().hex}"
    script = HEAD + (
        f"( exec -a {marker} /bin/sleep 300 ) &\n"
        'vllm serve "$MODEL" -tp "$TP" > server.log 2>&1 &\n'
        'SERVER_PID=$!\nwait_for_server_ready --port "$PORT" --server-pid "$SERVER_PID"\n'
    )
    captured = run_script(script, PATH, ENV)
    assert isinstance(captured, Captured) and captured.argv[:2] == ["vllm", "serve"]
    left = [p for p in Path("/proc").glob("[0-9]*/cmdline") if marker.encode() in _read(p)]
    assert left == []


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # a process that ended meanwhile
        return b""
