"""Kubernetes objects for a selected config: a Deployment and a Service, or a KServe
InferenceService. Pure: built from the run spec the Docker target uses (same image, server
argv, environment), so both targets serve the same thing; no client, no cluster.

Formats, from their owners' sources:
- ``apps/v1`` Deployment and ``v1`` Service as the Kubernetes API defines them (tests
  validate every rendered object with ``kubernetes-validate`` for several minor versions).
- ``serving.kserve.io/v1beta1`` InferenceService, custom predictor container, per the CRD
  of kserve/kserve at aaac4e294 (v0.20, ``config/crd/full``): the container is named
  ``kserve-container`` (``constants.InferenceServiceContainerName``), the name must match
  ``[a-z]([-a-z0-9]*[a-z0-9])?`` (``IsvcNameFmt``).
- ``amd.com/gpu``, the resource AMD's GPU device plugin (ROCm/k8s-device-plugin)
  advertises, and ``amd.com/gpu.device-id``, the label its node labeller puts on a node
  whose GPUs share one PCI device id (value: the id in lower-case hex without ``0x``,
  ``cmd/k8s-node-labeller/main.go`` at ed76468).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from aim_catalog.backends.envpolicy import is_secret
from aim_catalog.errors import UsageProblem, shown
from aim_catalog.launch.runspec import CONTAINER_HF_HOME, RunSpec
from aim_catalog.launch.targets.kubernetes.names import (
    annotations_for,
    check_object_name,
    labels_for,
    object_name,
    selector,
)
from aim_catalog.selection.request import Candidate

KUBE_TARGETS = ("kubernetes", "kserve")  # the names this package registers
GPU_RESOURCE = "amd.com/gpu"
DEVICE_ID_LABEL = "amd.com/gpu.device-id"
KSERVE_API = "serving.kserve.io/v1beta1"
KSERVE_CONTAINER = "kserve-container"
# "RawDeployment" (plain Deployment + Service, no Knative) is understood by every KServe
# release: 0.15 names it so, 0.16+ read it as "Standard". Knative would refuse the
# hostPath volume, SYS_PTRACE and the unconfined seccomp profile ROCm images need.
KSERVE_MODE = {"serving.kserve.io/deploymentMode": "RawDeployment"}
PROBE_PERIOD = 10  # seconds
DEFAULT_NODE_HF_CACHE = "/var/lib/aim-catalog/huggingface"
DEFAULT_TOKEN_KEY = "HF_TOKEN"

_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_QUANTITY = re.compile(r"(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")
_DOCKER_SIZE_UNITS = {"": "", "b": "", "k": "Ki", "m": "Mi", "g": "Gi"}  # docker sizes are binary


class _PlainDumper(yaml.SafeDumper):
    """Safe YAML without anchors: labels shared by several objects are written out each time."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """A string of several lines (the setup wrapper's script) as a literal block, which reads
    as the text itself; YAML falls back to quoting where a block cannot hold it."""
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_PlainDumper.add_representer(str, _text)


@dataclass(frozen=True)
class KubeOptions:
    """What the command line says about the cluster side of a launch."""

    target: str = "kubernetes"
    namespace: str | None = None
    replicas: int = 1
    service_port: int = 8000
    hf_cache_pvc: str | None = None
    hf_cache_host_path: str | None = None
    hf_token_secret: str | None = None  # NAME or NAME:KEY
    cpu: str | None = None
    memory: str | None = None
    shm_size: str | None = None  # docker syntax (16g), as --shm-size takes it
    startup_timeout: float = 3600.0
    node_affinity: bool = True


@dataclass(frozen=True)
class Rendered:
    name: str
    target: str
    namespace: str | None
    objects: list[dict[str, Any]]
    service_port: int
    notes: list[str] = field(default_factory=list)

    def yaml(self) -> str:
        """Multi-document YAML, ``kubectl apply -f -`` ready."""
        return yaml.dump_all(self.objects, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False)

    def as_list(self) -> dict[str, Any]:
        """The objects as one ``v1`` List, which ``kubectl apply -f`` also takes."""
        return {"apiVersion": "v1", "kind": "List", "items": self.objects}

    def files(self) -> dict[str, str]:
        """One YAML file per object: ``<name>-<kind>.yaml``."""
        return {
            f"{obj['metadata']['name']}-{obj['kind'].lower()}.yaml": yaml.dump(
                obj, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False
            )
            for obj in self.objects
        }

    def endpoint(self, namespace: str) -> str:
        """The in-cluster URL of the OpenAI-compatible API."""
        if self.target == "kserve":  # KServe's raw-mode Service: <name>-predictor, port 80
            return f"http://{self.name}-predictor.{namespace}.svc.cluster.local/v1"
        return f"http://{self.name}.{namespace}.svc.cluster.local:{self.service_port}/v1"


def literal(text: str) -> str:
    """``text`` as the container gets it, whatever it holds. The kubelet expands ``$(NAME)``
    in a container's command, args and env values from its environment, and reads ``$$``
    as one ``$`` (the Kubernetes API's own words, ``core/v1`` Container.command/args and
    EnvVar.value, as the official schemas of 1.25-1.37 carry them). Doubling every ``$``
    keeps a recipe's ``$(HF_TOKEN)`` the literal the Docker target passes, never the token."""
    return text.replace("$", "$$")


def device_ids(hardware: str) -> list[str]:
    """PCI device ids of ``hardware`` as the node labeller writes them (lower hex, no 0x)."""
    from aim_catalog.host.gpus import DEVICE_IDS

    return sorted(f"{dev:04x}" for dev, model in DEVICE_IDS.items() if model.upper() == hardware.upper())


def node_affinity(hardware: str) -> dict[str, Any] | None:
    ids = device_ids(hardware)
    if not ids:
        return None
    term = {"matchExpressions": [{"key": DEVICE_ID_LABEL, "operator": "In", "values": ids}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


def check_options(opts: KubeOptions) -> None:
    """Usage errors in the cluster options, before anything is selected or rendered."""
    if opts.target not in KUBE_TARGETS:
        raise UsageProblem(f"{shown(opts.target)} is not a cluster target ({', '.join(KUBE_TARGETS)})")
    if opts.namespace is not None and (len(opts.namespace) > 63 or not _dns1123_label(opts.namespace)):
        raise UsageProblem(f"--namespace {shown(opts.namespace)} is not a valid namespace name")
    if opts.hf_cache_pvc is not None and not _subdomain(opts.hf_cache_pvc):
        raise UsageProblem(f"--hf-cache-pvc {shown(opts.hf_cache_pvc)} is not a valid claim name")
    if opts.hf_cache_pvc is not None and opts.hf_cache_host_path is not None:
        raise UsageProblem("--hf-cache-pvc and --hf-cache are exclusive: the cache is one volume")
    if opts.hf_cache_host_path is not None and not opts.hf_cache_host_path.startswith("/"):
        raise UsageProblem(f"--hf-cache {shown(opts.hf_cache_host_path)}: a node path must be absolute")
    if opts.hf_token_secret is not None:
        secret_ref(opts.hf_token_secret)
    for flag, value in (("--cpu", opts.cpu), ("--memory", opts.memory)):
        if value is not None and not _QUANTITY.fullmatch(value):
            raise UsageProblem(f"{flag} takes a Kubernetes quantity like 16, 500m, 64Gi; got {shown(value)}")
    if not 1 <= opts.replicas <= 1000:
        raise UsageProblem(f"--replicas must be from 1 to 1000, got {opts.replicas}")


def _dns1123_label(value: str) -> bool:  # namespaces are DNS-1123 labels
    return bool(re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value))


def _subdomain(value: str) -> bool:
    return len(value) <= 253 and bool(_DNS1123_SUBDOMAIN.fullmatch(value))


def secret_ref(option: str) -> tuple[str, str]:
    """``NAME`` or ``NAME:KEY`` of --hf-token-secret as (name, key); the key defaults to HF_TOKEN."""
    name, _, key = option.partition(":")
    key = key or DEFAULT_TOKEN_KEY
    if not _subdomain(name) or not _SECRET_KEY.fullmatch(key):
        raise UsageProblem(
            f"--hf-token-secret takes NAME or NAME:KEY of an existing Secret, got {shown(option)}"
        )
    return name, key


def quantity_from_docker_size(size: str) -> str:
    """Docker's 16g (binary units) as a Kubernetes quantity: 16Gi."""
    number, unit = re.fullmatch(r"([0-9]+)([bkmg]?)", size.lower()).groups()  # type: ignore[union-attr]
    return f"{number}{_DOCKER_SIZE_UNITS[unit]}"


def render(
    spec: RunSpec, candidate: Candidate, opts: KubeOptions, *, name: str | None, catalog: str
) -> Rendered:
    """The objects for ``opts.target``; ``name`` None takes the Docker name, made valid."""
    check_options(opts)
    name = (
        check_object_name(name, opts.target)
        if name is not None
        else object_name(spec.name, candidate.recipe_id, opts.target)
    )
    notes: list[str] = []
    labels = labels_for(candidate, name, catalog)
    annotations = annotations_for(candidate, catalog)
    metadata: dict[str, Any] = {"name": name}
    if opts.namespace:
        metadata["namespace"] = opts.namespace
    pod = _pod(spec, candidate, opts, notes)
    # One pod at a time, never an extra one: GPUs are scarce, so an update must not wait
    # for a surge pod's GPUs (with one replica this is a stop-then-start).
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
    if opts.target == "kserve":
        pod["containers"][0]["name"] = KSERVE_CONTAINER
        isvc = {
            "apiVersion": KSERVE_API,
            "kind": "InferenceService",
            "metadata": {**metadata, "labels": labels, "annotations": {**annotations, **KSERVE_MODE}},
            "spec": {
                "predictor": {
                    "minReplicas": opts.replicas,
                    "maxReplicas": opts.replicas,
                    "labels": labels,
                    "deploymentStrategy": strategy,
                    **pod,
                }
            },
        }
        return Rendered(name, opts.target, opts.namespace, [isvc], 80, notes)
    objects = _deployment_and_service(name, opts, metadata, labels, annotations, pod, strategy)
    return Rendered(name, opts.target, opts.namespace, objects, opts.service_port, notes)


def _pod(spec: RunSpec, candidate: Candidate, opts: KubeOptions, notes: list[str]) -> dict[str, Any]:
    container, volumes = _container(spec, candidate, opts, notes)
    pod: dict[str, Any] = {
        # The pause container as PID 1 reaps the server's worker processes and lets the
        # server get SIGTERM itself: what `docker run --init` does for the Docker target.
        "shareProcessNamespace": True,
        "containers": [container],
        "volumes": volumes,
    }
    affinity = node_affinity(candidate.hardware) if opts.node_affinity else None
    if affinity is not None:
        pod["affinity"] = affinity
        ids = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        notes.append(
            f"pods go to {candidate.hardware} nodes only ({DEVICE_ID_LABEL} in "
            f"{', '.join(ids[0]['matchExpressions'][0]['values'])}, set by AMD's node labeller; "
            "--no-node-affinity drops this)"
        )
    elif opts.node_affinity:
        notes.append(f"no known PCI device id for {candidate.hardware}: pods may land on any AMD GPU node")
    return pod


def _deployment_and_service(
    name: str,
    opts: KubeOptions,
    metadata: dict[str, Any],
    labels: dict[str, str],
    annotations: dict[str, str],
    pod: dict[str, Any],
    strategy: dict[str, Any],
) -> list[dict[str, Any]]:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {**metadata, "labels": labels, "annotations": annotations},
        "spec": {
            "replicas": opts.replicas,
            "selector": {"matchLabels": selector(name)},
            "strategy": strategy,
            # Loading a model takes long; report a stuck rollout only after the probe gave up.
            "progressDeadlineSeconds": int(opts.startup_timeout) + 120,
            "template": {"metadata": {"labels": labels, "annotations": annotations}, "spec": pod},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {**metadata, "labels": labels, "annotations": annotations},
        "spec": {
            "type": "ClusterIP",
            "selector": selector(name),
            "ports": [{"name": "http", "port": opts.service_port, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    return [deployment, service]


def _container(
    spec: RunSpec, candidate: Candidate, opts: KubeOptions, notes: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    port = spec.container_port
    env = _env(spec, opts, notes)
    cache = _cache_volume(opts, notes)
    shm: dict[str, Any] = {"medium": "Memory"}
    if opts.shm_size:
        shm["sizeLimit"] = quantity_from_docker_size(opts.shm_size)
    requests = {
        key: value for key, value in (("cpu", opts.cpu), ("memory", opts.memory)) if value is not None
    }
    resources: dict[str, Any] = {"limits": {GPU_RESOURCE: str(candidate.gpu_count)}}
    if requests:
        resources["requests"] = requests
    container: dict[str, Any] = {
        "name": candidate.backend,
        "image": spec.image,
        # command, not args: the whole argv replaces the image's entrypoint (vLLM's images
        # have `vllm serve` as entrypoint; see runspec.ENTRYPOINT_NOTE), as on Docker; with
        # the recipe's setup, the same shell wrapper (its `"$@"` doubled to `"$$@"` here,
        # which the kubelet reads back as `"$@"`).
        "command": [literal(part) for part in spec.container_command()],
        "ports": [{"containerPort": port, "protocol": "TCP"}],
        "env": env,
        "resources": resources,
        "volumeMounts": [
            {"name": "hf-cache", "mountPath": CONTAINER_HF_HOME},
            {"name": "dshm", "mountPath": "/dev/shm"},
        ],
        "securityContext": {
            "capabilities": {"add": list(spec.cap_add)},
            "seccompProfile": {"type": "Unconfined"},
        },
        **_probes(spec, opts),
    }
    if opts.target != "kserve":
        container["ports"][0]["name"] = "http"
    return container, [cache, {"name": "dshm", "emptyDir": shm}]


def _env(spec: RunSpec, opts: KubeOptions, notes: list[str]) -> list[dict[str, Any]]:
    # Secret-named variables (envpolicy's one rule) never go into a manifest: HF_TOKEN
    # comes from a Secret; any other one the operator has to put in a Secret too.
    inlined = sorted({*spec.secret_env, *(k for k in spec.env if is_secret(k))} - {"HF_TOKEN"})
    if inlined:
        raise UsageProblem(
            f"{', '.join(inlined)}: a secret would be written into the manifest in clear; "
            "for a cluster, put it in a Secret (only HF_TOKEN has an option: --hf-token-secret)"
        )
    env: list[dict[str, Any]] = [{"name": k, "value": literal(v)} for k, v in spec.env.items()]
    if opts.hf_token_secret is not None:
        secret, key = secret_ref(opts.hf_token_secret)
        env.append({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
    elif "HF_TOKEN" in spec.secret_env:
        notes.append(
            "HF_TOKEN is set here but never goes into a manifest: give the pods a Secret with "
            "--hf-token-secret NAME (kubectl create secret generic NAME --from-literal=HF_TOKEN=...)"
        )
    return env


def _cache_volume(opts: KubeOptions, notes: list[str]) -> dict[str, Any]:
    if opts.hf_cache_pvc is not None:
        cache: dict[str, Any] = {
            "name": "hf-cache",
            "persistentVolumeClaim": {"claimName": opts.hf_cache_pvc},
        }
    else:
        path = opts.hf_cache_host_path or DEFAULT_NODE_HF_CACHE
        cache = {"name": "hf-cache", "hostPath": {"path": path, "type": "DirectoryOrCreate"}}
        notes.append(f"Hugging Face cache: {path} on each node (--hf-cache-pvc NAME shares one volume)")
    return cache


def _probes(spec: RunSpec, opts: KubeOptions) -> dict[str, Any]:
    probe_port: int | str = spec.container_port if opts.target == "kserve" else "http"
    return {
        # Patient: a large model takes many minutes to download and load (--timeout). The
        # probe counts from the container's start, so the recipe's setup steps (run in the
        # container before the server) spend the same budget, as on Docker.
        "startupProbe": {
            "httpGet": {"path": spec.readiness[0], "port": probe_port},
            "periodSeconds": PROBE_PERIOD,
            "timeoutSeconds": 5,
            "failureThreshold": max(1, math.ceil(opts.startup_timeout / PROBE_PERIOD)),
        },
        "readinessProbe": {
            "httpGet": {"path": spec.readiness[-1], "port": probe_port},
            "periodSeconds": PROBE_PERIOD,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        },
    }
