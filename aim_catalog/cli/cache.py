"""`cache ls|pull|rm`: the Hugging Face model cache launches use (``hfcache`` does the work).

Exit codes: 0 ok; 1 environment (an unreachable hub, a full disk); 2 usage (unknown model,
bad option). huggingface_hub is imported inside the commands.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from aim_catalog.cli.app import Group, app, catalog_of
from aim_catalog.errors import UsageProblem

HF_CACHE_OPT = typer.Option(
    None,
    "--hf-cache",
    help="Hugging Face home (default: $HF_HOME or ~/.cache/huggingface; models live in its hub/).",
)
cache_app = typer.Typer(
    cls=Group, rich_markup_mode=None, no_args_is_help=True, help="The Hugging Face model cache launches use."
)
app.add_typer(cache_app, name="cache")


def _catalog_models(ctx: typer.Context) -> dict[str, str] | None:
    """The catalog's model ids (lower case -> as written), or None when it cannot be opened."""
    from aim_catalog.cli import render
    from aim_catalog.errors import CatalogError

    try:
        return {m.lower(): m for m in catalog_of(ctx).models()}
    except CatalogError as exc:
        render.note(f"catalog not read ({exc}): not marking catalog models")
        return None


@cache_app.command("ls")
def cache_ls(
    ctx: typer.Context,
    hf_cache: Path | None = HF_CACHE_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """List cached models with their size and last use, marking the catalog's models.

    \b
    Example: aim-catalog cache ls --json
    """
    from aim_catalog.cli import render
    from aim_catalog.host import hfcache

    cache = hfcache.hub_dir(hf_cache)
    listing = hfcache.scan(cache)
    catalog = _catalog_models(ctx)
    for model in listing.models:
        model.in_catalog = None if catalog is None else model.repo_id.lower() in catalog
    cached = {m.repo_id.lower() for m in listing.models}
    missing = sorted((name for key, name in (catalog or {}).items() if key not in cached), key=str.lower)
    if as_json:
        render.emit_json(
            {
                "cache_dir": listing.cache_dir,
                "size": listing.size,
                "models": [m.as_dict() for m in listing.models],
                "catalog_models_not_cached": missing,
                "warnings": listing.warnings,
            }
        )
        return
    for warning in listing.warnings:
        render.note(f"skipped a damaged cache entry: {warning}")
    if not listing.models:
        render.note(f"no model cached in {cache}")
    else:
        render.table(
            ("model", "size", "files", "last used", "refs", "in catalog"),
            [
                (
                    m.repo_id,
                    hfcache.human(m.size),
                    m.files,
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(m.last_used)),
                    ",".join(m.refs) or "(detached)",
                    {True: "yes", False: "", None: "?"}[m.in_catalog],
                )
                for m in listing.models
            ],
        )
        render.line(f"{len(listing.models)} model(s), {hfcache.human(listing.size)} in {cache}")
    if catalog is not None:
        render.line(
            f"catalog models not cached: {len(missing)}" + (f" ({', '.join(missing)})" if missing else "")
        )


@cache_app.command("pull")
def cache_pull(
    model: str = typer.Argument(..., help="Hugging Face model id, e.g. Qwen/Qwen3-32B."),
    revision: str | None = typer.Option(None, "--revision", help="Branch, tag or commit (default: main)."),
    hf_cache: Path | None = HF_CACHE_OPT,
) -> None:
    """Download a model into the cache ahead of a launch, after checking the disk can hold it.

    Uses HF_TOKEN for gated models and HF_ENDPOINT when set. Exit code 1 when the hub is
    unreachable or the disk too small, 2 when the model or revision does not exist.

    \b
    Example: aim-catalog cache pull Qwen/Qwen3-32B
    """
    from aim_catalog.cli import render
    from aim_catalog.host import hfcache

    cache = hfcache.hub_dir(hf_cache)
    remote = hfcache.hub_model(model, revision)
    have = hfcache.find(cache, model)
    needed = None if remote.size is None else max(remote.size - (have.size if have else 0), 0)
    free = hfcache.check_disk(cache, needed, model)
    render.note(
        f"{remote.repo_id}: {remote.files} file(s), {hfcache.human(remote.size)}"
        + (f" ({hfcache.human(needed)} to download)" if have and needed is not None else "")
        + f"; {hfcache.human(free)} free under {cache}"
    )
    path = hfcache.pull(model, cache, revision)
    render.line(f"{remote.repo_id} is cached: {path}")


@cache_app.command("rm")
def cache_rm(
    model: str = typer.Argument(..., help="Hugging Face model id."),
    hf_cache: Path | None = HF_CACHE_OPT,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a model (every cached revision) from the cache.

    \b
    Example: aim-catalog cache rm mistralai/Mistral-7B-Instruct-v0.3 --yes
    """
    from aim_catalog.cli import render
    from aim_catalog.host import hfcache

    cache = hfcache.hub_dir(hf_cache)
    cached = hfcache.find(cache, model)
    if cached is None:
        raise UsageProblem(f"{model} is not in the Hugging Face cache at {cache} (`aim-catalog cache ls`)")
    if not yes:
        try:
            agreed = typer.confirm(f"Delete {cached.repo_id} ({hfcache.human(cached.size)}) from {cache}?")
        except typer.Abort:  # no terminal, or end of input: nobody said yes
            raise UsageProblem(
                f"removing {cached.repo_id} needs a yes: answer the question or add --yes"
            ) from None
        if not agreed:
            render.note("nothing removed")
            return
    removed = hfcache.remove(cache, model)
    render.line(f"removed {removed.repo_id} ({hfcache.human(removed.size)} freed)")
