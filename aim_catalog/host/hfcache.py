"""The Hugging Face model cache a launch mounts: list, download ahead, delete, and warn.

Built on ``huggingface_hub`` (imported inside the functions: ``--help`` stays fast):
``scan_cache_dir`` reads the cache, ``snapshot_download`` fills it (with the hub's own
progress bars) and ``HfCacheInfo.delete_revisions`` empties it. A model's size before a
download comes from the hub's metadata (the request ``HfApi.model_info`` makes), asked
through ``httpcall``: one deadline for the whole exchange, a cap on the answer, every field
checked. The download itself has no deadline (its length is the model's); the library
bounds each of its reads. The cache is ``<HF home>/hub``, the HF home being
``--hf-cache``, else ``$HF_HOME``, else ``~/.cache/huggingface``: the directory ``launch``
mounts as the container's ``HF_HOME``, so what is pulled here is what the server finds.

``HF_TOKEN`` and ``HF_ENDPOINT`` are read when a command runs (the library reads them when
it is imported); the token is passed to the hub and never shown. Imports ``settings``,
``errors`` and ``httpcall``.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aim_catalog import settings
from aim_catalog.errors import CatalogError, EnvironmentProblem, UsageProblem, first_line

DEFAULT_ENDPOINT = "https://huggingface.co"
LAUNCH_CHECK_TIMEOUT = 5.0  # seconds: a launch never waits long on the hub for a warning


class HubUnreachable(EnvironmentProblem):
    """The hub could not be reached (no network, offline mode, wrong HF_ENDPOINT)."""


class NotEnoughDisk(EnvironmentProblem):
    """The cache's file system cannot hold the download."""


def hub_dir(option: Path | None = None) -> Path:
    return settings.hf_home(option) / "hub"


def endpoint() -> str:
    return settings.hf_endpoint(DEFAULT_ENDPOINT)


def human(size: float | None) -> str:
    """Bytes as people read disk sizes (decimal units, as ``hf cache ls`` prints them)."""
    if size is None:
        return "unknown"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def free_bytes(path: Path) -> int:
    """Free space on the file system that holds ``path`` (or would: its nearest existing parent)."""
    for candidate in (path, *path.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return 0


# --------------------------------------------------------------------------- what is cached


@dataclass
class CachedModel:
    repo_id: str
    size: int
    files: int
    last_used: float  # the newest access time of its files
    last_modified: float
    revisions: list[str]  # commit hashes
    refs: list[str]  # branch / tag names pointing at them (main, ...)
    path: str
    in_catalog: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["size_human"] = human(self.size)
        data["last_used_iso"] = _iso(self.last_used)
        return data


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


@dataclass
class CacheListing:
    cache_dir: str
    models: list[CachedModel]
    size: int
    warnings: list[str] = field(default_factory=list)


def scan(cache: Path) -> CacheListing:
    """The models in ``cache`` (a hub cache directory); none when it does not exist yet."""
    from huggingface_hub import scan_cache_dir

    for path in (cache, *cache.parents):  # --hf-cache naming a file is not an empty cache
        if path.exists():
            if not path.is_dir():
                raise EnvironmentProblem(f"{path} is not a directory, so it cannot hold a Hugging Face cache")
            break
    if not cache.exists():
        return CacheListing(str(cache), [], 0)
    try:
        info = scan_cache_dir(cache)
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot read the Hugging Face cache {cache}: {exc.strerror or exc}"
        ) from exc
    models = [
        CachedModel(
            repo_id=repo.repo_id,
            size=repo.size_on_disk,
            files=repo.nb_files,
            last_used=repo.last_accessed,
            last_modified=repo.last_modified,
            revisions=sorted(r.commit_hash for r in repo.revisions),
            refs=sorted(ref for r in repo.revisions for ref in r.refs),
            path=str(repo.repo_path),
        )
        for repo in info.repos
        if repo.repo_type == "model"
    ]
    models.sort(key=lambda m: m.repo_id.lower())
    return CacheListing(str(cache), models, info.size_on_disk, [str(w) for w in info.warnings])


def find(cache: Path, model: str) -> CachedModel | None:
    """The cached copy of ``model`` (Hub ids are case-insensitive, so is this)."""
    for cached in scan(cache).models:
        if cached.repo_id.lower() == model.lower():
            return cached
    return None


def remove(cache: Path, model: str) -> CachedModel:
    """Delete every cached revision of ``model``; returns what was removed."""
    from huggingface_hub import scan_cache_dir

    cached = find(cache, model)
    if cached is None:
        raise UsageProblem(f"{model} is not in the Hugging Face cache at {cache} (`aim-catalog cache ls`)")
    info = scan_cache_dir(cache)
    # delete_revisions looks hashes up across repos: scope it to this one.
    only = dataclasses.replace(
        info, repos=frozenset(r for r in info.repos if str(r.repo_path) == cached.path)
    )
    strategy = only.delete_revisions(*cached.revisions)
    try:
        strategy.execute()
        # A repo without revisions (an interrupted first download) is not covered by the strategy.
        if Path(cached.path).exists():
            shutil.rmtree(cached.path)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot delete {cached.path}: {exc.strerror or exc}") from exc
    return cached


# --------------------------------------------------------------------------- the hub


def _hub_problem(exc: Exception, model: str, revision: str | None) -> CatalogError:
    """A one-line error for anything the hub or the way to it said."""
    from huggingface_hub import errors

    where = endpoint()
    what = f"{model}" + (f"@{revision}" if revision else "")
    if isinstance(exc, errors.HFValidationError):
        return UsageProblem(f"{model!r} is not a Hugging Face model id (like Qwen/Qwen3-32B)")
    if isinstance(exc, errors.GatedRepoError):
        hint = (
            "HF_TOKEN is set but has no access"
            if settings.hf_token()
            else "set HF_TOKEN to a token with access"
        )
        return EnvironmentProblem(f"{what} is gated on {where}: accept its licence on the model page; {hint}")
    if isinstance(exc, errors.RevisionNotFoundError):
        return UsageProblem(f"revision {revision!r} of {model} not found on {where}")
    if isinstance(exc, errors.RepositoryNotFoundError):
        hint = "" if settings.hf_token() else " (or it is private: set HF_TOKEN)"
        return UsageProblem(f"model {model} not found on {where}{hint}")
    if isinstance(exc, errors.OfflineModeIsEnabled) or settings.hf_offline():
        return HubUnreachable(
            f"cannot reach the Hugging Face Hub: HF_HUB_OFFLINE is set ({what} not fetched)"
        )
    if isinstance(exc, errors.HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return HubUnreachable(f"the Hugging Face Hub at {where} answered HTTP {status} for {what}")
    reason = first_line(exc)
    # snapshot_download wraps the transport error: keep the cause, drop the paragraph.
    if reason.startswith("Got: "):
        reason = reason[5:]
    return HubUnreachable(f"cannot reach the Hugging Face Hub at {where}: {reason} (is this host online?)")


@dataclass
class HubModel:
    repo_id: str
    sha: str | None
    size: int | None  # bytes of every file in the revision (None: the hub did not say)
    files: int


def hub_model(model: str, revision: str | None = None, *, timeout: float = 30) -> HubModel:
    """The model's files and their total size from the hub's metadata: one GET of
    ``/api/models/{id}[/revision/{rev}]?blobs=true`` (what ``HfApi.model_info`` asks), made
    through ``httpcall`` so that ``timeout`` bounds the whole exchange and the answer is
    read up to a cap, then checked field by field: an endpoint that is not a hub says what
    was wrong with its answer."""
    from urllib.parse import quote

    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils._validators import validate_repo_id

    from aim_catalog import httpcall

    if settings.hf_offline():
        raise HubUnreachable(
            f"cannot reach the Hugging Face Hub: HF_HUB_OFFLINE is set ({model} not looked up)"
        )
    try:
        validate_repo_id(model)
    except HFValidationError as exc:
        raise _hub_problem(exc, model, revision) from None
    where = endpoint()
    url = f"{where}/api/models/{model}" + (f"/revision/{quote(revision, safe='')}" if revision else "")
    token = settings.hf_token()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    what = model + (f"@{revision}" if revision else "")
    not_a_hub = f"{where} did not answer as a Hugging Face Hub for {what}"
    try:
        answer = httpcall.fetch(url + "?blobs=true", deadline=timeout, headers=headers)
    except httpcall.TooLarge as exc:
        raise HubUnreachable(f"{not_a_hub}: {exc} (is HF_ENDPOINT a hub?)") from None
    except httpcall.HttpProblem as exc:
        raise HubUnreachable(
            f"cannot reach the Hugging Face Hub at {where}: {exc} (is this host online?)"
        ) from None
    if answer.status != 200:
        raise _hub_status(answer.status, answer.headers, model, revision)
    try:
        return _metadata(answer.body)
    except ValueError as exc:
        raise HubUnreachable(f"{not_a_hub}: {exc} (is HF_ENDPOINT a hub?)") from None


def _hub_status(status: int, headers: dict[str, str], model: str, revision: str | None) -> CatalogError:
    """An error answer of the hub, read as ``huggingface_hub.utils.hf_raise_for_status`` does."""
    where = endpoint()
    what = model + (f"@{revision}" if revision else "")
    code = headers.get("x-error-code")
    if code == "RevisionNotFound":
        return UsageProblem(f"revision {revision!r} of {model} not found on {where}")
    if code == "GatedRepo":
        has = settings.hf_token()
        hint = "HF_TOKEN is set but has no access" if has else "set HF_TOKEN to a token with access"
        return EnvironmentProblem(f"{what} is gated on {where}: accept its licence on the model page; {hint}")
    invalid_token = headers.get("x-error-message") == "Invalid credentials in Authorization header"
    if code == "RepoNotFound" or (status == 401 and not invalid_token):
        hint = "" if settings.hf_token() else " (or it is private: set HF_TOKEN)"
        return UsageProblem(f"model {model} not found on {where}{hint}")
    return HubUnreachable(f"the Hugging Face Hub at {where} answered HTTP {status} for {what}")


def _metadata(body: bytes) -> HubModel:
    """A model's metadata (``id``, ``sha``, ``siblings``: [{rfilename, size}]), checked;
    ValueError says what is wrong with it."""
    import json

    from aim_catalog.errors import shown

    def constant(name: str) -> Any:
        raise ValueError(f"its JSON holds {name}")

    try:
        data = json.loads(body, parse_constant=constant)
    except RecursionError:
        raise ValueError("its JSON is nested too deeply") from None
    except ValueError as exc:
        if str(exc).startswith("its JSON"):
            raise
        raise ValueError(f"the answer is not JSON ({shown(body[:60].decode('utf-8', 'replace'))})") from None
    if not isinstance(data, dict):
        raise ValueError(f"the answer is not a JSON object (got {shown(data)})")
    repo_id = data.get("id")
    if not isinstance(repo_id, str) or not repo_id.strip():
        raise ValueError(f"it names no model (`id` is {shown(repo_id)})")
    sha = data.get("sha")
    if sha is not None and not isinstance(sha, str):
        raise ValueError(f"`sha` is not a string (got {shown(sha)})")
    siblings = data.get("siblings") or []
    if not isinstance(siblings, list):
        raise ValueError(f"`siblings` is not a list (got {shown(siblings)})")
    sizes: list[int | None] = []
    for index, sibling in enumerate(siblings):
        if not isinstance(sibling, dict) or not isinstance(sibling.get("rfilename"), str):
            raise ValueError(f"siblings[{index}] is not a file (got {shown(sibling)})")
        size = sibling.get("size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise ValueError(f"siblings[{index}].size is not a byte count (got {shown(size)})")
        sizes.append(size)
    total = sum(s for s in sizes if s is not None) if sizes and None not in sizes else None
    return HubModel(repo_id, sha, total, len(siblings))


def check_disk(cache: Path, needed: int | None, model: str) -> int:
    """Raise ``NotEnoughDisk`` when the cache's file system has less than ``needed`` free."""
    free = free_bytes(cache)
    if needed is not None and needed > free:
        raise NotEnoughDisk(
            f"{model} needs {human(needed)} but only {human(free)} is free under {cache}; "
            "free space or use --hf-cache on a larger disk"
        )
    return free


def pull(model: str, cache: Path, revision: str | None = None) -> str:
    """Download ``model`` into the cache with the hub's progress bars; returns the snapshot path."""
    from huggingface_hub import snapshot_download

    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageProblem(f"cannot use {cache} as the Hugging Face cache: {exc.strerror or exc}") from exc
    try:
        return str(
            snapshot_download(
                model, revision=revision, cache_dir=cache, endpoint=endpoint(), token=settings.hf_token()
            )
        )
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # transport, HTTP and file-system failures become one line
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename is not None:
            raise EnvironmentProblem(f"cannot write {exc.filename}: {exc.strerror}") from None
        raise _hub_problem(exc, model, revision) from None


# --------------------------------------------------------------------------- before a launch


def launch_warnings(model: str, hf_home: Path, *, timeout: float = LAUNCH_CHECK_TIMEOUT) -> list[str]:
    """What to tell the operator before a launch about the model's download; never raises.

    Not cached: the start includes a download; when the hub can say how big it is and the
    cache's disk is smaller, say that too. Offline or unreachable: the size is unknown.
    """
    cache = hf_home / "hub"
    try:
        if find(cache, model) is not None:
            return []
    except Exception as exc:  # a warning must not stop a launch
        return [f"could not read the Hugging Face cache {cache}: {exc}"]
    notes = [
        f"{model} is not in the Hugging Face cache ({cache}): the server downloads it first, "
        f"so the start takes longer (`aim-catalog cache pull {model}` fetches it ahead)"
    ]
    free = free_bytes(cache)
    if settings.hf_offline():
        notes.append(f"download size unknown (HF_HUB_OFFLINE is set); {human(free)} free under {hf_home}")
        return notes
    try:
        size = hub_model(model, timeout=timeout).size
    except CatalogError as exc:
        notes.append(f"download size unknown ({exc}); {human(free)} free under {hf_home}")
        return notes
    except Exception as exc:  # never block a launch on the hub
        notes.append(f"download size unknown ({type(exc).__name__}); {human(free)} free under {hf_home}")
        return notes
    if size is not None and size > free:
        notes.append(
            f"the disk cannot hold {model}: it needs {human(size)}, {human(free)} is free under {hf_home}"
        )
    return notes
