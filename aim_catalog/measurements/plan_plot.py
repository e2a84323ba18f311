"""A capacity plan as a chart (PNG or SVG, matplotlib: the optional ``plot`` extra).

Imported only by ``plan --plot``. For each of the best configs, the GPUs (or, with prices,
the cost per hour) it needs as the target load grows from a tenth of the target to twice
it: a step function, replicas = ceil(load / what one replica sustains at its operating
point). Each series carries the SVG id ``plan-<n>`` (best first), the target a vertical line
(id ``target-line``) and each config's need at the target a marker (id ``at-target-<n>``,
hollow when its operating point is interpolated), so the file can be checked by reading it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from aim_catalog.measurements.pareto_plot import limit_line, operating_mark, pyplot, save
from aim_catalog.selection.capacity import UNITS, CapacityPlan, ConfigPlan

STEPS = 200


def plot(capacity: CapacityPlan, path: Path, top: int) -> None:
    plt, fmt, context = pyplot(path)
    with context:
        _draw(plt, capacity, path, fmt, top)


def need(config: ConfigPlan, load: float, capacity: CapacityPlan) -> float:
    """What ``config`` needs at ``load`` (in the target's unit): GPUs, or cost per hour."""
    per = config.per_replica[capacity.target.kind]
    replicas = max(1, math.ceil(round(load / per, 9)))
    gpus = replicas * config.gpus_per_replica
    if capacity.ranked_by == "cost" and config.cost_per_hour is not None:
        return config.cost_per_hour / config.gpus * gpus
    return float(gpus)


def _draw(plt: Any, capacity: CapacityPlan, path: Path, fmt: str, top: int) -> None:
    target = capacity.target
    loads = [target.value * (0.1 + 1.9 * i / STEPS) for i in range(STEPS + 1)]
    figure, axes = plt.subplots(figsize=(10, 6.5), dpi=110)
    try:
        for n, config in enumerate(capacity.plans[:top]):
            label = (
                f"{config.recipe_id} {config.backend} {config.gpus_per_replica} GPU "
                f"(c={config.concurrency:g}, {config.kind})"
            )
            (line,) = axes.step(loads, [need(config, x, capacity) for x in loads], where="post", label=label)
            line.set_gid(f"plan-{n}")
            point = (target.value, need(config, target.value, capacity))
            operating_mark(axes, point, line, config.kind, "o", f"at-target-{n}")
        limit_line(axes, target.value, f"target: {target.describe()}", "target-line")
        axes.set_xlabel(f"Load ({UNITS[target.kind]})")
        by_cost = capacity.ranked_by == "cost"
        axes.set_ylabel("Cost per hour (the prices given)" if by_cost else "GPUs")
        slo = ", ".join(f"{k} {capacity.percentile} <= {v:g} ms" for k, v in capacity.slo.items())
        scenario = ", ".join(f"{k} {v}" for k, v in capacity.scenario.items() if v is not None)
        axes.set_title(
            f"{capacity.model}: what serving the load takes\n{scenario or 'scenario: any'}"
            f"{'; SLO ' + slo if slo else ''} (hollow: interpolated operating point)"
        )
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small", loc="upper left")
        figure.tight_layout()
        save(figure, path, fmt)
    finally:
        plt.close(figure)
