"""Launch targets by name: what ``--target`` accepts and where each one is.

As MLflow registers its tracking stores by URI scheme, each target is registered under
its ``--target`` name with a factory that imports it only when it is asked for, so
``aim-catalog --help`` and a Docker launch load no Kubernetes code. The built-in ones are
``docker`` (the default: this host's engine), ``kubernetes`` and ``kserve``. Another
package adds one with ``register(name, factory)``, or through the entry-point group
``aim_catalog.launch_targets`` (``name = "package.module:factory"``), read only when a
name is not built in. Nothing else in aim_catalog imports a target's package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aim_catalog.errors import UsageProblem, shown
from aim_catalog.settings import DEFAULT_TARGET

if TYPE_CHECKING:
    from aim_catalog.launch.targets.base import Target

Factory = Callable[[], "Target"]

ENTRY_POINT_GROUP = "aim_catalog.launch_targets"


def _docker() -> Target:
    from aim_catalog.launch.targets.docker.target import DockerTarget

    return DockerTarget()


def _kubernetes() -> Target:
    from aim_catalog.launch.targets.kubernetes.target import KubernetesTarget

    return KubernetesTarget()


def _kserve() -> Target:
    from aim_catalog.launch.targets.kubernetes.target import KServeTarget

    return KServeTarget()


_FACTORIES: dict[str, Factory] = {"docker": _docker, "kubernetes": _kubernetes, "kserve": _kserve}
_made: dict[str, Target] = {}
_entry_points_read = False


def register(name: str, factory: Factory) -> None:
    """Make ``--target NAME`` run on the target ``factory()`` builds (replacing any)."""
    _FACTORIES[name] = factory
    _made.pop(name, None)


def _read_entry_points() -> None:
    global _entry_points_read
    if _entry_points_read:
        return
    _entry_points_read = True
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        _FACTORIES.setdefault(point.name, point.load())


def names() -> list[str]:
    """Every registered target name, the built-in ones first."""
    _read_entry_points()
    return list(_FACTORIES)


def check_name(name: str) -> None:
    """``UsageProblem`` when no target is registered as ``name``."""
    if name not in _FACTORIES:
        _read_entry_points()
    if name not in _FACTORIES:
        raise UsageProblem(f"--target must be one of {', '.join(names())}, got {shown(name)}")


def target(name: str) -> Target:
    """The target registered as ``name`` (made once per process)."""
    check_name(name)
    if name not in _made:
        _made[name] = _FACTORIES[name]()
    return _made[name]


def lookup_order() -> list[Target]:
    """Every target, the default one last: a name is looked up on the targets whose rows
    the catalog alone can answer for first, and the default one's "not found" is the answer."""
    return [target(name) for name in names() if name != DEFAULT_TARGET] + [target(DEFAULT_TARGET)]


def listing_order() -> list[Target]:
    """Every target, the default one first (``ps`` shows this host's deployments first)."""
    return [target(DEFAULT_TARGET)] + [target(name) for name in names() if name != DEFAULT_TARGET]
