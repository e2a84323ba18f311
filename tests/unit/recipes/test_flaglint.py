"""Flag lint: server flags checked against the option names of the version in the config's
image, as scripts/gen_flag_lists.py read them from each tool's own argument definitions
(data/flags.json: the PyPI wheels of vLLM 0.9.0.1 to 0.34.0 and SGLang 0.5.9 to 0.5.23, the
ROCm/ATOM tags v0.1.3 to v0.1.5 and commit ffdf3bb5ddf8). The flags named below are the real
ones of those versions (``--numa-bind`` first appears in vLLM 0.21.0, ``--swap-space`` last in
0.17.0, ``-O`` stopped being ``--compilation-config``'s alias after 0.11.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.recipes import recipe_yaml

from aim_catalog.recipes import flaglint
from aim_catalog.recipes.files import parse_bytes
from aim_catalog.recipes.loading import Loader

FLAGS = json.loads(flaglint.DATA.read_text())
VLLM = {v["version"]: v for v in FLAGS["vllm"]["versions"]}
SPAN = f"{FLAGS['vllm']['versions'][0]['version']}..{FLAGS['vllm']['versions'][-1]['version']}"


def test_the_data_records_each_version_and_where_it_was_read() -> None:
    for backend in ("vllm", "sglang", "atom"):
        for entry in FLAGS[backend]["versions"]:
            assert entry["version"] and entry["named_by"]
            if "unreadable" in entry:
                assert "flags" not in entry
                continue
            assert entry["source"]["kind"] in ("wheel", "git") and entry["files"]
            assert len(entry["flags"]) >= 20
    # the current releases the issue names, from their wheels (URL and PyPI's sha256)
    assert VLLM["0.33.0"]["source"]["url"].endswith("vllm-0.33.0-cp38-abi3-manylinux_2_28_x86_64.whl")
    assert len(VLLM["0.33.0"]["source"]["sha256"]) == 64
    assert "vllm/entrypoints/common/cli_args.py" in VLLM["0.33.0"]["files"]  # where it moved
    sglang = {v["version"]: v for v in FLAGS["sglang"]["versions"]}
    assert len(sglang["0.5.23"]["flags"]) > 500  # not the old reader's 9
    # ATOM is read from its git tags; the image's 0.1.2.post has none
    atom = {v["version"]: v for v in FLAGS["atom"]["versions"]}
    assert atom["0.1.3"]["source"]["tag"] == "v0.1.3"
    assert atom["0.1.2.post"]["unreadable"].startswith("no tag v0.1.2.post in https://github.com/ROCm/ATOM")
    # spot checks against the tools' sources
    assert "--tp-size" in sglang["0.5.17"]["flags"]
    assert {"--tensor-parallel-size", "-tp", "--no-enable-prefix-caching", "--max-model-len"} <= set(
        VLLM["0.27.1"]["flags"]
    )
    assert VLLM["0.10.1"]["attached"] == {"-O": "-O.level"}
    assert VLLM["0.27.1"]["attached"] == {"-O": "--optimization-level"}
    main = atom["git ffdf3bb5ddf8"]
    assert main["snake_and_kebab"] and "snake_and_kebab" not in atom["0.1.5"]
    assert {"--server-port", "-tp", "--kv_cache_dtype", "--no-enable_prefix_caching"} <= set(main["flags"])


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


def test_a_config_is_checked_against_its_images_version() -> None:
    """vllm/vllm-openai-rocm:v0.17.0 and :v0.21.0 are bundled images; --numa-bind came in
    vLLM 0.21.0 and --swap-space went after 0.17.0."""
    v17, v21 = "vllm/vllm-openai-rocm:v0.17.0", "vllm/vllm-openai-rocm:v0.21.0"
    args = {"--numa-bind": None, "--swap-space": "16", "--max-model-len": "8192"}
    assert dict(flaglint.lint("vllm", args, v17)) == {
        "--numa-bind": "vLLM 0.17.0 (the image's version) has no flag --numa-bind; "
        "vLLM 0.21.0 is the first recorded version that has it"
    }
    assert dict(flaglint.lint("vllm", args, v21)) == {
        "--swap-space": "vLLM 0.21.0 (the image's version) has no flag --swap-space; "
        "vLLM 0.17.0 is the last recorded version that has it"
    }
    # a flag no version has keeps its message, closest flag of the image's version included
    (found,) = flaglint.lint("vllm", {"--max-model-length": "1"}, v17)
    assert found[1] == "vLLM 0.17.0 has no flag --max-model-length; closest real one: --max-model-len"


def test_a_tag_naming_no_recorded_version_is_checked_against_all_and_says_so() -> None:
    nightly = "vllm/vllm-openai-rocm:nightly-09663abde0f50944a8d5ea30120666024b503faa"
    args = {"--numa-bind": None, "--swap-space": "16", "--max-model-length": "1"}
    (found,) = flaglint.lint("vllm", args, nightly)  # each flag some version has passes
    assert found[1] == (
        "vLLM has no flag --max-model-length in any recorded version (image tag names no vLLM "
        f"version; checked against all recorded versions {SPAN}); closest real one: --max-model-len"
    )
    (found,) = flaglint.lint("vllm", {"--max-model-length": "1"}, "vllm/vllm-openai-rocm:v0.12.0")
    said = "(vLLM 0.12.0 (the image's version) is not recorded; checked against all recorded versions"
    assert f"{said} {SPAN})" in found[1]
    atom = "rocm/atom:rocm7.2.2_ubuntu24.04_py3.12_pytorch_release_2.10.0_atom0.1.2.post"
    (found,) = flaglint.lint("atom", {"--no-such-flag": "1"}, atom)
    assert "ATOM 0.1.2.post (the image's version) could not be read: no tag v0.1.2.post in" in found[1]
    assert "checked against all recorded versions 0.1.3..git ffdf3bb5ddf8" in found[1]


@pytest.mark.parametrize(
    ("image", "flag", "ok"),
    [
        # 0.27.1's FlexibleArgumentParser: -O<x> and -O=<x> are --optimization-level <x>
        ("vllm/vllm-openai-rocm:v0.27.1", "-O3", True),
        ("vllm/vllm-openai-rocm:v0.27.1", "-Odecode", True),
        ("vllm/vllm-openai-rocm:v0.27.1", "--optimization-level", True),
        ("vllm/vllm-openai-rocm:v0.27.1", "-cc.cudagraph_mode", True),  # -cc: --compilation-config
        ("vllm/vllm-openai-rocm:v0.27.1", "-O.level", False),  # -O is no longer a config alias
        # 0.10.1: -O is --compilation-config's alias, -O3 is -O.level=3
        ("rocm/vllm:rocm6.4.1_vllm_0.10.1_20250909", "-O3", True),
        ("rocm/vllm:rocm6.4.1_vllm_0.10.1_20250909", "-O.level", True),
        ("rocm/vllm:rocm6.4.1_vllm_0.10.1_20250909", "--optimization-level", False),
    ],
)
def test_minus_o_styles_follow_the_images_parser(image: str, flag: str, ok: bool) -> None:
    found = dict(flaglint.lint("vllm", {flag: "3"}, image))
    assert (flag not in found) is ok, found
    if not ok and flag == "-O.level":
        assert "vLLM 0.11.1 is the last recorded version that has it" in found[flag]


def test_sglang_checks_unique_prefixes_against_the_images_version() -> None:
    """SGLang 0.5.23 split --cuda-graph-max-bs into -decode and -prefill: the old name is now
    an ambiguous prefix, which its argparse refuses."""
    image = "lmsysorg/sglang:v0.5.23-rocm720-mi30x"
    args = {"--cuda-graph-max-bs": "256", "--cuda-graph-max-bs-dec": "8"}  # the second: a unique prefix
    (found,) = flaglint.lint("sglang", args, image)
    assert found == (
        "--cuda-graph-max-bs",
        "SGLang 0.5.23 (the image's version) has no flag --cuda-graph-max-bs; "
        "SGLang 0.5.17 is the last recorded version that has it",
    )


def test_validate_lints_each_config_against_its_image_and_strict_fails(tmp_path: Path) -> None:
    """A config's own image, else the default image for the recipe's hardware."""
    text = recipe_yaml(
        "per-version",
        configs={
            "vllm": {
                1: {"enabled": True, "image": "vllm/vllm-openai-rocm:v0.17.0", "args": {"--numa-bind": True}},
                2: {"enabled": True, "args": {"--swap-space": "4"}},  # default image on an MI300X
            }
        },
    )
    path = tmp_path / "per-version.yaml"
    path.write_text(text)
    said: list[str] = []
    recipes, problems = Loader(on_warning=said.append)([path])
    assert problems == [] and len(recipes) == 1
    first, second = said
    assert "vllm_serve.1_gpu.args.--numa-bind" in first and "vLLM 0.21.0 is the first" in first
    assert "vllm_serve.2_gpu.args.--swap-space" in second
    assert "(the default image's version) has no flag --swap-space" in second
    _, strict = Loader(strict=True)([path])
    fields = ["vllm_serve.1_gpu.args.--numa-bind", "vllm_serve.2_gpu.args.--swap-space"]
    assert [p.field for p in strict] == fields
