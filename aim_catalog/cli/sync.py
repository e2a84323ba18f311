"""``aim-catalog catalog sync inferencex PATH``: the catalog's InferenceX recipes in step
with a local InferenceX checkout (plan, --dry-run, --json, --out)."""

from __future__ import annotations

from pathlib import Path

import typer

from aim_catalog.cli.app import Group, app, catalog_of, directory_option

catalog_app = typer.Typer(
    cls=Group, rich_markup_mode=None, no_args_is_help=True, help="Keep the catalog in step with upstreams."
)
sync_app = typer.Typer(
    cls=Group,
    rich_markup_mode=None,
    no_args_is_help=True,
    help="Bring recipes in step with an upstream catalog's checkout.",
)
app.add_typer(catalog_app, name="catalog")
catalog_app.add_typer(sync_app, name="sync")


@sync_app.command("inferencex")
def sync_inferencex(
    ctx: typer.Context,
    checkout: Path = typer.Argument(..., help="A local checkout of github.com/SemiAnalysisAI/InferenceX."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan; write nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    out: str | None = typer.Option(
        None, "--out", metavar="DIR", help="Also write the recipes as YAML files into DIR."
    ),
) -> None:
    """Sync the InferenceX recipes with a checkout, at whatever commit it is.

    Reads configs/amd-master.yaml, configs/deprecated/amd-*.yaml, MODELS.md and the launch
    scripts, and shows the plan: recipes added, changed (flags, env, image, setup, GPU
    counts), retired (archived upstream, or gone from the configs), unchanged, and entries
    that could not be read (left as the catalog has them). Then writes it in one
    transaction. The flags are resolved by running each launch script in bash with the
    benchmark harness stubbed and nothing started; --dry-run runs them too. Their commands
    run on this machine as you: run it on a checkout you trust.

    \b
    Example: git clone https://github.com/SemiAnalysisAI/InferenceX /tmp/InferenceX
             aim-catalog catalog sync inferencex /tmp/InferenceX --dry-run
    """
    from aim_catalog.cli import render

    directory = directory_option(out)  # an empty --out is not the current directory
    if not checkout.is_dir():
        raise typer.BadParameter(f"{checkout} is not a directory", param_hint="CHECKOUT")
    plan = catalog_of(ctx, create=not dry_run).sync_inferencex(
        checkout, dry_run=dry_run, out=directory, note=None if as_json else render.note
    )
    if as_json:
        render.emit_json(plan.as_dict())
        return
    at = plan.commit[:12] if plan.commit else "no git metadata"
    render.line(f"InferenceX checkout {plan.checkout} ({at})")
    for recipe_id in plan.added:
        render.line(f"+ {recipe_id}: added")
    for label, changes in (("changed", plan.changed), ("retired", plan.retired)):
        for change in changes:
            render.line(f"~ {change.recipe_id}: {label}")
            for difference in change.differences:
                render.line(f"    {difference.line()}")
    for recipe_id, reasons in sorted(plan.failed.items()):
        render.line(f"! {recipe_id}: not read, left as it is")
        for reason in reasons:
            render.line(f"    {reason}")
    for text in plan.notes:
        render.note(text)
    if plan.written:
        render.note(f"wrote {len(plan.written)} recipe files into {directory}")
    render.line(plan.summary())
