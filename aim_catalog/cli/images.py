"""``aim-catalog images``: the default container image per backend and GPU architecture."""

from __future__ import annotations

import typer

from aim_catalog.cli.app import app


@app.command("images")
def images_command(
    json_out: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List the default images per backend and GPU architecture (a config's own image wins).

    Example: aim-catalog images --json
    """
    from aim_catalog.backends import images
    from aim_catalog.backends.registry import BACKEND_LABELS
    from aim_catalog.cli import render

    rows = [
        {
            "backend": d.backend,
            "architecture": d.architecture,
            "hardware": list(d.hardware),
            "image": d.image,
            "evidence": d.evidence,
        }
        for d in images.defaults()
    ]
    if json_out:
        render.emit_json(rows)
        return
    for row in rows:
        label = BACKEND_LABELS.get(str(row["backend"]), str(row["backend"]))
        hardware = ", ".join(row["hardware"])
        typer.echo(f"{label:<7} {row['architecture']} ({hardware}): {row['image']}")
