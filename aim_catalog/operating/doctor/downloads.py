"""What model downloads need: a Hugging Face token, and disk under the Hugging Face cache."""

from __future__ import annotations

from pathlib import Path

from aim_catalog.operating.doctor.check import FAIL, PASS, WARN, Check
from aim_catalog.settings import hf_token

MIN_FREE_GB = 100.0  # a 70B bf16 model is ~140 GB; an 8B one ~16 GB


def check_token() -> Check:
    if hf_token():
        return Check(
            "hf_token", PASS, "HF_TOKEN is set (passed to launched servers; not shown)", data={"set": True}
        )
    return Check(
        "hf_token",
        WARN,
        "HF_TOKEN is not set: gated models (Llama, ...) cannot be downloaded",
        "export HF_TOKEN=hf_... (a token from https://huggingface.co/settings/tokens)",
        {"set": False},
    )


def check_disk(hf_home: Path, min_free_gb: float = MIN_FREE_GB) -> Check:
    from aim_catalog.host.hfcache import free_bytes, human

    free = free_bytes(hf_home)
    data = {"hf_home": str(hf_home), "free_bytes": free, "min_free_bytes": int(min_free_gb * 1e9)}
    summary = f"{human(free)} free under {hf_home}"
    if free < min_free_gb * 1e9:
        return Check(
            "disk",
            FAIL,
            f"only {summary} (want {min_free_gb:g} GB for model downloads)",
            "free space, or point --hf-cache / HF_HOME at a larger disk",
            data,
        )
    return Check("disk", PASS, summary, data=data)
