"""The rules for what a launched container's environment and image may be, in one place.

* Secrets: a variable is a secret when one of the words of its name (split on ``_``)
  ends in TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE, CREDENTIAL(S) or APIKEY, or is
  KEY or PAT (``HF_TOKEN``, ``HUGGING_FACE_HUB_TOKEN``, ``VLLM_API_KEY``,
  ``AWS_SECRET_ACCESS_KEY``, ``DB_PASSWORD``, ``GITHUB_PAT``; not
  ``TOKENIZERS_PARALLELISM``). A secret is never written to a recipe, the catalog, a
  label, a log or the terminal: it is shown as ``***`` and passed by name
  (``docker run -e NAME``). The same rule makes a server flag secret-valued
  (``--api-key``): a recipe may not give one a value, and the value an operator gives
  with ``launch --arg`` is shown as ``***`` (the container gets it).
* Denied in recipes: variables that send the container's network or hub traffic
  elsewhere, or change which code the loader or interpreter runs, or where pip and uv
  install a recipe's setup steps from (``PIP_*``, ``UV_*``). A recipe from a
  shared catalog must not be able to route the operator's ``HF_TOKEN`` to another host
  or run code of its choosing. The operator may still set any of them with
  ``launch --env``.
* Trusted registries: image references whose repository starts with one of these
  prefixes are not warned about (``AIM_CATALOG_TRUSTED_REGISTRIES``, comma-separated,
  replaces the default: AMD's ``rocm/``, vLLM's ``vllm/`` and SGLang's ``lmsysorg/``
  namespaces on Docker Hub).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aim_catalog.settings import trusted_registries_setting

DEFAULT_TRUSTED_REGISTRIES = ("docker.io/rocm/", "docker.io/vllm/", "docker.io/lmsysorg/")
DOCKER_HUB = "docker.io"

_SECRET_WORD = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIALS?|APIKEY)$|^(KEY|PAT)$")

_NETWORK = "redirects the container's network traffic (and with it HF_TOKEN)"
_HUB = "redirects model downloads or hub requests (and with them HF_TOKEN) to another server"
_TLS = "changes which TLS certificates the container trusts"
_LOADER = "changes which code the dynamic loader or the interpreter runs"
DENIED_ENV: dict[str, str] = {
    "HTTP_PROXY": _NETWORK,
    "HTTPS_PROXY": _NETWORK,
    "ALL_PROXY": _NETWORK,
    "FTP_PROXY": _NETWORK,
    "NO_PROXY": _NETWORK,
    "HF_ENDPOINT": _HUB,
    "HF_INFERENCE_ENDPOINT": _HUB,
    "HUGGINGFACE_CO_STAGING": _HUB,
    "HF_HOME": "is set by the launcher (the mounted cache)",
    "VLLM_USE_MODELSCOPE": _HUB,
    "SGLANG_USE_MODELSCOPE": _HUB,
    "VLLM_MODEL_REDIRECT_PATH": _HUB,
    "VLLM_USAGE_STATS_SERVER": _NETWORK,
    "S3_ENDPOINT_URL": _HUB,
    "AWS_ENDPOINT_URL": _HUB,  # every AWS SDK/CLI service endpoint (S3 model loading)
    "AWS_ENDPOINT_URL_S3": _HUB,
    "HOSTALIASES": _NETWORK,  # glibc resolver: host name aliases from a file
    "SSLKEYLOGFILE": "writes the TLS session keys to a file (HTTPS traffic, HF_TOKEN included, "
    "can then be decrypted)",
    "REQUESTS_CA_BUNDLE": _TLS,
    "CURL_CA_BUNDLE": _TLS,
    "SSL_CERT_FILE": _TLS,
    "SSL_CERT_DIR": _TLS,
    "PATH": _LOADER,
    "PYTHONPATH": _LOADER,
    "PYTHONHOME": _LOADER,
    "PYTHONSTARTUP": _LOADER,
    "PYTHONUSERBASE": _LOADER,
    "PYTHONPLATLIBDIR": _LOADER,
    "PYTHONEXECUTABLE": _LOADER,
    "PYTHONBREAKPOINT": _LOADER,
    "PYTHONWARNINGS": _LOADER,  # a warning category names a module, which gets imported
    "GCONV_PATH": _LOADER,  # glibc loads charset conversion modules from there
    "BASH_ENV": _LOADER,  # a file a non-interactive bash runs first
    "ENV": _LOADER,  # the same for sh (POSIX)
}
# pip's and uv's settings decide where a recipe's setup steps install from (PIP_INDEX_URL,
# PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_TRUSTED_HOST, PIP_CONFIG_FILE, PIP_CERT,
# UV_INDEX_URL...): the setup format refuses those options on its lines, so a recipe may not
# set them in env either.
_INSTALLER = "changes where the container's setup steps install packages from"
DENIED_PREFIXES: dict[str, str] = {
    "LD_": _LOADER,  # LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT...
    "PIP_": _INSTALLER,
    "UV_": _INSTALLER,
}


def is_secret(name: str) -> bool:
    """The one rule for secret-named variables (see the module docstring)."""
    return any(_SECRET_WORD.search(word) for word in name.upper().split("_") if word)


SECRET_FLAG_PROBLEM = (
    "{flag} takes a secret; a recipe may not hold one (give it at launch: --arg {flag}=VALUE)"
)


def is_secret_flag(flag: str) -> bool:
    """A server flag whose value is a secret, by the same rule on its words
    (``--api-key``, ``--admin-api-key``, ``--hf-token``; not ``--tokenizer``)."""
    return is_secret(flag.split("=", 1)[0].lstrip("-").replace("-", "_"))


def mask_secret_flags(argv: list[str], mask: str = "***") -> list[str]:
    """``argv`` with the values of secret flags masked (``--api-key ***``,
    ``--api-key=***``); a secret flag followed by another flag is bare and kept."""
    out: list[str] = []
    hide_next = False
    for word in argv:
        if hide_next and not word.startswith("-"):
            out.append(mask)
            hide_next = False
            continue
        hide_next = False
        if word.startswith("-") and is_secret_flag(word):
            if "=" in word:
                word = word.split("=", 1)[0] + "=" + mask
            else:
                hide_next = True
        out.append(word)
    return out


def denied_reason(name: str) -> str | None:
    """Why a recipe may not set ``name`` (names compare case-insensitively), or None."""
    upper = name.upper()
    if upper in DENIED_ENV:
        return DENIED_ENV[upper]
    for prefix, reason in DENIED_PREFIXES.items():
        if upper.startswith(prefix):
            return reason
    return None


def image_repository(image: str) -> str:
    """The fully qualified repository of an image reference, without tag or digest:
    ``rocm/vllm:tag`` -> ``docker.io/rocm/vllm``, ``ubuntu`` -> ``docker.io/library/ubuntu``,
    ``ghcr.io/org/img@sha256:..`` -> ``ghcr.io/org/img`` (Docker's reference rules)."""
    name = image.split("@", 1)[0]
    head, _, tail = name.rpartition("/")
    if ":" in tail:
        tail = tail.split(":", 1)[0]
    name = f"{head}/{tail}" if head else tail
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return f"{first.lower()}/{rest}"
    if not rest:
        return f"{DOCKER_HUB}/library/{name}"
    return f"{DOCKER_HUB}/{name}"


def registry_of(image: str) -> str:
    """Registry and namespace, as launch output names them: ``docker.io/rocm``."""
    return image_repository(image).rsplit("/", 1)[0]


def trusted_registries(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    raw = trusted_registries_setting(env)
    if raw is None:
        return DEFAULT_TRUSTED_REGISTRIES
    prefixes = []
    for item in (p.strip().rstrip("/") for p in raw.split(",")):
        if item:  # "rocm" means Docker Hub's rocm/ namespace, as an image reference would
            first = item.split("/", 1)[0]
            hub = "." not in first and ":" not in first and first != "localhost"
            prefixes.append(f"{DOCKER_HUB}/{item}/" if hub else f"{item}/")
    return tuple(prefixes)


def is_trusted(image: str, env: Mapping[str, str] | None = None) -> bool:
    repository = image_repository(image) + "/"
    return any(repository.startswith(prefix) for prefix in trusted_registries(env))
