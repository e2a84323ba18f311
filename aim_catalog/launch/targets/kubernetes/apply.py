"""Rendered objects onto a cluster with the official ``kubernetes`` client, and back.

Thin on purpose: server-side apply (field manager ``aim-catalog``), a poll of the rollout,
pod logs, and deletes preconditioned on the uid launch recorded, so ``stop`` removes what
launch created and nothing else. The only module that imports ``kubernetes``.

Every exchange with the API server but a followed log runs under one deadline (``_ask``:
``CALL_SECONDS``, and within a readiness wait no more than what is left of its timeout) and
reads at most ``MAX_BODY`` of an answer. The client's own timeouts bound each socket read
only, so an API server (or a proxy in front of it) that trickles its headers or body would
otherwise hold a launch, ``ps`` or ``stop`` for as long as it likes. A call that passes its
deadline is left to finish in a daemon thread; what it may still change on the cluster is
what a launch interrupted at that point would have changed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from aim_catalog.errors import EnvironmentProblem, LaunchFailed, UsageProblem, first_line, shown
from aim_catalog.launch import labels as label_keys
from aim_catalog.launch.runspec import MASK
from aim_catalog.launch.server_command import setup_stage
from aim_catalog.launch.targets.kubernetes.names import MANAGER, selector
from aim_catalog.launch.targets.kubernetes.render import KSERVE_API, Rendered
from aim_catalog.notes import WaitProgress, Write
from aim_catalog.settings import kubeconfig

APPLY = "application/apply-patch+yaml"
KSERVE_GROUP, KSERVE_VERSION = KSERVE_API.split("/")
KSERVE_PLURAL = "inferenceservices"
POLL = 5.0  # seconds between rollout checks
CALL_SECONDS = 30.0  # one exchange with the API server, connecting to the last byte read
MAX_BODY = 16 * 2**20  # bytes of one answer (an object, a pod list)
T = TypeVar("T")
LOG_LINES = 20  # of a crashed container, shown with the failure (as the Docker target shows its tail)
# A pod in one of these will not become ready by waiting (the Docker target's "exited").
FATAL_WAITING = ("CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff", "InvalidImageName",
                 "CreateContainerConfigError", "CreateContainerError")  # fmt: skip


@dataclass
class Cluster:
    api: k8s.ApiClient
    context: str
    namespace: str
    server: str


def connect(context: str | None, namespace: str | None) -> Cluster:
    """The client for a kubeconfig context (the current one by default)."""
    # Read now, not at the client's import ($KUBECONFIG may list several files, ':'-separated).
    config_file = kubeconfig()
    try:
        contexts, active = k8s_config.list_kube_config_contexts(config_file)  # type: ignore[no-untyped-call]
    except (ConfigException, OSError) as exc:
        raise EnvironmentProblem(
            f"no usable kubeconfig ({first_line(exc)[:200]}): set KUBECONFIG, or use --dry-run to print the "
            "manifests for `kubectl apply -f -`"
        ) from exc
    chosen = active
    if context is not None:
        chosen = next((c for c in contexts if c.get("name") == context), None)
        if chosen is None:
            names = ", ".join(sorted(str(c.get("name")) for c in contexts)) or "none"
            raise UsageProblem(f"--context {shown(context)} is not in the kubeconfig (contexts: {names})")
    if not chosen:
        raise EnvironmentProblem("the kubeconfig has no current context: pass --context NAME")
    config = k8s.Configuration()
    try:
        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file, context=chosen["name"], client_configuration=config, persist_config=False
        )
    except (ConfigException, OSError, ValueError) as exc:
        raise EnvironmentProblem(f"kubeconfig context {chosen['name']!r}: {first_line(exc)[:200]}") from exc
    config.retries = 1  # an unreachable API server is reported in seconds, not minutes
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)  # our one line says it
    ns = namespace or chosen.get("context", {}).get("namespace") or "default"
    cluster = Cluster(k8s.ApiClient(config), chosen["name"], ns, str(config.host))
    try:  # reachable, and we may talk to it: said once, before anything is rendered or applied
        _ask(
            cluster,
            f"context {cluster.context!r} ({cluster.server})",
            lambda: _json(k8s.VersionApi(cluster.api).get_code(_preload_content=False)),
        )
    except LaunchFailed as exc:
        raise EnvironmentProblem(str(exc)) from exc
    return cluster


@contextmanager
def _talking(cluster: Cluster, what: str) -> Iterator[None]:
    """API and connection errors as one line naming the context; never a traceback."""
    try:
        yield
    except ApiException as exc:
        raise LaunchFailed(
            f"{what}: the cluster said {exc.status} {exc.reason}: {_api_message(exc)}"
        ) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise EnvironmentProblem(
            f"cannot reach the cluster of context {cluster.context!r} ({cluster.server}): "
            f"{first_line(exc)[:200]}"
        ) from exc


class Unanswered(EnvironmentProblem):
    """The API server did not finish answering within the deadline."""


def _ask(cluster: Cluster, what: str, call: Callable[[], T], seconds: float = CALL_SECONDS) -> T:
    """``call``'s result (requests to the API server and the reading of their answers),
    within ``seconds`` from the first connect to the last byte, failures in one line."""
    done: dict[str, Any] = {}

    def run() -> None:
        try:
            with _talking(cluster, what):
                done["value"] = call()
        except BaseException as exc:  # handed to the caller's thread below
            done["error"] = exc

    worker = threading.Thread(target=run, name=f"kubernetes: {what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise Unanswered(
            f"{what}: the cluster of context {cluster.context!r} ({cluster.server}) did not answer "
            f"within {seconds:.0f}s"
        )
    if "error" in done:
        raise done["error"]
    value: T = done["value"]
    return value


def _api_message(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message", ""))[:300] or "(no message)"
    except (ValueError, AttributeError):
        return first_line(exc)[:200]


def _json(response: Any) -> dict[str, Any]:
    """The body of a response read without the client's models: the API's own JSON
    (camelCase), which holds whatever fields the server has, in any client version."""
    data = response.read(MAX_BODY + 1)  # _preload_content=False: nothing was read yet
    if len(data) > MAX_BODY:
        raise EnvironmentProblem(
            f"the cluster sent an answer larger than {MAX_BODY >> 20} MiB; stopped reading"
        )
    parsed = json.loads(data or b"{}")
    return parsed if isinstance(parsed, dict) else {}


def _get(cluster: Cluster, kind: str, name: str) -> dict[str, Any] | None:
    """The object as the API returns it (None when absent)."""
    ns = cluster.namespace
    response: Any
    try:
        if kind == "Deployment":
            response = k8s.AppsV1Api(cluster.api).read_namespaced_deployment(name, ns, _preload_content=False)
        elif kind == "Service":
            response = k8s.CoreV1Api(cluster.api).read_namespaced_service(name, ns, _preload_content=False)
        else:
            response = k8s.CustomObjectsApi(cluster.api).get_namespaced_custom_object(
                KSERVE_GROUP, KSERVE_VERSION, ns, KSERVE_PLURAL, name, _preload_content=False
            )
        return _json(response)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def apply(
    cluster: Cluster,
    rendered: Rendered,
    applied: list[dict[str, str]] | None = None,
    created: list[dict[str, str]] | None = None,
) -> list[dict[str, str]]:
    """Server-side apply of every object; returns what was applied, with uids, appending
    to ``applied`` as it goes (so an interruption midway knows what to delete), and to
    ``created`` those that did not exist before (an earlier launch's objects are updated
    in place: a failed launch must not delete them).

    An object of the same name that aim-catalog did not create is left alone (exit 5).
    """
    applied = [] if applied is None else applied
    for obj in rendered.objects:
        kind, name = obj["kind"], obj["metadata"]["name"]
        body = {**obj, "metadata": {**obj["metadata"], "namespace": cluster.namespace}}
        existing, result = _ask(
            cluster, f"applying {kind} {name}", partial(_apply_one, cluster, kind, name, body)
        )
        uid = str(result["metadata"]["uid"])
        entry = {"apiVersion": obj["apiVersion"], "kind": kind, "name": name, "uid": uid}
        applied.append(entry)
        if existing is None and created is not None:
            created.append(entry)
    return applied


def _apply_one(cluster: Cluster, kind: str, name: str, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The object as it was before (None: new) and as the server-side apply left it."""
    existing = _get(cluster, kind, name)
    labels = (existing or {}).get("metadata", {}).get("labels") or {}
    if existing is not None and labels.get(label_keys.MANAGED) != "true":
        raise LaunchFailed(
            f"{kind} {name} already exists in namespace {cluster.namespace} and was not created "
            "by aim-catalog; left alone (choose another --name)"
        )
    options: dict[str, Any] = {
        "field_manager": MANAGER,
        "force": True,
        "field_validation": "Strict",
        "_content_type": APPLY,
        "_preload_content": False,
    }
    response: Any
    if kind == "Deployment":
        response = k8s.AppsV1Api(cluster.api).patch_namespaced_deployment(
            name, cluster.namespace, body, **options
        )
    elif kind == "Service":
        response = k8s.CoreV1Api(cluster.api).patch_namespaced_service(
            name, cluster.namespace, body, **options
        )
    else:
        response = k8s.CustomObjectsApi(cluster.api).patch_namespaced_custom_object(
            KSERVE_GROUP, KSERVE_VERSION, cluster.namespace, KSERVE_PLURAL, name, body, **options
        )
    return existing, _json(response)


def wait(
    cluster: Cluster,
    rendered: Rendered,
    *,
    timeout: float,
    on_tick: WaitProgress | None = None,
    poll: float | None = None,
    secrets: tuple[str, ...] = (),
) -> str:
    """Poll until every replica is available (KServe: Ready); returns the in-cluster URL.

    Fails fast when a pod cannot start (image pull, crash loop, a missing Secret), with the
    last log lines of a crashed container (``secrets`` masked) and the setup step that
    failed, if one did; and on timeout, naming what the pods are waiting for.
    """
    poll = POLL if poll is None else poll
    start = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        left = max(1.0, min(CALL_SECONDS, timeout - elapsed))  # a slow answer counts against --timeout
        check = partial(_check, cluster, rendered)
        try:
            ready, url, pods = _ask(cluster, f"checking {rendered.name}", check, left)
        except Unanswered as exc:  # a launch that cannot be seen to come up failed: it is removed
            raise LaunchFailed(f"{rendered.name} not ready after {timeout:.0f}s: {exc}") from None
        if ready:
            return url
        fatal = next(((text, pod) for text, is_fatal, pod in pods if is_fatal), None)
        if fatal is not None:
            raise LaunchFailed(_cannot_start(cluster, rendered.name, *fatal, secrets))
        waiting = next((text for text, _, _ in pods), "no pod yet")
        if on_tick is not None:
            on_tick(elapsed, waiting)
        if elapsed >= timeout:
            raise LaunchFailed(f"{rendered.name} not ready after {timeout:.0f}s: {waiting}")
        time.sleep(min(poll, max(0.0, timeout - elapsed)) or poll)


def _cannot_start(cluster: Cluster, name: str, why: str, pod: str, secrets: tuple[str, ...]) -> str:
    """``name cannot start: why``, led by the failed setup step when the crashed container's
    log ends with one, and followed by that log's last lines."""
    log = _previous_log(cluster, pod)
    for value in secrets:
        if value:
            log = log.replace(value, MASK)
    stage = setup_stage(log)
    said = f"setup {stage[1]}; the server was not started ({why})" if stage and stage[0] == "failed" else why
    return f"{name} cannot start: {said}" + (f"\nlast log lines:\n{log}" if log else "")


def _previous_log(cluster: Cluster, pod: str) -> str:
    """The last lines the pod's crashed container wrote ("" when there is none to read)."""

    def read() -> str:
        response: Any = k8s.CoreV1Api(cluster.api).read_namespaced_pod_log(
            pod, cluster.namespace, previous=True, tail_lines=LOG_LINES, _preload_content=False
        )
        return bytes(response.read(MAX_BODY)).decode("utf-8", "replace").rstrip()

    try:
        return _ask(cluster, f"reading the logs of {pod}", read)
    except (LaunchFailed, EnvironmentProblem):  # no previous container (an image pull): no lines
        return ""


def _check(cluster: Cluster, rendered: Rendered) -> tuple[bool, str, list[tuple[str, bool, str]]]:
    """Whether ``rendered`` is ready, its URL, and (when not ready) what its pods are doing."""
    ready, url = _ready(cluster, rendered)
    return ready, url, [] if ready else pod_states(cluster, rendered.name)


def _ready(cluster: Cluster, rendered: Rendered) -> tuple[bool, str]:
    if rendered.target == "kserve":
        isvc = _get(cluster, "InferenceService", rendered.name) or {}
        status = isvc.get("status") or {}
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
        )
        url = (status.get("address") or {}).get("url") or status.get("url") or ""
        base = url.rstrip("/") + "/v1" if url else rendered.endpoint(cluster.namespace)
        return ready, base
    dep = _get(cluster, "Deployment", rendered.name) or {}
    want = (dep.get("spec") or {}).get("replicas", 1)
    status = dep.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("reason") == "ProgressDeadlineExceeded":
            raise LaunchFailed(f"{rendered.name}: rollout stuck: {condition.get('message') or 'no progress'}")
    ready = (
        bool(dep)
        and status.get("observedGeneration", 0) >= (dep.get("metadata") or {}).get("generation", 0)
        and status.get("updatedReplicas", 0) >= want
        and status.get("availableReplicas", 0) >= want
    )
    return ready, rendered.endpoint(cluster.namespace)


def _pods(cluster: Cluster, name: str) -> list[dict[str, Any]]:
    selected = ",".join(f"{k}={v}" for k, v in selector(name).items())
    response = k8s.CoreV1Api(cluster.api).list_namespaced_pod(
        cluster.namespace, label_selector=selected, _preload_content=False
    )
    items = _json(response).get("items") or []
    return [p for p in items if isinstance(p, dict)]


def pod_states(cluster: Cluster, name: str) -> list[tuple[str, bool, str]]:
    """(what each pod of ``name`` is doing, whether it cannot recover by waiting, its name)."""
    out: list[tuple[str, bool, str]] = []
    for pod in _pods(cluster, name):
        pod_name = pod["metadata"]["name"]
        status = pod.get("status") or {}
        waiting = next(
            (cs["state"]["waiting"] for cs in status.get("containerStatuses") or []
             if (cs.get("state") or {}).get("waiting", {}).get("reason")),
            None,
        )  # fmt: skip
        unscheduled = next(
            (c for c in status.get("conditions") or []
             if c.get("type") == "PodScheduled" and c.get("status") == "False"),
            None,
        )  # fmt: skip
        if waiting is not None:
            text = f"pod {pod_name}: {waiting['reason']}: {str(waiting.get('message', ''))[:200]}"
            out.append((text.rstrip(": "), waiting["reason"] in FATAL_WAITING, pod_name))
        elif unscheduled is not None:
            said = f"pod {pod_name}: not scheduled: {str(unscheduled.get('message', ''))[:200]}"
            out.append((said, False, pod_name))
        else:
            out.append((f"pod {pod_name}: {status.get('phase', 'Pending')}", False, pod_name))
    return out


def state(cluster: Cluster, objects: list[dict[str, str]]) -> str:
    """What the cluster says of a launched deployment now, for ``ps``."""
    main = objects[0] if objects else None
    if main is None:
        return "unknown"
    found = _ask(
        cluster, f"reading {main['kind']} {main['name']}", partial(_get, cluster, main["kind"], main["name"])
    )
    if found is None or found["metadata"].get("uid") != main.get("uid"):
        return "gone"
    status = found.get("status") or {}
    if main["kind"] == "InferenceService":
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
        )
        return "ready" if ready else "not ready"
    want = (found.get("spec") or {}).get("replicas", 1)
    return f"{status.get('availableReplicas', 0)}/{want} available"


def delete(cluster: Cluster, objects: list[dict[str, str]]) -> list[str]:
    """Delete exactly the recorded objects (uid precondition); returns those that existed."""
    deleted: list[str] = []
    for obj in objects:
        if _ask(cluster, f"deleting {obj['kind']} {obj['name']}", partial(_delete_one, cluster, obj)):
            deleted.append(f"{obj['kind']} {obj['name']}")
    return deleted


def _delete_one(cluster: Cluster, obj: dict[str, str]) -> bool:
    """Delete the recorded object (uid precondition); whether it was there to delete."""
    body = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid=obj["uid"]))
    try:
        if obj["kind"] == "Deployment":
            k8s.AppsV1Api(cluster.api).delete_namespaced_deployment(
                obj["name"], cluster.namespace, body=body, _preload_content=False
            )
        elif obj["kind"] == "Service":
            k8s.CoreV1Api(cluster.api).delete_namespaced_service(
                obj["name"], cluster.namespace, body=body, _preload_content=False
            )
        else:
            k8s.CustomObjectsApi(cluster.api).delete_namespaced_custom_object(
                KSERVE_GROUP,
                KSERVE_VERSION,
                cluster.namespace,
                KSERVE_PLURAL,
                obj["name"],
                body=body,
                _preload_content=False,
            )
    except ApiException as exc:
        if exc.status in (404, 409):  # already gone, or the name now belongs to another object
            return False
        raise
    return True


def stream_logs(cluster: Cluster, name: str, *, follow: bool, tail: int | None, write: Write) -> None:
    """The logs of the deployment's pods (the first pod only with --follow)."""
    core = k8s.CoreV1Api(cluster.api)
    found = _ask(cluster, f"listing the pods of {name}", partial(_pods, cluster, name))
    pods = [p["metadata"]["name"] for p in found]
    # The log itself is a stream (``--follow`` has no end): only each read is bounded.
    with _talking(cluster, f"reading the logs of {name}"):
        if not pods:
            raise LaunchFailed(f"{name} has no pods in namespace {cluster.namespace}")
        for pod in pods[:1] if follow else pods:
            if len(pods) > 1:
                write(f"==> pod {pod} <==\n")
            response: Any = core.read_namespaced_pod_log(
                pod, cluster.namespace, follow=follow, tail_lines=tail, _preload_content=False
            )
            for chunk in response.stream(4096):
                write(chunk.decode(errors="replace"))
