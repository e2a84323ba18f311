"""``server_argv``: bare, omitted and dotted flags as the server's command line takes them."""

from __future__ import annotations

from aim_catalog.backends.server_args import server_argv


def test_server_argv_renders_bare_and_omitted_flags() -> None:
    args = {
        "--a": "true",
        "--b": True,
        "--c": None,
        "--d": "false",
        "--e": False,
        "--f": "8",
        "--g": 0.9,
    }
    assert server_argv(args) == ["--a", "--b", "--c", "--f", "8", "--g", "0.9"]


def test_server_argv_writes_dotted_keys_as_key_equals_value() -> None:
    # vLLM's FlexibleArgumentParser (vllm/utils/argparse_utils.py) takes the next argv word as
    # the value of a bare dotted key: "-cc.a -cc.b" would set a to "-cc.b". The InferenceX
    # gpt-oss MI355X script passes -cc.pass_config.fuse_rope_kvcache=True.
    args = {
        "-cc.pass_config.fuse_rope_kvcache": "True",
        "-cc.use_inductor_graph_partition": "True",
        "-O.mode": "3",
        "--compilation-config.cudagraph_mode": "false",
        "--kv-transfer-config.x": False,
        "--y.z": True,
        "--enforce-eager": "true",
    }
    assert server_argv(args) == [
        "-cc.pass_config.fuse_rope_kvcache=True",
        "-cc.use_inductor_graph_partition=True",
        "-O.mode=3",
        "--compilation-config.cudagraph_mode=false",
        "--kv-transfer-config.x=false",
        "--y.z=true",
        "--enforce-eager",
    ]
