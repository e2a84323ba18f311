"""A fake Kubernetes API server: the few endpoints ``aim_catalog.launch.targets.kubernetes.apply``
calls, served over real HTTP to the real ``kubernetes`` client (no cluster is reachable from CI).

It mimics what kube-apiserver answers (Kubernetes API concepts, v1.35): server-side apply
is ``PATCH`` with ``Content-Type: application/apply-patch+yaml`` and ``fieldManager``;
bodies are checked like ``fieldValidation=Strict`` would (here with kubernetes-validate's
schemas for the core kinds); a delete with ``preconditions.uid`` that does not match is
``409 Conflict``; a missing object is a ``404`` ``Status``. Workloads "run" by scenario:
``ready`` (available after ``ready_after`` reads), ``crash`` (CrashLoopBackOff), ``pending``
(unschedulable: not enough amd.com/gpu).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import kubernetes_validate

PATHS = {
    "deployments": re.compile(r"/apis/apps/v1/namespaces/([^/]+)/deployments/([^/]+)"),
    "services": re.compile(r"/api/v1/namespaces/([^/]+)/services/([^/]+)"),
    "inferenceservices": re.compile(
        r"/apis/serving\.kserve\.io/v1beta1/namespaces/([^/]+)/inferenceservices/([^/]+)"
    ),
}
PODS = re.compile(r"/api/v1/namespaces/([^/]+)/pods")
POD_LOG = re.compile(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)/log")
VERSION = {  # what /version of a v1.35.0 kube-apiserver answers (k8s.io/apimachinery version.Info)
    "major": "1",
    "minor": "35",
    "gitVersion": "v1.35.0",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-12-17T00:00:00Z",
    "goVersion": "go1.25.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}
LOG_TEXT = "INFO:     Started server process [1]\nINFO:     Application startup complete.\n"


@dataclass
class FakeCluster:
    scenario: str = "ready"
    ready_after: int = 1
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    reads: int = 0
    # Seconds between header lines of every answer to a read of an existing object (0: none):
    # a server, or a proxy in front of it, that trickles (each line well within any per-read
    # timeout, the whole answer never).
    trickle: float = 0.0
    log_text: str = LOG_TEXT  # what every pod's log holds (its previous container's too)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def kubeconfig(self, path: Path, *, namespace: str = "llm") -> Path:
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
                    "users": [{"name": "fake", "user": {"token": "fake-bearer"}}],
                    "contexts": [
                        {
                            "name": "fake",
                            "context": {"cluster": "fake", "user": "fake", "namespace": namespace},
                        },
                        {"name": "other", "context": {"cluster": "fake", "user": "fake"}},
                    ],
                    "current-context": "fake",
                }
            )
        )
        return path

    # ----------------------------------------------------------------- behaviour

    def apply(
        self, plural: str, ns: str, name: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if query.get("fieldManager") != ["aim-catalog"]:
            return 422, status(422, "Invalid", "fieldManager is required for apply requests")
        if body.get("metadata", {}).get("name") != name or body.get("metadata", {}).get("namespace") != ns:
            return 400, status(400, "BadRequest", "the name/namespace of the object does not match the URL")
        if plural != "inferenceservices":
            try:
                kubernetes_validate.validate(body, "1.35", strict=True)
            except kubernetes_validate.ValidationError as exc:
                return 422, status(422, "Invalid", f"strict decoding error: {exc.message}")
        key = (plural, ns, name)
        old = self.objects.get(key)
        if old is not None and old["metadata"].get("labels", {}).get("aim-catalog.managed") != "true":
            # a real server would merge; the launcher must never get here
            return 500, status(500, "InternalError", "test: apply onto a foreign object")
        meta = dict(body["metadata"])
        meta["uid"] = old["metadata"]["uid"] if old else str(uuid.uuid4())
        meta["generation"] = (old["metadata"]["generation"] + 1) if old else 1
        obj = {**body, "metadata": meta, "status": {}}
        self.objects[key] = obj
        return (200 if old else 201), obj

    def read(self, plural: str, ns: str, name: str) -> tuple[int, Any]:
        obj = self.objects.get((plural, ns, name))
        if obj is None:
            return 404, status(404, "NotFound", f'{plural} "{name}" not found')
        self.reads += 1
        ready = self.scenario == "ready" and self.reads >= self.ready_after
        if plural == "deployments" and ready:
            replicas = obj["spec"].get("replicas", 1)
            obj["status"] = {
                "observedGeneration": obj["metadata"]["generation"],
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
            }
        if plural == "inferenceservices" and ready:
            obj["status"] = {
                "conditions": [{"type": "Ready", "status": "True"}],
                "address": {"url": f"http://{name}-predictor.{ns}.svc.cluster.local"},
            }
        return 200, obj

    def delete(self, plural: str, ns: str, name: str, body: Any) -> tuple[int, Any]:
        obj = self.objects.get((plural, ns, name))
        if obj is None:
            return 404, status(404, "NotFound", f'{plural} "{name}" not found')
        wanted = ((body or {}).get("preconditions") or {}).get("uid")
        if wanted is not None and wanted != obj["metadata"]["uid"]:
            return 409, status(409, "Conflict", f"Precondition failed: UID in precondition: {wanted}")
        del self.objects[(plural, ns, name)]
        return 200, status(200, "Success", "")

    def pods(self, ns: str, selector: str) -> dict[str, Any]:
        wanted = dict(part.split("=", 1) for part in selector.split(",") if part)
        items = []
        for (plural, obj_ns, name), obj in self.objects.items():
            if obj_ns != ns or plural == "services":
                continue
            if plural == "deployments":
                labels, replicas = (
                    obj["spec"]["template"]["metadata"]["labels"],
                    obj["spec"].get("replicas", 1),
                )
            else:
                predictor = obj["spec"]["predictor"]
                labels, replicas = predictor.get("labels", {}), predictor.get("minReplicas", 1)
            if not wanted.items() <= labels.items():
                continue
            for i in range(replicas):
                items.append(
                    {
                        "metadata": {"name": f"{name}-{i}", "labels": labels},
                        "status": pod_status(self.scenario),
                    }
                )
        return {"apiVersion": "v1", "kind": "PodList", "items": items}


def pod_status(scenario: str) -> dict[str, Any]:
    if scenario == "crash":
        waiting = {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}
        return {"phase": "Running", "containerStatuses": [{"name": "c", "state": {"waiting": waiting}}]}
    if scenario == "pending":
        message = "0/3 nodes are available: 3 Insufficient amd.com/gpu."
        condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
        return {"phase": "Pending", "conditions": [condition]}
    return {"phase": "Running", "containerStatuses": [{"name": "c", "state": {"running": {}}}]}


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "message": message,
        "code": code,
    }


def serve(cluster: FakeCluster) -> FakeCluster:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, code: int, payload: Any, content_type: str = "application/json") -> None:
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _trickle(self, payload: Any) -> None:
            try:
                self.send_response(200)
                for i in range(120):  # a minute at 0.5 s a line: far past any deadline of a test
                    if not cluster.trickle:  # the test is over
                        return
                    self.send_header(f"X-Slow-{i}", "x")
                    self.flush_headers()
                    time.sleep(cluster.trickle)
                self._send(200, payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up: what is being tested

        def _handle(self) -> None:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            body = json.loads(raw) if raw else None
            cluster.requests.append(
                {
                    "method": self.command,
                    "path": url.path,
                    "query": query,
                    "content_type": self.headers.get("Content-Type"),
                    "authorization": self.headers.get("Authorization"),
                    "body": raw,
                }
            )
            if url.path.rstrip("/") == "/version":
                return self._send(200, VERSION)
            if match := POD_LOG.fullmatch(url.path):
                return self._send(200, cluster.log_text, "text/plain")
            if (match := PODS.fullmatch(url.path)) and self.command == "GET":
                return self._send(200, cluster.pods(match.group(1), query.get("labelSelector", [""])[0]))
            for plural, pattern in PATHS.items():
                if match := pattern.fullmatch(url.path):
                    ns, name = match.groups()
                    if self.command == "PATCH":
                        if self.headers.get("Content-Type") != "application/apply-patch+yaml":
                            return self._send(415, status(415, "UnsupportedMediaType", "not an apply patch"))
                        return self._send(*cluster.apply(plural, ns, name, query, body))
                    if self.command == "GET":
                        code, found = cluster.read(plural, ns, name)
                        if code == 200 and cluster.trickle:
                            return self._trickle(found)
                        return self._send(code, found)
                    if self.command == "DELETE":
                        return self._send(*cluster.delete(plural, ns, name, body))
            return self._send(404, status(404, "NotFound", f"the server could not find {url.path}"))

        do_GET = do_PATCH = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    cluster.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return cluster
