"""scripts/gen_flag_lists.py (data/flags.json's generator): its readers (scripts/flagreaders.py)
on small synthetic trees shaped like the real files, and its wheel reader
(scripts/flagsources.py) on an in-memory wheel served with HTTP Range answers.

The vLLM tree mimics vLLM 0.33.0's wheel, where ``make_arg_parser`` moved from
``vllm/entrypoints/openai/cli_args.py`` to ``vllm/entrypoints/common/cli_args.py`` (the old
reader crashed on it) and ``-O3`` is rewritten by ``vllm/utils/argparse_utils.py``; the
SGLang tree mimics SGLang 0.5.23's wheel, whose ``ServerArgs`` fields moved to namespace
classes in ``sglang/srt/arg_groups/fields/*.py`` (the old reader found 9 flags). The snippets
keep those files' shapes (the statements the readers look at), not their full text."""

from __future__ import annotations

import base64
import hashlib
import importlib
import io
import zipfile
from pathlib import Path
from textwrap import dedent
from types import ModuleType

import httpx
import pytest
from support.paths import REPO

SCRIPTS = REPO / "scripts"


@pytest.fixture
def scripts(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, ModuleType, ModuleType]:
    if not (SCRIPTS / "gen_flag_lists.py").exists():
        pytest.skip("scripts/ is not part of an installed package")
    monkeypatch.syspath_prepend(str(SCRIPTS))
    return tuple(importlib.import_module(m) for m in ("flagreaders", "flagsources", "gen_flag_lists"))  # type: ignore[return-value]


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(dedent(text))
    return root


VLLM_0_33_0 = {
    "vllm/entrypoints/cli/serve.py": """
        from vllm.entrypoints.common.cli_args import (
            make_arg_parser,
            validate_parsed_serve_args,
        )
        from vllm.utils.argparse_utils import FlexibleArgumentParser

        class ServeSubcommand(CLISubcommand):
            def subparser_init(self, subparsers):
                serve_parser = subparsers.add_parser("serve")
                serve_parser = make_arg_parser(serve_parser)
                return serve_parser
    """,
    "vllm/entrypoints/common/cli_args.py": """
        from vllm.config import config
        from vllm.engine.arg_utils import AsyncEngineArgs, optional_type
        from vllm.utils.argparse_utils import FlexibleArgumentParser

        @config
        class BaseFrontendArgs:
            lora_modules: list[LoRAModulePath] | None = None
            enable_auto_tool_choice: bool = False
            sse_keep_alive_interval: int = 0
            enable_log_deltas: bool = True

            @classmethod
            def add_cli_args(cls, parser):
                from vllm.engine.arg_utils import get_kwargs

                frontend_kwargs = get_kwargs(cls)
                frontend_group = parser.add_argument_group(title="Frontend")
                for key, value in frontend_kwargs.items():
                    extra_flags = value.pop("flags", [])
                    frontend_group.add_argument(*extra_flags, f"--{key.replace('_', '-')}", **value)
                return parser

        @config
        class FrontendArgs(BaseFrontendArgs):
            host: str | None = None
            port: int = 8000
            grpc_port: int | None = None

        def make_arg_parser(parser):
            parser.add_argument("model_tag", type=str, nargs="?")
            parser.add_argument("--headless", action="store_true", default=False)
            parser.add_argument("--api-server-count", "-asc", type=int, default=None)
            parser.add_argument("--config")
            parser.add_argument("--grpc", action="store_true", default=False)
            parser = FrontendArgs.add_cli_args(parser)
            parser = AsyncEngineArgs.add_cli_args(parser)
            return parser
    """,
    "vllm/engine/arg_utils.py": """
        def _compute_kwargs(cls):
            for field in fields(cls):
                type_hints = get_type_hints(field.type)
                if dataclass_cls is not None:
                    pass
                elif type_hints == {bool, str, type(None)}:
                    kwargs[name]["nargs"] = "?"
                elif contains_type(type_hints, bool):
                    kwargs[name]["action"] = argparse.BooleanOptionalAction

        class EngineArgs:
            model: str = ModelConfig.model
            enforce_eager: bool = ModelConfig.enforce_eager
            disable_log_stats: bool = False

            @staticmethod
            def add_cli_args(parser):
                model_group.add_argument("--model", **model_kwargs["model"])
                model_group.add_argument("--enforce-eager", **model_kwargs["enforce_eager"])
                model_group.add_argument("--hf-token", **model_kwargs["hf_token"])
                parallel_group.add_argument(
                    "--tensor-parallel-size", "-tp", **parallel_kwargs["tensor_parallel_size"]
                )
                cache_group.add_argument(
                    "--enable-prefix-caching",
                    **{**cache_kwargs["enable_prefix_caching"], "default": None},
                )
                vllm_group.add_argument("--compilation-config", "-cc", **vllm_kwargs["compilation_config"])
                vllm_group.add_argument("--optimization-level", **vllm_kwargs["optimization_level"])
                parser.add_argument("--disable-log-stats", action="store_true")
                return parser

        class AsyncEngineArgs(EngineArgs):
            pass
    """,
    "vllm/config/__init__.py": "from vllm.config.model import ModelConfig\n",
    "vllm/config/model.py": """
        class ModelConfig:
            model: str = "Qwen/Qwen3-0.6B"
            enforce_eager: bool = False
            hf_token: bool | str | None = None
    """,
    "vllm/config/cache.py": """
        class CacheConfig:
            enable_prefix_caching: bool | None = None
    """,
    "vllm/utils/argparse_utils.py": """
        class FlexibleArgumentParser(ArgumentParser):
            def parse_args(self, args=None, namespace=None):
                processed_args = list[str]()
                for i, arg in enumerate(args):
                    if arg.startswith("--help="):
                        processed_args.append("--help")
                    elif arg.startswith("--"):
                        processed_args.append(arg)
                    elif arg.startswith("-O") and arg != "-O":
                        # allow -O flag to be used without space, e.g. -O3 or -Odecode
                        optimization_level = arg[3:] if arg[2] == "=" else arg[2:]
                        processed_args += ["--optimization-level", optimization_level]
                    elif arg == "-O" and i + 1 < len(args) and args[i + 1] in {"0", "1", "2", "3"}:
                        processed_args.append("--optimization-level")
                    else:
                        processed_args.append(arg)
                return super().parse_args(processed_args, namespace)
    """,
}


def test_vllm_reader_follows_the_moved_cli_args_of_0_33_0(
    tmp_path: Path, scripts: tuple[ModuleType, ...]
) -> None:
    readers, sources, _ = scripts
    tree = sources.LocalTree(write_tree(tmp_path, VLLM_0_33_0))
    found = readers.vllm_flags(tree)
    assert found.flags == {
        # make_arg_parser's literals (model_tag is positional)
        "--headless", "--api-server-count", "-asc", "--config", "--grpc",
        # FrontendArgs and its base: --<field>; --no-<field> for a bool (BooleanOptionalAction)
        "--lora-modules", "--enable-auto-tool-choice", "--no-enable-auto-tool-choice",
        "--sse-keep-alive-interval", "--enable-log-deltas", "--no-enable-log-deltas",
        "--host", "--port", "--grpc-port",
        # the engine's add_argument names; --no- only where get_kwargs gives a bool field
        "--model", "--enforce-eager", "--no-enforce-eager", "--hf-token",
        "--tensor-parallel-size", "-tp", "--enable-prefix-caching", "--no-enable-prefix-caching",
        "--compilation-config", "-cc", "--optimization-level", "--disable-log-stats",
    }  # fmt: skip
    assert found.attached == {"-O": "--optimization-level"}  # -O3 -> --optimization-level 3
    assert "vllm/entrypoints/common/cli_args.py" in tree.read_paths
    assert "vllm/utils/argparse_utils.py" in tree.read_paths
    assert "vllm/entrypoints/openai/cli_args.py" not in tree.names


def test_vllm_reader_reads_what_minus_o_meant_in_0_10(scripts: tuple[ModuleType, ...]) -> None:
    """vLLM 0.10.1's vllm/utils/__init__.py: -O was --compilation-config's alias and -O3 its
    dotted key -O.level=3 (a -O.x key is left to the dotted-key handling)."""
    readers = scripts[0]
    source = dedent("""
        class FlexibleArgumentParser(ArgumentParser):
            def parse_args(self, args=None, namespace=None):
                for i, arg in enumerate(args):
                    if arg.startswith('--'):
                        processed_args.append(arg)
                    elif arg.startswith('-O') and arg != '-O' and arg[2] != '.':
                        # allow -O flag to be used without space, e.g. -O3 or -Odecode
                        level = arg[3:] if arg[2] == '=' else arg[2:]
                        processed_args.append(f'-O.level={level}')
                    else:
                        processed_args.append(arg)
    """)
    assert readers.attached_values(readers.ast.parse(source)) == {"-O": "-O.level"}


SGLANG_0_5_23 = {
    "sglang/srt/server_args.py": """
        import argparse

        from sglang.srt.arg_groups.arg_utils import add_cli_args_from_dataclass
        from sglang.srt.arg_groups.argparse_actions import DeprecatedStoreTrueAction
        from sglang.srt.arg_groups.fields import collect_input_fields
        from sglang.srt.arg_groups.fields.memory import (
            Memory,
        )
        from sglang.srt.arg_groups.fields.parallel import (
            Parallel,
        )

        class ServerArgs:
            LANGUAGE_MODEL_ONLY_ARCHITECTURES = ("DeepseekV4ForCausalLM",)

            @staticmethod
            def add_cli_args(parser: argparse.ArgumentParser):
                add_cli_args_from_dataclass(parser, ServerArgs)
                parser.add_argument("--sampling-backend", type=str, choices=SAMPLING_BACKEND_CHOICES)
                parser.add_argument("--config", type=str)
                parser.add_argument("--enable-dp-attention", action=DeprecatedStoreTrueAction)

        _INPUT_NAMESPACES = [
            Parallel,
            Memory,
        ]
        _HIDDEN = [Parallel]  # a list no call receives is not a field source

        _annotations, _defaults, _namespaces = collect_input_fields(_INPUT_NAMESPACES)
    """,
    "sglang/srt/arg_groups/fields/parallel.py": """
        from typing import Optional

        import msgspec

        from sglang.srt.arg_groups.arg_utils import A, Arg, Derived

        class Parallel(msgspec.Struct):
            _NS_PATH = "parallel"

            nnodes: A[int, "The number of nodes."] = 1
            dist_init_addr: A[
                Optional[str],
                Arg(help="The host address for the distributed backend.", aliases=["--nccl-init-addr"]),
            ] = None
            tp_size: A[int, Arg(help="The tensor parallelism size.", aliases=["--tensor-parallel-size"])] = 1
            attn_dp_size: A[int, Arg(help="Attention DP width.", cli_name="--attn-dp-size")] = 1
            enable_dp_attention: A[bool, Arg(help="Deprecated.", no_cli=True)] = False
            tp_rank: A[int, Derived(doc="The rank in the TP group.")]
    """,
    "sglang/srt/arg_groups/fields/memory.py": """
        import argparse
        from typing import Optional

        import msgspec

        from sglang.srt.arg_groups.arg_utils import A, Arg

        class Memory(msgspec.Struct):
            _NS_PATH = "memory"

            mem_fraction_static: A[Optional[float], "The memory fraction for static allocation."] = None
            cuda_graph_max_bs_decode: A[Optional[int], "The largest batch of decode CUDA graphs."] = None
            enable_memory_saver: A[
                bool, Arg(help="Allow saving memory.", action=argparse.BooleanOptionalAction)
            ] = False
    """,
}


def test_sglang_reader_reads_the_namespace_fields_of_0_5_23(
    tmp_path: Path, scripts: tuple[ModuleType, ...]
) -> None:
    readers, sources, _ = scripts
    tree = sources.LocalTree(write_tree(tmp_path, SGLANG_0_5_23))
    found = readers.sglang_flags(tree)
    assert found.flags == {
        "--sampling-backend", "--config", "--enable-dp-attention",  # add_cli_args' literals
        "--nnodes", "--dist-init-addr", "--nccl-init-addr", "--tp-size", "--tensor-parallel-size",
        "--attn-dp-size",  # cli_name; no_cli and Derived fields register nothing
        "--mem-fraction-static", "--cuda-graph-max-bs-decode",
        "--enable-memory-saver", "--no-enable-memory-saver",  # action=BooleanOptionalAction
    }  # fmt: skip
    assert set(tree.read_paths) == set(SGLANG_0_5_23)


def test_atom_reader_sees_which_parser_accepts_both_spellings(
    tmp_path: Path, scripts: tuple[ModuleType, ...]
) -> None:
    """ATOM main (ffdf3bb5ddf8) builds its server parser from atom/utils/arg_parser.py, which
    registers the snake/kebab twin of every long flag; v0.1.5 used a plain ArgumentParser."""
    readers, sources, _ = scripts
    engine = """
        class EngineArgs:
            @staticmethod
            def add_cli_args(parser):
                parser.add_argument("--model", type=str)
                parser.add_argument("--tensor-parallel-size", "-tp", type=int, default=1)
                parser.add_argument("--kv_cache_dtype", type=str, default="bf16")
                parser.add_argument("--enable_prefix_caching", action=argparse.BooleanOptionalAction)
    """
    server = """
        {import_line}

        def main():
            parser = {parser}(description="ATOM OpenAI API Server")
            EngineArgs.add_cli_args(parser)
            parser.add_argument("--host", type=str, default=DEFAULT_HOST)
            parser.add_argument("--server-port", type=int, default=8000)
    """
    twins = """
        import argparse

        class FlexibleArgumentParser(argparse.ArgumentParser):
            def add_argument(self, *names, **kwargs):
                expanded = list(names)
                for opt in names:
                    stem = opt[2:]
                    for alt in ("--" + stem.replace("_", "-"), "--" + stem.replace("-", "_")):
                        expanded.append(alt)
                return super().add_argument(*expanded, **kwargs)
    """
    main = write_tree(
        tmp_path / "main",
        {
            "atom/model_engine/arg_utils.py": engine,
            "atom/utils/arg_parser.py": twins,
            "atom/entrypoints/openai/api_server.py": dedent(server).format(
                import_line="from atom.utils.arg_parser import FlexibleArgumentParser",
                parser="FlexibleArgumentParser",
            ),
        },
    )
    release = write_tree(
        tmp_path / "v0.1.5",
        {
            "atom/model_engine/arg_utils.py": engine,
            "atom/entrypoints/openai_server.py": "from atom.entrypoints.openai.api_server import main\n",
            "atom/entrypoints/openai/api_server.py": dedent(server).format(
                import_line="import argparse", parser="argparse.ArgumentParser"
            ),
        },
    )
    flags = {
        "--model", "--tensor-parallel-size", "-tp", "--kv_cache_dtype", "--enable_prefix_caching",
        "--no-enable_prefix_caching", "--host", "--server-port",
    }  # fmt: skip
    on_main = readers.atom_flags(sources.LocalTree(main))
    assert on_main.flags == flags and on_main.snake_and_kebab
    on_release = readers.atom_flags(sources.LocalTree(release))
    assert on_release.flags == flags and not on_release.snake_and_kebab


def _wheel(files: dict[str, str], tamper: str | None = None) -> bytes:
    """A wheel: the files and a RECORD of their sha256 (``tamper``'s entry is wrong)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as wheel:  # stored: the big member stays big
        rows = []
        for path, text in files.items():
            data = text.encode()
            wheel.writestr(path, data)
            digest = hashlib.sha256(data if path != tamper else b"other").digest()
            rows.append(f"{path},sha256={base64.urlsafe_b64encode(digest).rstrip(b'=').decode()},{len(data)}")
        wheel.writestr("pkg-1.0.dist-info/RECORD", "\n".join([*rows, "pkg-1.0.dist-info/RECORD,,"]) + "\n")
    return out.getvalue()


def test_a_wheel_is_read_by_range_requests_and_checked_against_its_record(
    scripts: tuple[ModuleType, ...],
) -> None:
    sources = scripts[1]
    big = "x = 1\n" * 200_000  # ~1.2 MB of a member nobody reads
    blob = _wheel({"pkg/a.py": "A = 1\n", "pkg/b.py": "B = 2\n", "pkg/big.py": big}, tamper="pkg/b.py")
    served: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        start, _, end = request.headers["Range"].removeprefix("bytes=").partition("-")
        part = blob[int(start) : int(end) + 1]
        served.append(len(part))
        return httpx.Response(
            206, content=part, headers={"Content-Range": f"bytes {start}-{end}/{len(blob)}"}
        )

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        tree = sources.WheelTree(client, "https://files.example/pkg-1.0-py3-none-any.whl", len(blob))
        assert {"pkg/a.py", "pkg/b.py", "pkg/big.py"} <= tree.names
        assert tree.read("pkg/a.py") == "A = 1\n"
        with pytest.raises(RuntimeError, match="does not match the wheel's RECORD"):
            tree.read("pkg/b.py")
    assert tree.read_paths == ["pkg/a.py"]
    assert sum(served) < len(blob) / 4  # the big member was never fetched

    def whole_file(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=blob)  # a server that ignores Range

    with httpx.Client(transport=httpx.MockTransport(whole_file)) as client, pytest.raises(RuntimeError):
        sources.WheelTree(client, "https://files.example/pkg.whl", len(blob))


def test_which_versions_are_read(tmp_path: Path, scripts: tuple[ModuleType, ...]) -> None:
    """Those the bundled images' tags name (configs and benchmark rows), the default images',
    the current release and the previously recorded ones; a nightly tag names none."""
    gen = scripts[2]
    write_tree(
        tmp_path,
        {
            "a.yaml": """
                vllm_serve:
                  1_gpu:
                    image: vllm/vllm-openai-rocm:v0.17.0
                    benchmarks: [{image: "rocm/vllm:rocm6.4.1_vllm_0.9.0.1_20250605"}]
                  2_gpu: {image: "vllm/vllm-openai-rocm:nightly-09663abde0f5"}
                sglang_serve:
                  8_gpu: {image: "lmsysorg/sglang:v0.5.12-rocm700-mi30x"}
            """,
        },
    )
    previous = {"vllm": {"versions": [{"version": "0.10.1"}, {"version": "0.9.0.1"}]}}
    newest = {"vllm": "0.33.0", "sglang": "0.5.23", "atom": "0.1.5"}
    wanted = gen.wanted_versions(previous, tmp_path, newest, ["atom=git ffdf3bb5ddf8"], ["vllm=0.10.1"])
    assert wanted["vllm"]["0.17.0"] == ["bundled image vllm/vllm-openai-rocm:v0.17.0"]
    assert wanted["vllm"]["0.9.0.1"] == ["bundled image rocm/vllm:rocm6.4.1_vllm_0.9.0.1_20250605"]
    assert wanted["vllm"]["0.33.0"] == ["the current release on PyPI"]
    assert "0.10.1" not in wanted["vllm"]  # --drop
    assert "bundled image lmsysorg/sglang:v0.5.12-rocm700-mi30x" in wanted["sglang"]["0.5.12"]
    assert any(why.startswith("default image") for why in wanted["sglang"]["0.5.16"])
    assert wanted["atom"]["git ffdf3bb5ddf8"] == ["asked for (--add)"]
    assert sorted(wanted["vllm"], key=gen.version_key) == ["0.9.0.1", "0.17.0", "0.27.1", "0.33.0"]
