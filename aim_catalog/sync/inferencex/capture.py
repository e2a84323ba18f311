"""Running an InferenceX launch script without starting anything.

The script runs in bash with ``benchmarks/benchmark_lib.sh`` replaced by stubs: the
benchmark harness does nothing, and the command that would start the server is captured
(its argv and the environment at that moment) instead of run. So flags a script switches
on ISL, OSL or concurrency are resolved exactly as InferenceX resolves them. ``pip``
calls before the server starts are captured as setup steps (after it, they install the
benchmark client's packages and are not the server's). Any other Python the script would run
is not run: the entry is reported as one a recipe cannot hold. Needs ``bash``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from aim_catalog.errors import EnvironmentProblem

# Variables the InferenceX workflow passes (benchmark-tmpl.yml `env:`), so not the script's.
WORKFLOW_VARS = frozenset(
    [
        "MODEL",
        "TP",
        "CONC",
        "ISL",
        "OSL",
        "MAX_MODEL_LEN",
        "RANDOM_RANGE_RATIO",
        "RESULT_FILENAME",
        "PORT",
        "EP_SIZE",
        "DP_ATTENTION",
        "PP_SIZE",
        "DCP_SIZE",
        "PCP_SIZE",
        "SPEC_DECODING",
        "FRAMEWORK",
        "PRECISION",
        "IMAGE",
        "EXP_NAME",
        "MODEL_PREFIX",
        "GPU_COUNT",
        "RUN_EVAL",
        "EVAL_ONLY",
        "SCENARIO_TYPE",
        "IS_AGENTIC",
        "HF_HUB_CACHE",
        "DISAGG",
        "RESULT_DIR",
        "SCENARIO_SUBDIR",
        "KV_OFFLOADING",
        "HF_TOKEN",
    ]
)
# Variables a script exports for the benchmark harness, not for the server: lm-eval's request
# concurrency (benchmark_lib.sh run_eval reads EVAL_CONCURRENT_REQUESTS).
HARNESS_VARS = frozenset(("EVAL_CONCURRENT_REQUESTS",))
# Prefixes of the variables the servers and their runtimes read (vLLM, SGLang, ATOM, AITER,
# ROCm/HIP/HSA, RCCL/NCCL, PyTorch, OpenMP, safetensors, Triton, MIOpen, Hugging Face).
RUNTIME_PREFIXES = (
    "VLLM_", "SGLANG_", "ATOM_", "AITER_", "ROCM_", "HIP_", "HSA_", "AMD", "GPU_", "RCCL_", "NCCL_",
    "TORCH_", "PYTORCH_", "OMP_", "SAFETENSORS_", "TRITON_", "MIOPEN_", "HF_", "TOKENIZERS_",
)  # fmt: skip
_SHELL_OWN = ("PWD", "OLDPWD", "SHLVL", "_")

STUB_LIB = r"""
# Stand-in for benchmarks/benchmark_lib.sh: the harness does nothing, the server is captured.
check_env_vars() { :; }
start_gpu_monitor() { :; }
stop_gpu_monitor() { :; }
wait_for_server_ready() {
  local pid=""
  while [ $# -gt 0 ]; do case "$1" in --server-pid) pid="$2"; shift;; esac; shift; done
  if [ -n "$pid" ]; then wait "$pid" 2>/dev/null; else wait; fi
}
wait_for_ready() { wait; }
run_benchmark_serving() { :; }
setup_eval_context() { :; }
run_eval() { :; }
append_lm_eval_summary() { :; }
hf() { :; }
huggingface-cli() { :; }
_aim_setup() {
  [ -e "$AIM_CAPTURE_DIR/done" ] || printf '%s\0' "$@" '--aim-end--' >> "$AIM_CAPTURE_DIR/setup"
}
pip() { _aim_setup pip "$@"; }
pip3() { _aim_setup pip "$@"; }
nvidia-smi() { :; }
rocm-smi() { case " $* " in *" --showfw "*) printf 'GPU[0]\t\t: MEC firmware version: \t177\n';; esac; }
amd-smi() { :; }
sleep() { :; }
command_not_found_handle() { return 0; }
_aim_capture() {
  printf '%s\0' "$@" > "$AIM_CAPTURE_DIR/argv"
  env -0 > "$AIM_CAPTURE_DIR/env"
  : > "$AIM_CAPTURE_DIR/done"
  exit 0
}
vllm() { _aim_capture vllm "$@"; }
sglang() { if [ "$1" = serve ]; then _aim_capture sglang "$@"; fi; }
python3() {
  case "$1 $2" in
    "-m sglang.launch_server"|"-m atom.entrypoints.openai_server"|"-m vllm.entrypoints.openai.api_server")
      _aim_capture python3 "$@";;
    "-m pip") shift 2; _aim_setup pip "$@";;
    *) [ -e "$AIM_CAPTURE_DIR/done" ] || printf '%s\n' "python3 $*" >> "$AIM_CAPTURE_DIR/unsupported"
       return 1;;
  esac
}
python() { python3 "$@"; }
"""


@dataclass(frozen=True)
class Captured:
    """What a launch script would have run: the server argv, the variables it exported for
    the server, the setup commands before it, the files its ``--config`` flags name, and
    the exported variables left out as shell-only (they only build flags)."""

    argv: list[str]
    env: dict[str, str]
    setup: list[list[str]]
    files: dict[str, str]
    shell_only: list[str]


def bash() -> str:
    """The bash the scripts run in; one clear line when there is none."""
    found = shutil.which("bash")
    if found is None:
        raise EnvironmentProblem(
            "catalog sync inferencex runs the launch scripts in bash to resolve their flags; "
            "no bash on PATH (install it: apt-get install bash)"
        )
    return found


def run_script(text: str, script_path: str, env: dict[str, str]) -> Captured | str:
    """Run a launch script with the harness stubbed; what it would have started, or why it
    started nothing (its last error line)."""
    shell = bash()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        script = root / script_path
        script.parent.mkdir(parents=True, exist_ok=True)
        (root / "workspace").mkdir()
        lib = root / "benchmarks" / "benchmark_lib.sh"
        lib.parent.mkdir(parents=True, exist_ok=True)
        lib.write_text(STUB_LIB)
        for depth in range(1, 4):  # `source $(dirname $0)/../../benchmark_lib.sh` at any depth
            alias = script.parent.joinpath(*[".."] * depth, "benchmark_lib.sh").resolve()
            if not alias.exists() and alias.is_relative_to(root):
                alias.write_text(STUB_LIB)
        # Scripts that do not source the harness (Oct 2025 ones) get the stubs too.
        script.write_text(f'source "{lib}"\n' + text.replace("/workspace", str(root / "workspace")))
        capture = root / "capture"
        capture.mkdir()
        base = {"PATH": "/usr/bin:/bin", "HOME": str(root), "AIM_CAPTURE_DIR": str(capture), **env}
        # In a session of its own, the script's jobs (a server started with `&`) share its
        # process group: the capture is waited for only while one of them still runs.
        # Its error output goes to a file, not a pipe: a job it leaves running (a log tail)
        # would hold a pipe open, and reading it would wait for that job.
        errors_file = root / "stderr"
        with (
            errors_file.open("wb") as errors_out,
            subprocess.Popen(
                [shell, str(script)],
                cwd=root,
                env=base,
                stdout=subprocess.DEVNULL,
                stderr=errors_out,
                start_new_session=True,
            ) as proc,
        ):
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.wait()
                if not (capture / "done").exists():  # a job it left waiting, after the capture: fine
                    return "the script ran for more than 60 s without starting a server"
        stderr = errors_file.read_bytes()[-65536:]  # its last lines are what it says
        for _ in range(100):  # a server started with `&` may still be writing its capture
            if (capture / "done").exists() or not _group_alive(proc.pid):
                break
            time.sleep(0.05)
        _kill_group(proc.pid)  # nothing the script started outlives its reading
        if (capture / "unsupported").exists():  # even when the script went on to start the server
            step = (capture / "unsupported").read_text().splitlines()[0]
            return (
                f"it runs `{step}` before the server (a Python step, not run here: a recipe's "
                "setup holds only pip install lines)"
            )
        if not (capture / "done").exists():
            errors = [
                line for line in stderr.decode(errors="replace").splitlines() if not line.startswith("+")
            ]
            return errors[-1].replace(str(root), "<InferenceX>") if errors else "no error output"
        argv = (capture / "argv").read_bytes().decode().split("\0")[:-1]
        after = dict(
            item.split("=", 1) for item in (capture / "env").read_bytes().decode().split("\0") if "=" in item
        )
        exported = {
            k: v
            for k, v in after.items()
            if base.get(k) != v and k not in WORKFLOW_VARS and k not in HARNESS_VARS and k not in _SHELL_OWN
        }
        shell_only = sorted(k for k in exported if _builds_flags(k, text))
        files = _config_files(argv, root)
        argv = [a.replace(str(root), "<InferenceX>") for a in argv]
        return Captured(
            argv=argv,
            env={k: v for k, v in exported.items() if k not in shell_only},
            setup=_setup_calls(capture / "setup"),
            files=files,
            shell_only=shell_only,
        )


def _group_alive(group: int) -> bool:
    """Whether a process of the script's process group (a job it left running) is alive."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(group: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


def _builds_flags(name: str, script: str) -> bool:
    """An exported variable no server runtime reads (by its prefix) that the script expands
    itself: a shell variable that builds the command line (MiniMax-M3's ATOM scripts export
    MAX_NUM_SEQS to write ``--max-num-seqs $MAX_NUM_SEQS``), not the server's environment."""
    if name.startswith(RUNTIME_PREFIXES):
        return False
    return re.search(rf"\$(?:{re.escape(name)}\b|\{{{re.escape(name)}\}})", script) is not None


def _setup_calls(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    calls: list[list[str]] = [[]]
    for word in path.read_bytes().decode().split("\0")[:-1]:
        if word == "--aim-end--":
            calls.append([])
        else:
            calls[-1].append(word)
    return [call for call in calls if call]


def _config_files(argv: list[str], root: Path) -> dict[str, str]:
    """The text of the files the server's ``--config`` flags name (the script writes them)."""
    files: dict[str, str] = {}
    for i, token in enumerate(argv):
        name = token.partition("=")[2] if token.startswith("--config=") else None
        if token == "--config" and i + 1 < len(argv):
            name = argv[i + 1]
        written = root / name if name else None
        if name and written is not None and written.is_file():
            files[name] = written.read_text()
    return files
