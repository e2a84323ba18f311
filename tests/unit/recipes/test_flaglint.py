"""Flag lint: server flags checked against the option names of vLLM (0.10.1 and
0.27.1 wheels), SGLang (0.5.17 wheel) and ATOM (ROCm/ATOM ffdf3bb5ddf8) as
scripts/gen_flag_lists.py read them from each tool's own argument definitions."""

from __future__ import annotations

import json

import pytest

from aim_catalog.recipes import flaglint
from aim_catalog.recipes.files import parse_bytes

FLAGS = json.loads(flaglint.DATA.read_text())


def test_the_data_records_what_it_was_read_from() -> None:
    for backend in ("vllm", "sglang", "atom"):
        for version in FLAGS[backend]["versions"]:
            assert version["version"] and version["source"] and version["files"]
            assert len(version["flags"]) > 50
    # spot checks against the tools' sources
    assert "--tp-size" in FLAGS["sglang"]["versions"][0]["flags"]
    vllm = {f for v in FLAGS["vllm"]["versions"] for f in v["flags"]}
    assert {"--tensor-parallel-size", "-tp", "--no-enable-prefix-caching", "--max-model-len"} <= vllm
    atom = FLAGS["atom"]["versions"][0]["flags"]
    assert {"--server-port", "-tp", "--kv_cache_dtype", "--no-enable_prefix_caching"} <= set(atom)


@pytest.mark.parametrize(
    ("backend", "written", "canonical"),
    [
        ("sglang", "--tp", "--tp-size"),  # argparse unique prefix
        ("sglang", "--tp-size", "--tp-size"),
        ("vllm", "--distributed_executor_backend", "--distributed-executor-backend"),
        ("vllm", "--max_model_len", "--max-model-len"),
        ("atom", "--kv-cache-dtype", "--kv_cache_dtype"),  # ATOM registers the snake spelling
        ("sglang", "--no-such-flag", "--no-such-flag"),
        ("sglang", "--m", "--m"),  # ambiguous prefix: left alone
    ],
)
def test_canonical_spellings(backend: str, written: str, canonical: str) -> None:
    assert flaglint.canonical(backend, written) == canonical


def test_ingested_args_are_stored_canonical() -> None:
    text = (
        "recipe_id: x\nmodel_id: o/m\nhuggingface_id: o/m\nhardware: MI300X\nprecision: bf16\n"
        "vllm_serve:\n  2_gpu:\n    enabled: true\n    args: {--distributed_executor_backend: mp, -tp: '2'}\n"
        "sglang_serve:\n  2_gpu:\n    enabled: true\n    args: {--tp: 2, --mem-fraction-static: '0.8'}\n"
    )
    doc, problems = parse_bytes(text.encode(), "x.yaml")
    assert problems == [] and doc is not None
    vllm, sglang = doc.serve_configs
    assert list(vllm.args) == ["--distributed-executor-backend", "-tp"]
    assert list(sglang.args) == ["--tp-size", "--mem-fraction-static"]


def test_lint_names_the_closest_flag_and_vllm_flags_in_sglang() -> None:
    found = dict(flaglint.lint("vllm", {"--max-model-length": "8192", "--max-model-len": "1"}))
    assert list(found) == ["--max-model-length"]
    assert "closest real one: --max-model-len" in found["--max-model-length"]
    found = dict(flaglint.lint("sglang", {"--gpu-memory-utilization": "0.9", "--context-length": "1"}))
    assert list(found) == ["--gpu-memory-utilization"]
    assert "vLLM flag in an SGLang section" in found["--gpu-memory-utilization"]
    assert "--mem-fraction-static" in found["--gpu-memory-utilization"]
    # vLLM's dotted compilation-config shorthand is a known flag
    assert flaglint.lint("vllm", {"-cc.pass_config.fuse_rope_kvcache": "True"}) == []


def test_lint_refuses_a_bare_dotted_key() -> None:
    # vLLM's FlexibleArgumentParser takes the next argv word as a bare dotted key's value
    key = "-cc.use_inductor_graph_partition"
    found = dict(flaglint.lint("vllm", {key: None, "--max-model-len": "1"}))
    assert list(found) == [key]
    assert f"needs a value ({key}=VALUE)" in found[key]
    assert flaglint.lint("vllm", {"-cc.use_inductor_graph_partition": False}) == []


def test_backend_specific_lint_rules_are_backend_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefix abbreviations and "a vLLM flag in an X section" follow data/backends.json
    (argparse_abbrev, translates_flags_of), not a backend's name in flaglint."""
    from dataclasses import replace

    from aim_catalog.backends import registry as backends

    sglang = backends.get("sglang")
    assert sglang.argparse_abbrev and sglang.translates_flags_of == "vllm"
    assert not backends.get("vllm").argparse_abbrev and backends.get("atom").translates_flags_of is None
    # ATOM's data says neither: no prefix expansion, a vLLM-only flag is just unknown
    assert flaglint.canonical("atom", "--server-p") == "--server-p"
    (plain,) = flaglint.lint("atom", {"--mm-ipc-gpu-memory-gb": "1"})
    assert "vLLM flag" not in plain[1]
    # give ATOM those properties in the data: the same code now applies them to it
    changed = replace(backends.get("atom"), argparse_abbrev=True, translates_flags_of="vllm")
    monkeypatch.setitem(backends._BACKENDS, "atom", changed)
    assert flaglint.canonical("atom", "--server-p") == "--server-port"
    (foreign,) = flaglint.lint("atom", {"--mm-ipc-gpu-memory-gb": "1"})
    assert "is a vLLM flag in an ATOM section" in foreign[1]
