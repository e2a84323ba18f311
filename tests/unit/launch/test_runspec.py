"""The run spec, built without Docker: argv per backend, flags, devices, quoting."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support.candidates import BASE

from aim_catalog.errors import LaunchFailed, UsageProblem
from aim_catalog.launch.runspec import build_spec, parse_overrides, served_model_name
from aim_catalog.launch.server_command import server_command, with_setup


def command(
    args: dict[str, Any], backend: str = "vllm", gpus: int = 4, **overrides: Any
) -> tuple[list[str], list[str]]:
    port = 8000 if backend == "vllm" else 30000
    return server_command(replace(BASE, args=args, backend=backend, gpu_count=gpus), overrides, port)


def test_vllm_flags_render_as_the_recipe_means_them() -> None:
    argv, notes = command(
        {
            "--model": "Org/Model",  # the recipe's own model (any other is refused)
            "--trust-remote-code": "true",
            "--enforce-eager": True,
            "--enable-prefix-caching": None,
            "--disable-log-stats": "false",
            "--enable-chunked-prefill": False,
            "--max-model-len": "8192",
            "--gpu-memory-utilization": 0.9,
            "--port": "8001",
        }
    )
    assert argv == [
        "vllm", "serve", "Org/Model",
        "--trust-remote-code", "--enforce-eager", "--enable-prefix-caching",
        "--max-model-len", "8192", "--gpu-memory-utilization", "0.9",
        "--tensor-parallel-size", "4",
        "--host", "0.0.0.0", "--port", "8000",
    ]  # fmt: skip
    assert notes == ["recipe's --port replaced by the launcher's"]


def test_tensor_parallel_is_kept_checked_or_injected() -> None:
    assert command({"--tensor-parallel-size": "2", "--pipeline-parallel-size": "2"})[0].count("4") == 0
    assert "TP x PP = 2 uses fewer" in command({"--tensor-parallel-size": "2"})[1][0]
    with pytest.raises(UsageProblem, match="needs more than the 4 GPU"):
        command({"--tensor-parallel-size": "8"})
    with pytest.raises(UsageProblem, match="needs more than"):
        command({}, **{"--tensor-parallel-size": "8"})  # an --arg override is checked too


def test_sglang_gets_its_flag_names_even_from_original_recipes() -> None:
    original = {
        "--model": "Org/Model",
        "--tensor-parallel-size": "4",
        "--gpu-memory-utilization": "0.9",
        "--max-model-len": "32768",
        "--max-num-batched-tokens": "16384",
        "--trust-remote-code": "true",
        "--port": "8001",
    }
    argv, notes = command(original, backend="sglang")
    assert argv == [
        "python3", "-m", "sglang.launch_server", "--model-path", "Org/Model",
        "--tensor-parallel-size", "4", "--mem-fraction-static", "0.9", "--context-length", "32768",
        "--chunked-prefill-size", "16384", "--trust-remote-code",
        "--host", "0.0.0.0", "--port", "30000",
    ]  # fmt: skip
    assert notes[0].startswith(
        "translated vLLM flags for sglang: --gpu-memory-utilization -> --mem-fraction-static"
    )
    # SGLang's canonical TP flag (backends.json); --tp only works as an argparse prefix.
    assert command({}, backend="sglang", gpus=2)[0][5:7] == ["--tp-size", "2"]


def test_overrides() -> None:
    parsed = parse_overrides(["--max-model-len=4096", "--enforce-eager", "--trust-remote-code=false"])
    assert parsed == {"--max-model-len": "4096", "--enforce-eager": True, "--trust-remote-code": "false"}
    argv, _ = command({"--max-model-len": "32768", "--trust-remote-code": "true"}, **parsed)
    assert argv[3:7] == ["--max-model-len", "4096", "--enforce-eager", "--tensor-parallel-size"]
    assert "--trust-remote-code" not in argv
    with pytest.raises(UsageProblem, match="--host is set by the launcher"):
        parse_overrides(["--host=::"])
    # One line, as in a recipe (before: launch --arg let a newline through; issue 18, point 11).
    with pytest.raises(UsageProblem) as multiline:
        parse_overrides(["--chat-template={{ x }}\n{{ y }}"])
    assert str(multiline.value).startswith("--arg --chat-template: value contains a line break U+000A: ")
    with pytest.raises(UsageProblem, match="--arg takes --flag=value or --flag"):
        parse_overrides(["--chat\ttemplate=x"])


def test_docker_run_line_is_quoted_for_the_shell(tmp_path: Path) -> None:
    candidate = replace(BASE, env={"NOTE": 'it\'s "quoted" $HOME'}, args={"--chat-template": "{{ x }} y"})
    spec = build_spec(
        candidate,
        name="n",
        gpus=[0],
        render_minors=[128],
        port=9000,
        hf_cache=tmp_path / "hf cache",
        catalog="sqlite:///x",
        check_devices=False,
    )
    argv = shlex.split(spec.docker_run())
    assert argv[argv.index("-v") + 1] == f"{tmp_path / 'hf cache'}:/root/.cache/huggingface:rw"
    assert 'NOTE=it\'s "quoted" $HOME' in argv
    # the argv's program replaces the image's entrypoint (vLLM's images have `vllm serve`),
    # the rest follows the image: not `IMAGE vllm serve ...`, which would run it twice
    assert spec.command[:2] == ["vllm", "serve"]
    assert argv[argv.index("--entrypoint") + 1] == "vllm" and argv.count("--entrypoint") == 1
    assert argv[-len(spec.command) :] == [spec.image, *spec.command[1:]]
    assert "{{ x }} y" in spec.command
    assert served_model_name(spec) == "Org/Model"


def test_missing_devices_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIM_CATALOG_DEV_ROOT", str(tmp_path))  # a host without /dev/kfd
    with pytest.raises(LaunchFailed, match=r"dev/kfd not found .*--dry-run"):
        build_spec(
            BASE,
            name="n",
            gpus=[0],
            render_minors=[128],
            port=9000,
            hf_cache=tmp_path,
            catalog="c",
        )


def test_setup_wraps_the_container_command_and_is_said_first(tmp_path: Path) -> None:
    """The recipe's setup runs before the server, in the container: the spec keeps the server
    argv as ``command`` and runs it behind the wrapper, the first note says so, and a secret
    of the server argv stays masked in everything shown."""
    setup = ("pip install amd-quark", "pip install -U transformers>=4.57,<5")
    spec = build_spec(
        replace(BASE, setup=setup),
        name="n",
        gpus=[0],
        render_minors=[128],
        port=9000,
        overrides={"--api-key": "sk-launch-secret"},
        hf_cache=tmp_path,
        catalog="sqlite:///x",
        check_devices=False,
    )
    assert spec.setup == list(setup)
    assert spec.command[:3] == ["vllm", "serve", "Org/Model"]
    assert served_model_name(spec) == "Org/Model"
    assert spec.container_command() == with_setup(setup, spec.command)
    assert spec.notes[0] == (
        "setup (from recipe r, runs in the container before the server): "
        "pip install amd-quark; pip install -U transformers>=4.57,<5"
    )
    argv = shlex.split(spec.docker_run())
    assert argv[argv.index("--entrypoint") + 1] == "/bin/sh"
    after_image = argv[argv.index(spec.image) + 1 :]
    assert after_image[:1] == ["-c"] and after_image[2:] == ["aim-setup", *spec.shown_command()]
    shown = spec.as_dict()
    assert shown["setup"] == list(setup)
    assert shown["command"] == spec.shown_command()
    assert shown["container_command"] == with_setup(setup, spec.shown_command())
    assert "sk-launch-secret" not in str(shown) and "sk-launch-secret" in spec.container_command()


def test_without_setup_the_container_runs_the_server_argv(tmp_path: Path) -> None:
    spec = build_spec(
        BASE, name="n", gpus=[0], render_minors=[128], port=9000, hf_cache=tmp_path, catalog="c",
        check_devices=False,
    )  # fmt: skip
    assert spec.setup == [] and spec.container_command() == spec.command
    assert spec.as_dict()["container_command"] == spec.command
    assert not any(note.startswith("setup") for note in spec.notes)
