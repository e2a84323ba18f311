"""``launch --target kubernetes|kserve`` and ``ps``/``logs``/``stop`` of what it launched.

No cluster is reachable here: the apply path runs the real ``kubernetes`` client against
``fake_kube`` (a fake API server over real HTTP, mimicking kube-apiserver's answers),
with a real kubeconfig file, on both catalog dialects. What a real cluster does beyond
those answers (scheduling, the device plugin, image pulls, KServe's controller) is not
exercised; see README "Kubernetes".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from support.fake_kube import LOG_TEXT, FakeCluster, serve
from typer.testing import CliRunner

from aim_catalog.cli import app
from aim_catalog.launch.targets.kubernetes import apply as kube_apply
from aim_catalog.storage import db
from aim_catalog.storage.models import Deployment

TOKEN = "hf_NEVERSHOWNtoken0123456789"

MODEL = "org/model-a"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("AIM_CATALOG_SYSFS_ROOT", str(tmp_path / "no-sysfs"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.kube/config of the machine
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.delenv("AIM_CATALOG_DB_URL", raising=False)
    monkeypatch.setattr(kube_apply, "POLL", 0.05)
    runner = CliRunner()

    def invoke(*args: str, db_url: str | None = None, code: int | None = 0) -> Any:
        result = runner.invoke(app, (["--db", db_url] if db_url else []) + list(args))
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        if code is not None:
            assert result.exit_code == code, (result.stdout, result.stderr)
        assert TOKEN not in result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        return result

    return invoke


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    cluster = serve(FakeCluster())
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig(tmp_path / "kubeconfig")))
    yield cluster
    assert cluster.server is not None
    cluster.server.shutdown()


def rows(db_url: str) -> list[Deployment]:
    engine = db.make_engine(db_url)
    try:
        with db.session_factory(engine)() as session:
            return list(session.scalars(select(Deployment).order_by(Deployment.id)))
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- rendering


def test_dry_run_prints_yaml_kubectl_can_apply(cli: Callable[..., Any], kube_catalog: str) -> None:
    result = cli("launch", MODEL, "2", "--target", "kubernetes", "--dry-run", db_url=kube_catalog)
    docs = list(yaml.safe_load_all(result.stdout))
    assert [d["kind"] for d in docs] == ["Deployment", "Service"]
    (container,) = docs[0]["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["limits"] == {"amd.com/gpu": "2"}
    assert {"name": "VLLM_ROCM_USE_AITER", "value": "1"} in container["env"]
    assert all(e["name"] != "HF_TOKEN" for e in container["env"])
    assert "--hf-token-secret" in result.stderr  # HF_TOKEN is set here: say how to give it to pods


def test_dry_run_json_and_out_dir(cli: Callable[..., Any], kube_catalog: str, tmp_path: Path) -> None:
    result = cli(
        "launch", MODEL, "2", "-b", "sglang", "--target", "kserve", "--dry-run", "--json",
        "--hf-token-secret", "hf", "-n", "llm", "--replicas", "3", db_url=kube_catalog,
    )  # fmt: skip
    listed = json.loads(result.stdout)
    assert listed["kind"] == "List"
    (isvc,) = listed["items"]
    assert isvc["kind"] == "InferenceService" and isvc["metadata"]["namespace"] == "llm"
    assert isvc["spec"]["predictor"]["minReplicas"] == 3
    out = tmp_path / "manifests"
    result = cli("launch", MODEL, "1", "--target", "kubernetes", "--out", str(out), db_url=kube_catalog)
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 2 and files[0].endswith("-deployment.yaml") and files[1].endswith("-service.yaml")
    assert result.stdout.split() == [str(out / f) for f in files]
    assert yaml.safe_load((out / files[0]).read_text())["kind"] == "Deployment"


def test_an_image_from_an_untrusted_registry_is_warned_about(
    cli: Callable[..., Any], kube_catalog: str
) -> None:
    image = "evil.example/vllm:1"
    result = cli(
        "launch", MODEL, "1", "--target", "kubernetes", "--dry-run", "--image", image, db_url=kube_catalog
    )
    assert "evil.example" in result.stderr and "not a trusted registry" in result.stderr
    (deployment, _) = yaml.safe_load_all(result.stdout)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image


def test_usage_errors(cli: Callable[..., Any], kube_catalog: str, tmp_path: Path) -> None:
    for args in (
        ("--target", "nomad"),
        ("--target", "kubernetes", "--gpus", "0,1"),
        ("--target", "kubernetes", "--name", "Bad_Name"),
        ("--target", "kubernetes", "--cpu", "many"),
        ("--target", "kubernetes", "--env", "MY_API_KEY=s3cret-value"),
        ("--target", "kserve", "--hf-cache-pvc", "Bad_Claim"),
        ("--hf-token-secret", "hf-token", "--cpu", "8"),  # --target docker: no such thing
    ):
        result = cli("launch", MODEL, "2", "--dry-run", *args, db_url=kube_catalog, code=2)
        assert "s3cret-value" not in result.stdout + result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    (tmp_path / "a-file").write_text("x")
    cli(
        "launch",
        MODEL,
        "2",
        "--target",
        "kubernetes",
        "--out",
        str(tmp_path / "a-file"),
        db_url=kube_catalog,
        code=2,
    )


def test_without_the_kubernetes_extra_the_dry_run_still_works(
    cli: Callable[..., Any], kube_catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import aim_catalog.launch.targets.kubernetes

    monkeypatch.delitem(sys.modules, "aim_catalog.launch.targets.kubernetes.apply", raising=False)
    monkeypatch.delattr(aim_catalog.launch.targets.kubernetes, "apply", raising=False)
    monkeypatch.setitem(sys.modules, "kubernetes", None)  # as if not installed
    cli("launch", MODEL, "1", "--target", "kubernetes", "--dry-run", db_url=kube_catalog)
    result = cli("launch", MODEL, "1", "--target", "kubernetes", db_url=kube_catalog, code=1)
    (line,) = result.stderr.strip().splitlines()
    assert "pip install 'aim-catalog[kubernetes]'" in line and "--dry-run" in line


def test_no_kubeconfig_is_one_line_and_exit_1(cli: Callable[..., Any], kube_catalog: str) -> None:
    result = cli("launch", MODEL, "2", "--target", "kubernetes", db_url=kube_catalog, code=1)
    (line,) = result.stderr.strip().splitlines()
    assert "kubeconfig" in line and "--dry-run" in line
    assert rows(kube_catalog) == []


def test_unreachable_cluster_and_unknown_context(
    cli: Callable[..., Any], kube_catalog: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = FakeCluster()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "dead", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}],
        "current-context": "dead",
    }
    (tmp_path / "dead.json").write_text(json.dumps(config))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "dead.json"))
    result = cli("launch", MODEL, "1", "--target", "kubernetes", db_url=kube_catalog, code=1)
    (line,) = result.stderr.strip().splitlines()
    assert "cannot reach the cluster of context 'dead'" in line
    result = cli(
        "launch", MODEL, "1", "--target", "kubernetes", "--context", "nope", db_url=kube_catalog, code=2
    )
    assert "nope" in result.stderr and "dead" in result.stderr
    assert rows(kube_catalog) == [] and dead.requests == []


# --------------------------------------------------------------------------- apply path (fake API server)


def test_launch_ps_logs_stop_through_the_client(
    cli: Callable[..., Any], kube_catalog: str, fake: FakeCluster
) -> None:
    result = cli(
        "launch", MODEL, "2", "--target", "kubernetes", "--hf-token-secret", "hf-token", "--timeout", "30",
        db_url=kube_catalog,
    )  # fmt: skip
    patches = [r for r in fake.requests if r["method"] == "PATCH"]
    assert [p["path"].split("/")[-2] for p in patches] == ["deployments", "services"]
    for request in patches:  # server-side apply, as aim-catalog, strict, in the context's namespace
        assert request["content_type"] == "application/apply-patch+yaml"
        assert request["query"]["fieldManager"] == ["aim-catalog"]
        assert request["query"]["force"] == ["true"]
        assert request["query"]["fieldValidation"] == ["Strict"]
        assert "/namespaces/llm/" in request["path"]
        assert request["authorization"] == "Bearer fake-bearer"
        assert TOKEN not in request["body"]
    ((_, _, name), _) = next(iter(fake.objects.items()))
    assert f"{name} is ready" in result.stdout
    assert f"http://{name}.llm.svc.cluster.local:8000/v1" in result.stdout
    (row,) = rows(kube_catalog)
    assert (row.target, row.context, row.namespace, row.status) == ("kubernetes", "fake", "llm", "running")
    assert [(o["kind"], o["name"]) for o in row.objects or []] == [("Deployment", name), ("Service", name)]
    assert [o["uid"] for o in row.objects or []] == [
        fake.objects[("deployments", "llm", name)]["metadata"]["uid"],
        fake.objects[("services", "llm", name)]["metadata"]["uid"],
    ]
    assert TOKEN not in json.dumps(row.spec)
    assert row.spec["hf_token_secret"] is True

    listed = json.loads(cli("ps", "--json", db_url=kube_catalog).stdout)
    (entry,) = [r for r in listed if r["name"] == name]
    assert entry["target"] == "kubernetes" and entry["container"] == "1/1 available"
    assert entry["context"] == "fake" and entry["namespace"] == "llm"

    assert cli("logs", name, "--tail", "10", db_url=kube_catalog).stdout == LOG_TEXT
    log_request = next(r for r in fake.requests if r["path"].endswith("/log"))
    assert log_request["query"]["tailLines"] == ["10"]
    assert cli("logs", name, "--follow", db_url=kube_catalog).stdout == LOG_TEXT
    assert [r["query"].get("follow") for r in fake.requests if r["path"].endswith("/log")] == [
        ["false"],
        ["true"],
    ]

    # a machine with no Docker engine still lists what it launched on clusters
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        result = cli("ps", db_url=kube_catalog)
        assert name in result.stdout and "1/1 available" in result.stdout and "fake/llm" in result.stdout
        assert "no Docker engine reachable" in result.stderr

    # a foreign object that took the Service's name after launch is left alone
    fake.objects[("services", "llm", name)]["metadata"]["uid"] = "someone-elses"
    result = cli("stop", name, db_url=kube_catalog)
    assert f"deleted Deployment {name}" in result.stdout and "Service" not in result.stdout
    assert list(fake.objects) == [("services", "llm", name)]
    deletes = [json.loads(r["body"]) for r in fake.requests if r["method"] == "DELETE"]
    assert [d["preconditions"]["uid"] for d in deletes] == [o["uid"] for o in row.objects or []]
    (row,) = rows(kube_catalog)
    assert row.status == "stopped"
    assert "already gone" in cli("stop", name, db_url=kube_catalog).stdout


def test_kserve_launch_reports_its_url(cli: Callable[..., Any], kube_catalog: str, fake: FakeCluster) -> None:
    result = cli("launch", MODEL, "1", "--target", "kserve", "-n", "serving", "--json", db_url=kube_catalog)
    payload = json.loads(result.stdout)
    name = payload["name"]
    assert payload["url"] == f"http://{name}-predictor.serving.svc.cluster.local/v1"
    assert (payload["context"], payload["namespace"], payload["objects"]) == (
        "fake",
        "serving",
        [f"InferenceService/{name}"],
    )
    (row,) = rows(kube_catalog)
    assert (row.target, row.namespace, row.status) == ("kserve", "serving", "running")
    cli("stop", name, db_url=kube_catalog)
    assert fake.objects == {}


@pytest.mark.parametrize(
    ("scenario", "says"),
    [("crash", "CrashLoopBackOff"), ("pending", "not ready after 1s: pod .*Insufficient amd.com/gpu")],
)
def test_a_launch_that_cannot_come_up_is_removed(
    cli: Callable[..., Any], kube_catalog: str, fake: FakeCluster, scenario: str, says: str
) -> None:
    import re

    fake.scenario = scenario
    result = cli(
        "launch", MODEL, "1", "--target", "kubernetes", "--timeout", "1", db_url=kube_catalog, code=5
    )
    assert re.search(says, result.stderr), result.stderr
    assert fake.objects == {}  # deleted, as the Docker target removes a failed container
    (row,) = rows(kube_catalog)
    assert row.status == "failed"


def test_an_api_server_that_trickles_cannot_hold_a_launch_past_its_timeout(
    cli: Callable[..., Any], kube_catalog: str, fake: FakeCluster
) -> None:
    """Each header line of the rollout check comes well within any per-read timeout, the whole
    answer never: the check is cut at what is left of --timeout, and the launch is removed
    (issue 18, point 5). Before, the wait read on for the whole minute of the answer."""
    import re

    fake.trickle = 0.5
    result = cli(
        "launch", MODEL, "1", "--target", "kubernetes", "--timeout", "2", db_url=kube_catalog, code=5
    )
    last = result.stderr.strip().splitlines()[-1]
    said = (
        r"error: aim-\S+ not ready after 2s: checking aim-\S+: "
        r"the cluster of context 'fake' \(.+\) did not answer within [12]s"
    )
    assert re.fullmatch(said, last), result.stderr
    fake.trickle = 0.0
    assert fake.objects == {}  # removed, as any failed launch
    (row,) = rows(kube_catalog)
    assert row.status == "failed"


def test_keep_on_failure_and_no_wait(cli: Callable[..., Any], kube_catalog: str, fake: FakeCluster) -> None:
    fake.scenario = "crash"
    cli(
        "launch",
        MODEL,
        "1",
        "--target",
        "kubernetes",
        "--timeout",
        "1",
        "--keep-on-failure",
        db_url=kube_catalog,
        code=5,
    )
    assert len(fake.objects) == 2
    fake.objects.clear()
    result = cli("launch", MODEL, "2", "--target", "kubernetes", "--no-wait", db_url=kube_catalog)
    assert "not waiting" in result.stdout
    assert [r.status for r in rows(kube_catalog)] == ["failed", "running"]


def test_an_object_launch_did_not_create_is_never_touched(
    cli: Callable[..., Any], kube_catalog: str, fake: FakeCluster
) -> None:
    dry = cli("launch", MODEL, "1", "--target", "kubernetes", "--dry-run", "--json", db_url=kube_catalog)
    name = json.loads(dry.stdout)["items"][0]["metadata"]["name"]
    theirs = {
        "metadata": {"name": name, "uid": "theirs", "generation": 1, "labels": {"app": "x"}},
        "spec": {},
    }
    fake.objects[("deployments", "llm", name)] = theirs
    result = cli("launch", MODEL, "1", "--target", "kubernetes", db_url=kube_catalog, code=5)
    assert "not created by aim-catalog" in result.stderr
    assert fake.objects == {("deployments", "llm", name): theirs}
    assert not [r for r in fake.requests if r["method"] in ("PATCH", "DELETE")]
    assert rows(kube_catalog) == []


def test_a_foreign_service_stops_the_launch_and_the_deployment_goes(
    cli: Callable[..., Any], kube_catalog: str, fake: FakeCluster
) -> None:
    dry = cli("launch", MODEL, "1", "--target", "kubernetes", "--dry-run", "--json", db_url=kube_catalog)
    name = json.loads(dry.stdout)["items"][0]["metadata"]["name"]
    theirs = {"metadata": {"name": name, "uid": "theirs", "generation": 1}, "spec": {}}
    fake.objects[("services", "llm", name)] = theirs
    result = cli("launch", MODEL, "1", "--target", "kubernetes", db_url=kube_catalog, code=5)
    assert f"Service {name} already exists" in result.stderr
    assert fake.objects == {("services", "llm", name): theirs}  # the Deployment it applied is gone
    assert [r["path"].split("/")[-2] for r in fake.requests if r["method"] == "DELETE"] == ["deployments"]


def test_ctrl_c_while_waiting_deletes_what_was_applied(
    cli: Callable[..., Any], kube_catalog: str, fake: FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: Any, **_kwargs: Any) -> str:
        assert len(fake.objects) == 2  # applied and recorded by then
        raise KeyboardInterrupt

    monkeypatch.setattr(kube_apply, "wait", interrupted)
    result = cli("launch", MODEL, "1", "--target", "kubernetes", db_url=kube_catalog, code=5)
    assert "interrupted" in result.stderr
    assert fake.objects == {}
    (row,) = rows(kube_catalog)
    assert row.status == "failed"


def test_launching_a_config_again_updates_it_in_place(
    cli: Callable[..., Any], kube_catalog: str, fake: FakeCluster
) -> None:
    cli("launch", MODEL, "1", "--target", "kubernetes", db_url=kube_catalog)
    uids = {k: o["metadata"]["uid"] for k, o in fake.objects.items()}
    cli("launch", MODEL, "1", "--target", "kubernetes", "--replicas", "2", db_url=kube_catalog)
    assert {k: o["metadata"]["uid"] for k, o in fake.objects.items()} == uids  # the same objects
    (deployment,) = [o for (plural, _, _), o in fake.objects.items() if plural == "deployments"]
    assert deployment["spec"]["replicas"] == 2 and deployment["metadata"]["generation"] == 2
    first, second = rows(kube_catalog)
    assert (first.status, second.status) == ("stopped", "running")  # one live row per name
    assert first.name == second.name and first.objects == second.objects


def test_a_failed_relaunch_leaves_the_objects_it_only_updated(
    cli: Callable[..., Any], kube_catalog: str, fake: FakeCluster
) -> None:
    """Launching a config again updates its objects in place; when that launch fails, the
    objects that existed before stay (deleting them would take down what served), and
    only what this launch created goes."""
    cli("launch", MODEL, "1", "--target", "kubernetes", db_url=kube_catalog)
    before = {k: o["metadata"]["uid"] for k, o in fake.objects.items()}
    ((_, _, name), _) = next(iter(fake.objects.items()))
    del fake.objects[("services", "llm", name)]  # gone meanwhile: this launch creates it again
    fake.scenario = "crash"
    result = cli(
        "launch", MODEL, "1", "--target", "kubernetes", "--replicas", "2", "--timeout", "1",
        db_url=kube_catalog, code=5,
    )  # fmt: skip
    assert "CrashLoopBackOff" in result.stderr
    # the Deployment was there before: updated, never deleted; the Service was created: deleted
    assert list(fake.objects) == [("deployments", "llm", name)]
    key = ("deployments", "llm", name)
    assert fake.objects[key]["metadata"]["uid"] == before[key]
    deletes = [r["path"] for r in fake.requests if r["method"] == "DELETE"]
    assert deletes == [f"/api/v1/namespaces/llm/services/{name}"]
    assert f"deleted Service {name}" in result.stderr
    assert f"left Deployment {name} in place" in result.stderr
    assert f"rollout undo deployment/{name}" in result.stderr and f"aim-catalog stop {name}" in result.stderr
    assert rows(kube_catalog)[-1].status == "failed"
    # what it left is still the operator's to stop
    fake.scenario = "ready"
    assert f"deleted Deployment {name}" in cli("stop", name, db_url=kube_catalog).stdout
    assert fake.objects == {}


def test_cluster_rows_of_ps_are_the_docker_rows_plus_the_cluster(
    cli: Callable[..., Any], kube_catalog: str, fake: FakeCluster
) -> None:
    """One row builder (``DeploymentRow``) for both targets: a cluster row has every key and
    value of a Docker row of that deployment, but where it runs and what it is made of."""
    from aim_catalog.launch.targets.base import DeploymentRow

    cli("launch", MODEL, "1", "--target", "kubernetes", db_url=kube_catalog)
    (row,) = rows(kube_catalog)
    # (containers of other catalogs on this machine's Docker engine are listed too)
    (entry,) = [
        r for r in json.loads(cli("ps", "--json", db_url=kube_catalog).stdout) if r["name"] == row.name
    ]
    common = {k: v for k, v in DeploymentRow.of(row, "fake/llm").as_dict().items() if k != "container"}
    assert entry.keys() - common.keys() == {"container", "target", "context", "namespace"}
    assert {k: v for k, v in entry.items() if k in common and k != "container_id"} == {
        k: v for k, v in common.items() if k != "container_id"
    }
    assert entry["container_id"] == f"Deployment/{row.name},Service/{row.name}"


def test_a_failed_setup_step_is_named_with_the_crashed_container_s_log(
    cli: Callable[..., Any], make_catalog: Callable[..., Any], db_url: str, fake: FakeCluster
) -> None:
    """A config's setup step that fails makes the pod crash-loop: the launch fails naming the
    step, with the last lines of the crashed container's log (this shell's token masked), and
    its objects are removed. The pod ran the setup wrapper the API server accepted."""
    setup = ["pip install amd-quark", "pip install aim-test-fails"]
    url = make_catalog(
        {"s": {"model": "org/s", "configs": {"vllm": {1: {"enabled": True, "setup": setup}}}}}, into=db_url
    )
    fake.scenario = "crash"
    fake.log_text = (
        "aim-catalog setup 1/2: pip install amd-quark\nSuccessfully installed amd-quark\n"
        f"aim-catalog setup 2/2: pip install aim-test-fails\ntoken seen: {TOKEN}\n"
        "ERROR: No matching distribution found for aim-test-fails\n"
        "aim-catalog setup 2/2 failed (exit 1): pip install aim-test-fails\n"
    )
    result = cli("launch", "org/s", "1", "--target", "kubernetes", "--timeout", "5", db_url=url, code=5)
    error = next(line for line in result.stderr.splitlines() if line.startswith("error: "))
    said = (
        r"error: \S+ cannot start: setup step 2/2 failed \(exit 1\): pip install aim-test-fails; "
        r"the server was not started \(pod \S+: CrashLoopBackOff: back-off .*\)"
    )
    assert re.fullmatch(said, error), error
    assert "ERROR: No matching distribution found for aim-test-fails" in result.stderr
    assert "token seen: ***" in result.stderr  # and never the token (the cli fixture checks)
    (logs,) = [r for r in fake.requests if r["path"].endswith("/log")]
    assert logs["query"]["previous"] == ["true"] and logs["query"]["tailLines"] == ["20"]
    (applied,) = [r for r in fake.requests if r["method"] == "PATCH" and "/deployments/" in r["path"]]
    (container,) = yaml.safe_load(applied["body"])["spec"]["template"]["spec"]["containers"]
    assert container["command"][:2] == ["/bin/sh", "-c"] and 'exec "$$@"' in container["command"][2]
    assert fake.objects == {}
