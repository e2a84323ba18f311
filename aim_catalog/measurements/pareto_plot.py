"""The Pareto chart as a PNG or SVG file, with matplotlib (the optional ``plot`` extra).

Imported only by ``report pareto --plot``. Each config is one series (its line and markers
carry the SVG id ``series-<n>``), the frontier a dashed line (id ``pareto-frontier``); with
an SLO, its line (id ``slo-line``, at the asked tokens/s per user) and each series'
operating point under it (id ``slo-point-<n>``: a filled diamond when measured, a hollow one
when interpolated), so the file can be checked by reading it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from aim_catalog.errors import EnvironmentProblem, UsageProblem
from aim_catalog.measurements.pareto import Series, frontier, scenario_text
from aim_catalog.writing import write_file

FORMATS = {".png": "png", ".svg": "svg"}
INSTALL_HINT = "plotting needs matplotlib: pip install 'aim-catalog[plot]'"


def plot(series: list[Series], path: Path, title: str, min_interactivity: float | None = None) -> None:
    plt, fmt, context = pyplot(path)
    with context:
        _draw(plt, series, path, fmt, title, min_interactivity)


def pyplot(path: Path) -> tuple[Any, str, Any]:
    """matplotlib's pyplot (files only), the format ``path`` names, and the context that keeps
    SVG text as text (searchable); one line when matplotlib or the format is missing."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageProblem(f"--plot writes PNG or SVG: name the file *.png or *.svg, not {path.name!r}")
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise EnvironmentProblem(INSTALL_HINT) from exc
    return plt, fmt, matplotlib.rc_context({"svg.fonttype": "none"})


def operating_mark(
    axes: Any, point: tuple[float, float], line: Any, kind: str, marker: str, gid: str
) -> None:
    """An operating point on its series' line: filled when measured, hollow when interpolated."""
    hollow = kind == "interpolated"
    (mark,) = axes.plot(
        [point[0]],
        [point[1]],
        marker=marker,
        markersize=9 if marker == "D" else 8,
        color=line.get_color(),
        markerfacecolor="none" if hollow else line.get_color(),
        linestyle="none",
        zorder=6,
    )
    mark.set_gid(gid)


def limit_line(axes: Any, x: float, label: str, gid: str) -> None:
    """The vertical line of a limit or a target (red, dotted)."""
    edge = axes.axvline(x, color="red", linestyle=":", linewidth=1.2, label=label)
    edge.set_gid(gid)


def save(figure: Any, path: Path, fmt: str) -> None:
    """The figure into ``path``, written without following a link there."""
    image = io.BytesIO()
    figure.savefig(image, format=fmt)
    try:
        write_file(path, image.getvalue())
    except OSError as exc:
        raise EnvironmentProblem(f"cannot write {path}: {exc.strerror or exc}") from exc


def _draw(
    plt: Any, series: list[Series], path: Path, fmt: str, title: str, min_interactivity: float | None
) -> None:
    figure, axes = plt.subplots(figsize=(10, 6.5), dpi=110)
    try:
        for n, s in enumerate(series):
            xs = [p.interactivity for p in s.points]
            ys = [p.per_gpu for p in s.points]
            (line,) = axes.plot(xs, ys, marker="o", linewidth=1.5, markersize=5, label=s.label)
            line.set_gid(f"series-{n}")
            if s.operating is not None:
                point = (s.operating.interactivity, s.operating.per_gpu)
                operating_mark(axes, point, line, s.operating.kind, "D", f"slo-point-{n}")
        if min_interactivity is not None:
            label = f"SLO: >= {min_interactivity:g} tok/s per user (hollow: interpolated)"
            limit_line(axes, min_interactivity, label, "slo-line")
        edge = frontier(series)
        if edge:
            (line,) = axes.plot(
                [p.interactivity for _, p in edge],
                [p.per_gpu for _, p in edge],
                linestyle="--",
                color="black",
                linewidth=1.2,
                marker="*",
                markersize=11,
                label="Pareto frontier",
                zorder=5,
            )
            line.set_gid("pareto-frontier")
        axes.set_xlabel("Interactivity (tok/s per user = 1000 / TPOT p50)")
        axes.set_ylabel("Throughput per GPU (tok/s)")
        axes.set_title(f"{title}\nscenario {scenario_text(series)}")
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small", loc="best")
        figure.tight_layout()
        save(figure, path, fmt)
    finally:
        plt.close(figure)
