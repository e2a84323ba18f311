"""Kubernetes and KServe objects for every bundled config, validated offline against the
official schemas.

- Core objects (Deployment, Service; and the InferenceService's predictor as the Pod it
  becomes) with ``kubernetes-validate`` (the JSON schemas of the Kubernetes OpenAPI spec,
  bundled per minor version) in strict mode, for the newest three minor versions it ships.
- The InferenceService against the ``openAPIV3Schema`` of KServe's CRD
  (``../shared/reference/kserve/``, kserve/kserve aaac4e294, v0.20), with unknown fields
  refused as the API server's ``fieldValidation=Strict`` (what apply uses) refuses them.
- Names, label keys and values with the rules of k8s.io/apimachinery
  (``pkg/util/validation``): DNS-1035 labels, qualified names, label values.
- Node labels as AMD's node labeller writes them (ROCm/k8s-device-plugin ed76468,
  ``cmd/k8s-node-labeller/main.go``: ``amd.com/gpu.device-id`` = lower-case hex id).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from packaging.version import Version
from support.paths import SHARED
from support.services import missing_service

from aim_catalog.backends import registry as backends
from aim_catalog.errors import UsageProblem
from aim_catalog.host.gpus import DEVICE_IDS
from aim_catalog.launch.runspec import build_spec, container_name
from aim_catalog.launch.targets.kubernetes.names import check_object_name, object_name
from aim_catalog.launch.targets.kubernetes.render import (
    DEVICE_ID_LABEL,
    GPU_RESOURCE,
    KubeOptions,
    Rendered,
    render,
)
from aim_catalog.recipes.files import load_recipes
from aim_catalog.selection.request import Candidate
from aim_catalog.storage.resources import seed_recipe_dir

KSERVE_CRD = SHARED / "reference" / "kserve" / "serving.kserve.io_inferenceservices.yaml"

CATALOG = "postgresql://aim:***@db.example/aim_catalog"

# k8s.io/apimachinery/pkg/util/validation/validation.go

DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")

QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")

LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")

DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")

# kserve pkg/apis/serving/v1beta1/inference_service_validation.go: IsvcNameFmt

ISVC_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")

K8S_VERSIONS = sorted(kubernetes_validate.utils.all_versions(), key=Version)[-3:]

# validate() parses its schema files on every call; the same files, parsed once.

kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)


def seed_candidates() -> list[Candidate]:
    recipes, problems, _ = load_recipes([seed_recipe_dir()])
    assert not problems, problems
    return [
        Candidate(
            recipe_id=r.recipe_id,
            model_id=r.model_id,
            huggingface_id=r.huggingface_id,
            hardware=r.hardware,
            precision=r.precision,
            backend=c.backend,
            gpu_count=c.gpu_count,
            enabled=c.enabled,
            args=dict(c.args),
            env=dict(c.env),
            image=c.image,
            metric=None,
            score=None,
            benchmark=None,
            setup=c.setup,
        )
        for r in recipes
        for c in r.serve_configs
        if c.enabled
    ]


CANDIDATES = seed_candidates()


def rendered_for(candidate: Candidate, target: str, **options: Any) -> Rendered:
    spec = build_spec(
        candidate,
        name=container_name(candidate),
        gpus=list(range(candidate.gpu_count)),
        render_minors=[],
        port=8000,
        hf_cache=Path("/unused"),
        catalog=CATALOG,
        check_devices=False,
    )
    return render(spec, candidate, KubeOptions(target=target, **options), name=None, catalog=CATALOG)


def strict(schema: Any) -> Any:
    """The schema with unknown fields refused wherever the CRD does not keep them."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if (
            out.get("type") == "object"
            and "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


@pytest.fixture(scope="module")
def isvc_validator() -> jsonschema.Validator:
    if not KSERVE_CRD.is_file():
        missing_service(f"KServe CRD not found at {KSERVE_CRD}")
    crd = yaml.safe_load(KSERVE_CRD.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta1"]
    schema = strict(version["schema"]["openAPIV3Schema"])
    return jsonschema.Draft4Validator(schema)


def check_metadata(obj: dict[str, Any], limit: int = 63) -> None:
    meta = obj["metadata"]
    assert len(meta["name"]) <= limit and DNS1035_LABEL.fullmatch(meta["name"]), meta["name"]
    for key in {**meta.get("labels", {}), **meta.get("annotations", {})}:
        prefix, _, name = key.rpartition("/")
        assert not prefix or (len(prefix) <= 253 and DNS1123_SUBDOMAIN.fullmatch(prefix)), key
        assert len(name) <= 63 and QUALIFIED_NAME.fullmatch(name), key
    for value in meta.get("labels", {}).values():
        assert len(value) <= 63 and LABEL_VALUE.fullmatch(value), value


def as_pod(isvc: dict[str, Any]) -> dict[str, Any]:
    """The predictor as the Pod KServe makes of it (its PodSpec fields, inline)."""
    predictor = {
        k: v
        for k, v in isvc["spec"]["predictor"].items()
        if k not in ("minReplicas", "maxReplicas", "labels", "annotations", "deploymentStrategy")
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": isvc["metadata"]["name"]},
        "spec": predictor,
    }


def test_the_seed_catalog_has_configs_of_both_backends() -> None:
    assert {c.backend for c in CANDIDATES} >= {"vllm", "sglang"}
    assert len(CANDIDATES) >= 20


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_bundled_config_renders_objects_kubernetes_accepts(version: str) -> None:
    assert len(K8S_VERSIONS) == 3 and Version(K8S_VERSIONS[0]) >= Version("1.35")
    checked = 0
    for candidate in CANDIDATES:
        for target in ("kubernetes", "kserve"):
            rendered = rendered_for(candidate, target, hf_token_secret="hf-token", cpu="8", memory="64Gi")
            objects = rendered.objects if target == "kubernetes" else [as_pod(rendered.objects[0])]
            for obj in objects:
                kubernetes_validate.validate(obj, version, strict=True)
                checked += 1
    assert checked == len(CANDIDATES) * 3


def test_every_bundled_config_renders_an_inferenceservice_the_crd_accepts(
    isvc_validator: jsonschema.Validator,
) -> None:
    for candidate in CANDIDATES:
        (isvc,) = rendered_for(candidate, "kserve", hf_cache_pvc="models", replicas=2).objects
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in isvc_validator.iter_errors(isvc)]
        assert not errors, (candidate.recipe_id, errors)
        name = isvc["metadata"]["name"]
        assert ISVC_NAME.fullmatch(name) and len(name + "-predictor-00001") <= 63, name
        check_metadata(isvc, limit=47)
        predictor = isvc["spec"]["predictor"]
        assert predictor["minReplicas"] == predictor["maxReplicas"] == 2
        assert predictor["containers"][0]["name"] == "kserve-container"
        assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"


def test_the_validators_can_fail() -> None:
    """A misspelt field, a bad quantity: both validators say no (else the tests above prove nothing)."""
    (deployment, _) = rendered_for(CANDIDATES[0], "kubernetes").objects
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["startupprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[-1], strict=True)
    broken = copy.deepcopy(deployment)
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[-1], strict=True)


def test_the_crd_validator_can_fail(isvc_validator: jsonschema.Validator) -> None:
    (isvc,) = rendered_for(CANDIDATES[0], "kserve").objects
    broken = copy.deepcopy(isvc)
    broken["spec"]["predictor"]["container"] = broken["spec"]["predictor"].pop("containers")
    assert list(isvc_validator.iter_errors(broken))
    broken = copy.deepcopy(isvc)
    broken["spec"]["predictor"]["minReplicas"] = "1"
    assert list(isvc_validator.iter_errors(broken))


@pytest.mark.parametrize("target", ["kubernetes", "kserve"])
def test_gpus_probes_volumes_and_security_for_every_config(target: str) -> None:
    for candidate in CANDIDATES:
        rendered = rendered_for(candidate, target, startup_timeout=3600)
        pod = pod_spec(rendered)
        (container,) = pod["containers"]
        assert container["resources"]["limits"] == {GPU_RESOURCE: str(candidate.gpu_count)}
        startup, ready = container["startupProbe"], container["readinessProbe"]
        assert startup["httpGet"]["path"] == "/health"
        # patient enough for a model load: the probe gives up only after --timeout
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 3600
        assert ready["httpGet"]["path"] == "/v1/models"
        port = container["ports"][0]["containerPort"]
        for probe in (startup, ready):
            assert probe["httpGet"]["port"] in (port, container["ports"][0].get("name"))
        # the whole argv as `command`, replacing the image's entrypoint (vLLM's images have
        # `vllm serve` as theirs: as `args` the pod would run `vllm serve vllm serve ...`)
        argv = container["command"]
        assert "args" not in container
        if candidate.setup:  # the server argv follows the setup wrapper's script and $0
            assert argv[:2] == ["/bin/sh", "-c"] and argv[3] == "aim-setup"
            argv = argv[4:]
        server = backends.get(candidate.backend)
        assert tuple(argv[: len(server.command)]) == server.command
        assert argv[argv.index(server.host_flag) + 1] == "0.0.0.0"
        assert argv[argv.index(server.port_flag) + 1] == str(port) == str(server.container_port)
        assert container["securityContext"] == {
            "capabilities": {"add": ["SYS_PTRACE"]},
            "seccompProfile": {"type": "Unconfined"},
        }
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["dshm"]["emptyDir"]["medium"] == "Memory"
        assert volumes["hf-cache"]["hostPath"]["path"].startswith("/")
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts == {"/dev/shm": "dshm", "/root/.cache/huggingface": "hf-cache"}
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["HF_HOME"] == "/root/.cache/huggingface"
        assert {k: str(v) for k, v in candidate.env.items()}.items() <= env.items()


def pod_spec(rendered: Rendered) -> dict[str, Any]:
    obj = rendered.objects[0]
    if obj["kind"] == "InferenceService":
        return dict(obj["spec"]["predictor"])
    return dict(obj["spec"]["template"]["spec"])


def test_deployment_and_service_agree() -> None:
    candidate = next(c for c in CANDIDATES if c.gpu_count == 8)
    rendered = rendered_for(candidate, "kubernetes", replicas=3, service_port=9000, cpu="32", memory="512Gi")
    deployment, service = rendered.objects
    assert deployment["spec"]["replicas"] == 3
    template = deployment["spec"]["template"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= template["metadata"]["labels"].items()
    assert service["spec"]["selector"] == selector
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 9000, "targetPort": "http", "protocol": "TCP"}
    ]
    (container,) = template["spec"]["containers"]
    assert container["resources"]["requests"] == {"cpu": "32", "memory": "512Gi"}
    # no surge pod: an update never waits for GPUs the old pods hold
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    assert deployment["spec"]["progressDeadlineSeconds"] > 3600
    assert rendered.endpoint("llm") == f"http://{rendered.name}.llm.svc.cluster.local:9000/v1"


def test_hf_cache_from_a_claim_and_shm_size() -> None:
    rendered = rendered_for(CANDIDATES[0], "kubernetes", hf_cache_pvc="hf-models", shm_size="16g")
    volumes = {v["name"]: v for v in pod_spec(rendered)["volumes"]}
    assert volumes["hf-cache"] == {"name": "hf-cache", "persistentVolumeClaim": {"claimName": "hf-models"}}
    assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "16Gi"}


@pytest.mark.parametrize("target", ["kubernetes", "kserve"])
def test_the_token_comes_from_a_secret_and_never_appears(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "hf_TOPSECRETvalue0123456789"
    monkeypatch.setenv("HF_TOKEN", token)
    candidate = CANDIDATES[0]
    with_secret = rendered_for(candidate, target, hf_token_secret="hf-token")
    without = rendered_for(candidate, target)
    custom_key = rendered_for(candidate, target, hf_token_secret="creds:hf")
    for rendered in (with_secret, without, custom_key):
        text = rendered.yaml() + json.dumps(rendered.as_list()) + "".join(rendered.files().values())
        assert token not in text and "TOPSECRET" not in text
    env = pod_spec(with_secret)["containers"][0]["env"]
    (entry,) = [e for e in env if e["name"] == "HF_TOKEN"]
    assert entry == {
        "name": "HF_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "HF_TOKEN"}},
    }
    (entry,) = [e for e in pod_spec(custom_key)["containers"][0]["env"] if e["name"] == "HF_TOKEN"]
    assert entry["valueFrom"]["secretKeyRef"] == {"name": "creds", "key": "hf"}
    assert all(e["name"] != "HF_TOKEN" for e in pod_spec(without)["containers"][0]["env"])
    assert any("--hf-token-secret" in note and token not in note for note in without.notes)


def test_secret_named_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    candidate = CANDIDATES[0]
    spec = build_spec(
        candidate,
        name="x",
        gpus=[0],
        render_minors=[],
        port=8000,
        env={"MY_API_KEY": "abc123secret"},
        hf_cache=Path("/unused"),
        catalog=CATALOG,
        check_devices=False,
    )
    with pytest.raises(UsageProblem, match="MY_API_KEY") as caught:
        render(spec, candidate, KubeOptions(), name=None, catalog=CATALOG)
    assert "abc123secret" not in str(caught.value)


@pytest.mark.parametrize("target", ["kubernetes", "kserve"])
def test_labels_mirror_the_docker_target(target: str) -> None:
    candidate = next(c for c in CANDIDATES if c.huggingface_id == "Qwen/Qwen3-32B" and c.backend == "sglang")
    docker = build_spec(
        candidate,
        name=container_name(candidate),
        gpus=[0, 1],
        render_minors=[],
        port=8000,
        hf_cache=Path("/unused"),
        catalog=CATALOG,
        check_devices=False,
    ).labels
    rendered = rendered_for(candidate, target)
    # where the cluster decides (GPU indexes, host port) or per-container (launch id), no label
    per_host = {"aim-catalog.gpus", "aim-catalog.port", "aim-catalog.launch"}
    for obj in rendered.objects:
        labels = obj["metadata"]["labels"]
        assert {k for k in docker if k.startswith("aim-catalog.")} - per_host <= set(labels)
        assert labels["aim-catalog.managed"] == "true"
        assert labels["aim-catalog.recipe"] == candidate.recipe_id
        assert labels["aim-catalog.model"] == "Qwen_Qwen3-32B"
        assert labels["aim-catalog.backend"] == "sglang"
        assert labels["aim-catalog.gpu-count"] == str(candidate.gpu_count)
        assert obj["metadata"]["annotations"]["aim-catalog.model"] == "Qwen/Qwen3-32B"
        assert obj["metadata"]["annotations"]["aim-catalog.catalog"] == CATALOG
        check_metadata(obj, limit=63 if target == "kubernetes" else 47)
    pod_labels = (
        rendered.objects[0]["spec"]["template"]["metadata"]["labels"]
        if target == "kubernetes"
        else rendered.objects[0]["spec"]["predictor"]["labels"]
    )
    assert pod_labels["aim-catalog.managed"] == "true"  # kubectl get pods -l aim-catalog.managed=true


@pytest.mark.parametrize(
    ("hardware", "ids"),
    # every id amdgpu.ids names the product with (ROCm/k8s-device-plugin d1e5049d,
    # cmd/k8s-node-labeller/amdgpu.ids), its VF (SR-IOV guest) and HF functions included:
    # a node in a VM labels itself with the VF's id
    [
        ("MI300X", ["74a1", "74a9", "74b5", "74bd"]),
        ("MI308X", ["74a2", "74a8", "74b6", "74bc"]),
        ("MI325X", ["74a5", "74b9"]),
        ("MI350X", ["75a0", "75b0"]),
        ("MI355X", ["75a3", "75b3"]),
        ("mi210", ["740f"]),
    ],
)
def test_node_affinity_per_hardware_uses_the_labellers_device_id(hardware: str, ids: list[str]) -> None:
    # an image of no particular architecture: any hardware may run it
    candidate = replace(CANDIDATES[0], hardware=hardware, image="rocm/vllm:latest")
    for target in ("kubernetes", "kserve"):
        pod = pod_spec(rendered_for(candidate, target))
        terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert terms == {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": DEVICE_ID_LABEL, "operator": "In", "values": ids}]}
            ]
        }
    # the labeller's value: the sysfs id (0x74a1) without 0x, lower case; ours agree with hardware.py
    assert all(DEVICE_IDS[int(i, 16)].upper() == hardware.upper() for i in ids)


def test_bundled_recipes_pin_their_hardware_and_unknown_hardware_does_not() -> None:
    for candidate in CANDIDATES:
        affinity = pod_spec(rendered_for(candidate, "kubernetes")).get("affinity")
        assert affinity is not None, candidate.recipe_id
    rendered = rendered_for(replace(CANDIDATES[0], hardware="MI999Z", image="rocm/vllm:latest"), "kubernetes")
    assert "affinity" not in pod_spec(rendered)
    assert any("MI999Z" in note for note in rendered.notes)
    rendered = rendered_for(CANDIDATES[0], "kubernetes", node_affinity=False)
    assert "affinity" not in pod_spec(rendered)


@pytest.mark.parametrize("target", ["kubernetes", "kserve"])
def test_names_are_dns_labels_and_distinct_across_recipes(target: str) -> None:
    names: dict[str, str] = {}
    for candidate in CANDIDATES:
        rendered = rendered_for(candidate, target)
        key = f"{candidate.recipe_id}/{candidate.backend}/{candidate.gpu_count}"
        assert rendered.name not in names or names[rendered.name] == key, (rendered.name, key, names)
        names[rendered.name] = key
        assert rendered.name.startswith("aim-")
    # the 405B recipes share a Docker name (one per image) but not a cluster name
    docker_names = {container_name(c) for c in CANDIDATES}
    assert len(docker_names) < len(names)
    long = object_name("aim-" + "x" * 200 + "-8gpu-fp8-vllm", "some-recipe", target)
    assert len(long) <= (63 if target == "kubernetes" else 47) and DNS1035_LABEL.fullmatch(long)
    assert object_name("aim-Qwen_3.5--8gpu", "r", target).startswith("aim-qwen-3-5-8gpu-")


def test_given_names_are_checked() -> None:
    assert check_object_name("my-llm", "kserve") == "my-llm"
    for bad in ("My-LLM", "1llm", "llm-", "a" * 64, "llm.v1"):
        with pytest.raises(UsageProblem):
            check_object_name(bad, "kubernetes")
    with pytest.raises(UsageProblem, match="47"):
        check_object_name("a" * 48, "kserve")


@pytest.mark.parametrize(
    "options",
    [
        {"hf_token_secret": "Bad_Name"},
        {"hf_token_secret": "ok:bad key"},
        {"cpu": "lots"},
        {"memory": "12 GB"},
        {"hf_cache_pvc": "UPPER"},
        {"hf_cache_host_path": "relative/path"},
        {"hf_cache_pvc": "x", "hf_cache_host_path": "/data"},
        {"namespace": "Not_A_Namespace"},
        {"replicas": 0},
    ],
)
def test_bad_cluster_options_are_usage_errors(options: dict[str, Any]) -> None:
    with pytest.raises(UsageProblem):
        rendered_for(CANDIDATES[0], "kubernetes", **options)


def test_yaml_is_plain_multi_document_and_files_one_per_object() -> None:
    rendered = rendered_for(CANDIDATES[0], "kubernetes", namespace="llm")
    text = rendered.yaml()
    assert "&id" not in text and "*id" not in text  # no YAML anchors for kubectl to trip on
    docs = list(yaml.safe_load_all(text))
    assert docs == rendered.objects
    assert all(d["metadata"]["namespace"] == "llm" for d in docs)
    files = rendered.files()
    assert sorted(files) == [f"{rendered.name}-deployment.yaml", f"{rendered.name}-service.yaml"]
    assert [yaml.safe_load(t) for t in files.values()] == rendered.objects
    listed = rendered.as_list()
    assert listed["kind"] == "List" and listed["items"] == rendered.objects


def kubelet_expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' expansion of a command/args/env value, as the API documents it (core/v1
    Container.command and EnvVar.value in the official schemas kubernetes-validate ships):
    $(NAME) becomes NAME's value when NAME is defined, else stays as written; $$ becomes $."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("$(", i) and ")" in text[i + 2 :]:
            end = text.index(")", i + 2)
            name = text[i + 2 : end]
            out.append(env.get(name, text[i : end + 1]))
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@pytest.mark.parametrize("target", ["kubernetes", "kserve"])
def test_variable_references_reach_the_server_as_written_not_expanded(target: str) -> None:
    """A recipe arg `--served-model-name: "$(HF_TOKEN)"` was rendered unchanged next to
    HF_TOKEN from a Secret: the kubelet would have served the token as the model name.
    Rendered, every $ is doubled, so the pod runs exactly the argv the Docker target runs."""
    base = next(c for c in CANDIDATES if c.backend == "vllm")
    args = {**base.args, "--served-model-name": "$(HF_TOKEN)", "--chat-template": "a$b $$(X) $(MISSING)"}
    candidate = dataclasses.replace(base, args=args, env={**base.env, "GREETING": "$(HF_TOKEN) $$"})
    rendered = rendered_for(candidate, target, hf_token_secret="hf")
    (container,) = pod_spec(rendered)["containers"]
    pod_env = {"HF_TOKEN": "hf_secret_value", "X": "x"}
    spec = build_spec(candidate, name="x", gpus=[0], port=8000, catalog=CATALOG)
    assert [kubelet_expand(part, pod_env) for part in container["command"]] == spec.command
    assert "$(HF_TOKEN)" in spec.command and "hf_secret_value" not in str(rendered.objects)
    values = {e["name"]: e.get("value") for e in container["env"]}
    assert kubelet_expand(values["GREETING"], pod_env) == "$(HF_TOKEN) $$"


def test_the_expansion_the_test_plays_is_the_kubelet_s() -> None:
    """The rules, on the API documentation's own examples."""
    env = {"VAR_NAME": "value"}
    assert kubelet_expand("$(VAR_NAME)", env) == "value"
    assert kubelet_expand("$$(VAR_NAME)", env) == "$(VAR_NAME)"
    assert kubelet_expand("$(UNDEFINED)", env) == "$(UNDEFINED)"


SETUP = ("pip install amd-quark", "pip install -U transformers>=4.57,<5")


@pytest.mark.parametrize("target", ["kubernetes", "kserve"])
def test_setup_runs_in_the_pod_before_the_server_as_on_docker(target: str) -> None:
    """The same wrapper as the Docker target's: every $ doubled in the manifest (its
    ``"$@"`` and ``$?`` too), which the kubelet reads back to the exact argv Docker runs;
    the objects still validate; the startup probe's budget, counted from the container's
    start, is the whole --timeout the setup and the model load share."""
    base = next(c for c in CANDIDATES if c.backend == "vllm" and not c.setup)
    candidate = dataclasses.replace(base, setup=SETUP, args={**base.args, "--chat-template": "$(HF_TOKEN)"})
    rendered = rendered_for(candidate, target, hf_token_secret="hf", startup_timeout=1800)
    (container,) = pod_spec(rendered)["containers"]
    spec = build_spec(candidate, name="x", gpus=[0], port=8000, catalog=CATALOG)
    pod_env = {"HF_TOKEN": "hf_secret_value"}
    assert [kubelet_expand(part, pod_env) for part in container["command"]] == spec.container_command()
    script = container["command"][2]
    assert 'exec "$$@"' in script and "code=$$?" in script and "$(" not in script.replace("$$(", "")
    assert spec.container_command()[4:] == spec.command and "$(HF_TOKEN)" in spec.command
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] == 1800
    objects = rendered.objects if target == "kubernetes" else [as_pod(rendered.objects[0])]
    for version in K8S_VERSIONS:
        for obj in objects:
            kubernetes_validate.validate(obj, version, strict=True)
    # the script reads as text in the YAML (a literal block), and loads back unchanged
    assert "- |-\n" in rendered.yaml() and list(yaml.safe_load_all(rendered.yaml())) == rendered.objects
    assert [yaml.safe_load(text) for text in rendered.files().values()] == rendered.objects


def test_without_setup_the_pod_runs_the_server_argv() -> None:
    candidate = next(c for c in CANDIDATES if not c.setup)
    (container,) = pod_spec(rendered_for(candidate, "kubernetes"))["containers"]
    spec = build_spec(candidate, name="x", gpus=[0], port=8000, catalog=CATALOG)
    assert [kubelet_expand(part, {}) for part in container["command"]] == spec.command
