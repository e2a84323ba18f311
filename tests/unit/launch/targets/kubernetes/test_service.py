"""Planning for a cluster builds the run spec without this host's devices or cache: the
device plugin maps the GPUs and a volume holds the cache (it passed Docker placeholders)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aim_catalog import Catalog, LaunchOptions, SelectionOptions

MODEL = "Qwen/Qwen3-32B"  # a bundled seed recipe


@pytest.mark.parametrize("target", ["kubernetes", "kserve"])
def test_a_cluster_plan_maps_no_host_device_and_mounts_no_host_cache(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the default catalog, seeded
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(tmp_path / "no-sysfs"))
    monkeypatch.delenv("AIM_CATALOG_DB_URL", raising=False)
    with Catalog.open() as catalog:
        plan = catalog.plan_launch(SelectionOptions(MODEL, gpus=4), LaunchOptions(target=target))
    assert plan.target == target and plan.rendered is not None
    assert (plan.spec.devices, plan.spec.volumes) == ([], {})
    assert plan.spec.gpus == [0, 1, 2, 3]  # per pod; the cluster picks which


class TwoFiles:
    """The rendered objects' files, as ``Rendered.files()`` gives them."""

    def files(self) -> dict[str, str]:
        return {"web-deployment.yaml": "kind: Deployment\n", "web-service.yaml": "kind: Service\n"}


@pytest.mark.parametrize("existing", [True, False])
def test_out_never_writes_through_a_link_planted_in_the_directory(tmp_path: Path, existing: bool) -> None:
    """``--out DIR`` wrote through a symlink planted at its predictable temporary name
    (``.<file>.tmp``) and left a symlink at the final name."""
    from aim_catalog.launch.targets.kubernetes.service import write_out

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "manifests"
    if existing:
        out.mkdir()
        (out / ".web-deployment.yaml.tmp").symlink_to(victim)
        (out / "web-service.yaml").symlink_to(victim)
    written = write_out(TwoFiles(), out)
    assert sorted(p.name for p in written) == ["web-deployment.yaml", "web-service.yaml"]
    assert victim.read_text() == "keep me"
    assert (out / "web-service.yaml").read_text() == "kind: Service\n"
    assert not (out / "web-service.yaml").is_symlink()
