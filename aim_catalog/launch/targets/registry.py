"""Launch targets by name: what ``--target`` accepts and where each one is.

As MLflow registers its tracking stores by URI scheme, each target is registered under
its ``--target`` name with a factory that imports it only when it is asked for, so
``aim-catalog --help`` and a Docker launch load no Kubernetes code. The built-in ones are
``docker`` (the default: this host's engine), ``kubernetes`` and ``kserve``. Another
package adds one with ``register(name, factory)``, or through the entry-point group
``aim_catalog.launch_targets`` (``name = "package.module:factory"``). Entry points are
listed (not imported) when every target is asked (``ps``, ``stop``, ``logs``) or a name
is not built in; a plug-in is imported when it is first used, and one that cannot be is an
``EnvironmentProblem`` naming it. Only the registry, the faces (which render a target's
results) and ``doctor`` import a target's package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aim_catalog.errors import EnvironmentProblem, UsageProblem, first_line, shown
from aim_catalog.settings import DEFAULT_TARGET

if TYPE_CHECKING:
    from aim_catalog.launch.targets.base import Target

Factory = Callable[[], "Target"]
MAX_NAME = 16  # the deployments table's target column

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
    if not 0 < len(name) <= MAX_NAME or not name.isascii() or not name.replace("-", "").isalnum():
        raise UsageProblem(f"a target name is 1 to {MAX_NAME} letters, digits or '-', got {shown(name)}")
    _FACTORIES[name] = factory
    _made.pop(name, None)


def _read_entry_points() -> None:
    global _entry_points_read
    if _entry_points_read:
        return
    _entry_points_read = True
    from importlib.metadata import EntryPoint, entry_points

    def loader(point: EntryPoint) -> Factory:
        def make() -> Target:
            try:
                factory = point.load()
            except Exception as exc:  # a broken plug-in must not take the built-in targets down
                raise EnvironmentProblem(
                    f"launch target {point.name!r} ({point.value}) cannot be loaded: {first_line(exc)}"
                ) from exc
            made: Target = factory()
            return made

        return make

    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name not in _FACTORIES:
            register(point.name, loader(point))


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
