"""`aim-catalog ps` with many deployments on one Docker engine: time and engine requests.

The engine is the one ``DOCKER_HOST`` names (default: the local socket); use a throw-away
one (e.g. ``DOCKER_HOST=unix:///run/aim-docker2.sock``): the script starts N containers
on it. Each deployment is made as ``aim-catalog launch`` makes one, with the project's own
functions: a config selected from the bundled recipes (Qwen/Qwen3-32B, vLLM and SGLang at
1, 2, 4 and 8 GPUs, in turn), its spec from ``runspec.build_spec`` (labels from
``labels.labels_for``, a launch id each, the name ``container_name`` gives, suffixed -2,
-3... as ``engine.unique_name`` does), the container from ``engine.create``, the row from
``deployments.record`` (then ``set_status`` running), in the default catalog of a private
``XDG_DATA_HOME``. What differs from a real launch: the image (``--image``) is a local one
built FROM scratch around a static busybox, whose ``vllm`` and ``python3`` only sleep; no
GPU device is mapped (this host has none; the GPUs named in the labels overlap, as 500
deployments on one 8-GPU host cannot have disjoint ones); no readiness wait; and the GPU
rival check (an inspect of every labelled container per launch) is skipped; each container
is moved off the default bridge (a /24 holds 253) to a bridge network of the bench's. Every
container is removed at the end, also on Ctrl-C, SIGTERM or an error (and any left over by
a run that was killed, found by its catalog label, at the start of the next).

Rows (each a cold process, spawn to exit, median and p99 (nearest rank) of the repeats
after one warm-up run; commands alternate run for run):

- ``aim-catalog ps``, ``ps --all`` and ``ps --json``; the table's and the JSON's rows are
  checked against the deployments made;
- floors: ``python -c "import typer"``, and a cold python doing the docker SDK's list of
  the same containers (``docker.from_env().api.containers(all=True, filters=...)``).

Requests: one more run of each command goes through a counting proxy (a unix socket in the
work dir, forwarding to the engine, recording each request's method and path), and the row
lists them. A ``ps`` must make exactly ONE container list request (``GET
/v*/containers/json``): the standalone script exits 1 otherwise.

Byte code: the children run with ``PYTHONPYCACHEPREFIX`` in the work dir (and without
``PYTHONDONTWRITEBYTECODE``), so that after the warm-up every module loads from byte code,
as from an installed package; a source tree without ``__pycache__`` would otherwise be
compiled on every run.

``measure(n, repeat, workdir)`` returns the rows as dicts for ``benchmarks/run.py``: key,
label, median_s, p99_s, cpu_s (the median of the child's user + system CPU time: what a
busy machine's waits leave out), n (the deployments), runs (timed runs), requests
(``METHOD /path`` in order; None: not counted) and note (a ps row's verdict: PASS or MISS).

Example: DOCKER_HOST=unix:///run/aim-docker2.sock python benchmarks/bench_ps.py --n 500 --repeat 10
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import docker
from benchutil import percentile
from docker import DockerClient
from docker.errors import DockerException, NotFound

from aim_catalog import Catalog
from aim_catalog.launch import deployments
from aim_catalog.launch.deployments import Status
from aim_catalog.launch.labels import CATALOG, MANAGED_FILTER
from aim_catalog.launch.runspec import RunSpec, build_spec, container_name
from aim_catalog.launch.targets.docker import engine
from aim_catalog.launch.targets.docker.records import TARGET
from aim_catalog.selection.options import SelectionOptions
from aim_catalog.selection.request import Candidate

PYTHON = sys.executable
CLI = str(Path(sys.executable).parent / "aim-catalog")
IMAGE = "aim-catalog-bench/idle:1"
MODEL = "Qwen/Qwen3-32B"  # a bundled recipe with vLLM and SGLang configs at 1-8 GPUs
CONFIGS = [(backend, gpus) for gpus in (1, 2, 4, 8) for backend in ("vllm", "sglang")]
HOST_GPUS = 8
NETWORK = "aim-catalog-bench-ps"  # a bridge network of its own, with room for every container
DATA = "ps-bench-data"  # the XDG_DATA_HOME under the work dir: its catalog labels our containers
FIRST_PORT = 21000
TARGET_S = 0.5
LIST_REQUEST = re.compile(r"GET (/v[0-9.]+)?/containers/json")

# The server programs of the image: they only sleep (a whole launch's argv is theirs).
IDLE_SCRIPT = "#!/bin/sh\nexec sleep 2147483647\n"
# A launch adds the groups video and render (by GID when the host has them, else by name).
GROUP_FILE = "root:x:0:\nvideo:x:44:\nrender:x:109:\n"
PASSWD_FILE = "root:x:0:0:root:/root:/bin/sh\n"
DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
COPY group /etc/group
COPY passwd /etc/passwd
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY idle /usr/local/bin/idle
RUN ["/bin/mkdir", "-p", "/usr/bin", "/tmp"]
RUN ["/bin/ln", "-s", "/usr/local/bin/idle", "/usr/local/bin/vllm"]
RUN ["/bin/ln", "-s", "/usr/local/bin/idle", "/usr/bin/python3"]
ENV PATH=/usr/local/bin:/usr/bin:/bin
"""

# The floor of the engine side: a cold python listing the same containers with the SDK.
DOCKER_LIST_CODE = f"""\
import docker
found = docker.from_env().api.containers(all=True, filters={{"label": "{MANAGED_FILTER}"}})
print(len(found))
"""

LABELS = {
    "ps": "aim-catalog ps [cold]",
    "ps_all": "aim-catalog ps --all [cold]",
    "ps_json": "aim-catalog ps --json [cold]",
    "typer_import": 'floor: python -c "import typer" [cold]',
    "docker_list": "floor: docker SDK list of the containers [cold]",
}
PS_KEYS = ("ps", "ps_all", "ps_json")


class BenchError(RuntimeError):
    """Something could not be set up or measured."""


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the engine


def engine_address(docker_host: str | None) -> str | tuple[str, int]:
    """Where the engine listens: a unix socket path, or (host, port) for tcp:// (no TLS)."""
    url = docker_host or "unix:///var/run/docker.sock"
    parsed = urlparse(url)
    if parsed.scheme in ("unix", "http+unix"):
        return parsed.path
    if parsed.scheme in ("tcp", "http") and parsed.hostname and parsed.port:
        return (parsed.hostname, parsed.port)
    raise BenchError(f"DOCKER_HOST={url}: only unix:// and plain tcp:// engines can be proxied")


def build_image(client: DockerClient, workdir: Path) -> None:
    busybox = shutil.which("busybox")
    if busybox is None:
        raise BenchError("no busybox on PATH (apt-get install busybox-static)")
    context = workdir / "image"
    context.mkdir(parents=True, exist_ok=True)
    shutil.copy(busybox, context / "busybox")
    (context / "idle").write_text(IDLE_SCRIPT)
    (context / "idle").chmod(0o755)
    (context / "group").write_text(GROUP_FILE)
    (context / "passwd").write_text(PASSWD_FILE)
    (context / "Dockerfile").write_text(DOCKERFILE)
    client.images.build(path=str(context), tag=IMAGE, rm=True)


def ours(client: DockerClient) -> list[dict[str, Any]]:
    """Labelled containers of any bench catalog (this run's or a killed run's)."""
    found = client.api.containers(all=True, filters={"label": MANAGED_FILTER})
    return [c for c in found if f"/{DATA}/" in (c.get("Labels") or {}).get(CATALOG, "")]


def remove_all(client: DockerClient, ids: list[str]) -> None:
    def remove(container_id: str) -> None:
        with contextlib.suppress(NotFound):
            client.api.remove_container(container_id, force=True)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(remove, ids))


def remove_network(client: DockerClient) -> None:
    for network in client.api.networks(names=[NETWORK]):
        if network.get("Name") == NETWORK:
            with contextlib.suppress(NotFound):
                client.api.remove_network(network["Id"])


# --------------------------------------------------------------------------- deployments


@contextlib.contextmanager
def environ(**values: str | None) -> Iterator[None]:
    """``os.environ`` with ``values`` set (None: unset) for the block."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def free_ports(count: int, first: int = FIRST_PORT) -> list[int]:
    """``count`` ports from ``first`` on that nothing listens on now."""
    ports: list[int] = []
    port = first
    while len(ports) < count:
        if port > 65535:
            raise BenchError(f"not {count} free ports from {first}")
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", port))
                ports.append(port)
            except OSError:
                pass
        port += 1
    return ports


@dataclass
class Fleet:
    """N deployments on the engine, made as a launch makes them; ``close`` removes them."""

    client: DockerClient
    workdir: Path
    data_home: Path
    names: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(cls, client: DockerClient, workdir: Path, n: int) -> Fleet:
        data_home = workdir / DATA
        fleet = cls(client, workdir, data_home)
        try:
            fleet._make(n)
        except BaseException:
            fleet.close()
            raise
        return fleet

    def _make(self, n: int) -> None:
        stale = [c["Id"] for c in ours(self.client)]
        if stale:
            log(f"removing {len(stale)} containers a killed run left")
            remove_all(self.client, stale)
        log(f"building {IMAGE}")
        build_image(self.client, self.workdir)
        remove_network(self.client)
        self.client.api.create_network(NETWORK, driver="bridge")
        shutil.rmtree(self.data_home, ignore_errors=True)
        with environ(XDG_DATA_HOME=str(self.data_home), AIM_CATALOG_DB_URL=None):
            catalog = Catalog.open()  # the default catalog: created and seeded, as on first use
        try:
            self._launch(catalog, n)
        finally:
            catalog.close()

    def _launch(self, catalog: Catalog, n: int) -> None:
        where = engine.identify(self.client)
        chosen = [
            catalog.select(SelectionOptions(model=MODEL, gpus=gpus, backend=backend, hardware="any"))
            for backend, gpus in CONFIGS
        ]
        ports = free_ports(n)
        existing = {str(c["Names"][0]).lstrip("/") for c in self.client.api.containers(all=True)}
        specs = [self._spec(catalog, chosen[i % len(chosen)], i, ports[i], existing) for i in range(n)]
        log(f"starting {n} containers on {engine.docker_host_label()} ({where.label})")
        started = time.monotonic()
        local = threading.local()

        def one(item: tuple[RunSpec, Candidate]) -> None:
            if not hasattr(local, "client"):
                local.client = docker.from_env(timeout=300)
            self._deploy(catalog, local.client, where, *item)

        with ThreadPoolExecutor(6) as pool:
            for done, _ in enumerate(
                pool.map(one, [(s, chosen[i % len(chosen)]) for i, s in enumerate(specs)])
            ):
                if (done + 1) % 100 == 0:
                    log(f"  {done + 1} running ({time.monotonic() - started:.0f} s)")

    def _spec(self, catalog: Catalog, candidate: Candidate, i: int, port: int, existing: set[str]) -> RunSpec:
        base = container_name(candidate)  # then -2, -3...: engine.unique_name's suffixes
        name, k = base, 2
        while name in existing:
            name, k = f"{base}-{k}", k + 1
        existing.add(name)
        first = (i * candidate.gpu_count) % HOST_GPUS
        gpus = [(first + g) % HOST_GPUS for g in range(candidate.gpu_count)]
        spec = build_spec(
            candidate,
            name=name,
            gpus=gpus,
            render_minors=None,  # no GPU device on this host
            port=port,
            image=IMAGE,
            hf_cache=self.workdir / "hf",
            catalog=catalog.display_url,
        )
        if spec.setup:
            raise BenchError(f"{candidate.recipe_id} has setup steps: the idle image cannot run them")
        return spec

    def _deploy(
        self, catalog: Catalog, client: DockerClient, where: engine.EngineId, spec: RunSpec, chosen: Candidate
    ) -> None:
        """What ``lifecycle.ContainerLaunch`` does, less the GPU rival check and the wait."""
        container = engine.create(client, spec)
        container_id = engine.id_of(container)
        # The default bridge of an engine may have too few addresses (a /24: 253 containers).
        client.api.disconnect_container_from_network(container_id, "bridge")
        client.api.connect_container_to_network(container_id, NETWORK)
        with self.lock:
            self.ids.append(container_id)
            self.names.append(spec.name)
            with catalog.write() as session:
                deployments.record(
                    session,
                    target=TARGET,
                    location=where.key,
                    name=spec.name,
                    container_id=container_id,
                    docker_host=where.key,
                    engine_name=where.name,
                    serve_config_id=chosen.serve_config_id,
                    recipe_id=chosen.recipe_id,
                    model=chosen.huggingface_id,
                    backend=chosen.backend,
                    gpus=spec.gpus,
                    image=spec.image,
                    port=spec.host_port,
                    spec=spec.as_dict(),
                )
        container.start()
        with self.lock, catalog.write() as session:
            deployments.set_status(session, container_id, Status.RUNNING)

    def check_running(self) -> None:
        found = self.client.api.containers(all=True, filters={"label": MANAGED_FILTER})
        mine = {c["Id"]: c.get("State") for c in found}
        not_running = [i for i in self.ids if mine.get(i) != "running"]
        if not_running:
            raise BenchError(f"{len(not_running)} of {len(self.ids)} containers are not running")

    def close(self) -> None:
        """Remove every container made (and any other of a bench catalog)."""
        ids = sorted(set(self.ids) | {c["Id"] for c in ours(self.client)})
        if ids:
            log(f"removing {len(ids)} containers")
            remove_all(self.client, ids)
        self.ids.clear()
        remove_network(self.client)


# --------------------------------------------------------------------------- counting


class CountingProxy:
    """A unix socket that forwards each connection to the engine, recording every request
    it carries as ``METHOD /path`` (the query left out). Request bodies are skipped by
    their Content-Length (the SDK sends no chunked body for what is counted here)."""

    def __init__(self, path: Path, upstream: str | tuple[str, int]) -> None:
        self.path = path
        self.upstream = upstream
        self.requests: list[str] = []
        self._lock = threading.Lock()
        path.unlink(missing_ok=True)
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(64)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    def take(self) -> list[str]:
        with self._lock:
            taken, self.requests = self.requests, []
        return taken

    def close(self) -> None:
        self._closed = True
        self._server.close()
        self.path.unlink(missing_ok=True)

    def _connect(self) -> socket.socket:
        if isinstance(self.upstream, str):
            up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            up.connect(self.upstream)
            return up
        return socket.create_connection(self.upstream)

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, self._connect() as up:
            back = threading.Thread(target=_pipe, args=(up, conn), daemon=True)
            back.start()
            self._forward(conn, up)
            back.join()

    def _forward(self, conn: socket.socket, up: socket.socket) -> None:
        pending = b""
        body_left = 0
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                data = b""
            if not data:
                with contextlib.suppress(OSError):
                    up.shutdown(socket.SHUT_WR)
                return
            up.sendall(data)
            pending += data
            while True:
                if body_left:
                    skipped = min(body_left, len(pending))
                    pending, body_left = pending[skipped:], body_left - skipped
                    if body_left:
                        break
                end = pending.find(b"\r\n\r\n")
                if end < 0:
                    break
                head, pending = pending[:end].decode("latin-1"), pending[end + 4 :]
                line, *headers = head.split("\r\n")
                method, target = line.split(" ")[:2]
                with self._lock:
                    self.requests.append(f"{method} {target.split('?')[0]}")
                for header in headers:
                    key, _, value = header.partition(":")
                    if key.strip().lower() == "content-length":
                        body_left = int(value.strip())


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    while True:
        try:
            data = source.recv(65536)
        except OSError:
            data = b""
        if not data:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            return
        try:
            sink.sendall(data)
        except OSError:
            return


# --------------------------------------------------------------------------- cold runs


def child_env(workdir: Path, docker_host: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AIM_CATALOG_DB_URL", None)  # ps reads the default catalog, of a private data dir
    env["XDG_DATA_HOME"] = str(workdir / DATA)  # never the user's
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte code, as an installed package has
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    if docker_host is None:
        env.pop("DOCKER_HOST", None)
    else:
        env["DOCKER_HOST"] = docker_host
    return env


@dataclass(frozen=True)
class Run:
    wall: float  # spawn to exit
    cpu: float  # the child's user + system CPU time
    out: str


def run_process(argv: list[str], env: dict[str, str]) -> Run:
    """One process, spawn to exit; it must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(argv[:6])} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(elapsed, cpu, proc.stdout)


def table_names(out: str) -> list[str]:
    """The name column of ps's table (one line a row when piped: rich sizes it to its content)."""
    return re.findall(r"^│ (\S+) +│", out, re.M)


@dataclass(frozen=True)
class Command:
    key: str
    argv: list[str]
    check: Callable[[str], None] | None = None


def commands(names: list[str]) -> list[Command]:
    expected = sorted(names)

    def rows_of_table(out: str) -> None:
        if sorted(table_names(out)) != expected:
            raise BenchError(f"ps printed {len(table_names(out))} rows, not the {len(expected)} deployments")

    def rows_of_json(out: str) -> None:
        found = sorted(row["name"] for row in json.loads(out))
        if found != expected:
            raise BenchError(f"ps --json listed {len(found)} rows, not the {len(expected)} deployments")

    def count(out: str) -> None:
        if int(out) < len(expected):
            raise BenchError(f"the SDK listed {out.strip()} containers, not {len(expected)}")

    return [
        Command("ps", [CLI, "ps"], rows_of_table),
        Command("ps_all", [CLI, "ps", "--all"], rows_of_table),
        Command("ps_json", [CLI, "ps", "--json"], rows_of_json),
        Command("typer_import", [PYTHON, "-c", "import typer"]),
        Command("docker_list", [PYTHON, "-c", DOCKER_LIST_CODE], count),
    ]


def time_commands(cmds: list[Command], env: dict[str, str], repeat: int) -> dict[str, list[Run]]:
    """One warm-up run each, then ``repeat`` rounds, the commands alternating."""
    for cmd in cmds:
        run = run_process(cmd.argv, env)
        if cmd.check is not None:
            cmd.check(run.out)
    samples: dict[str, list[Run]] = {cmd.key: [] for cmd in cmds}
    for round_ in range(repeat):
        for cmd in cmds:
            run = run_process(cmd.argv, env)
            if cmd.check is not None and round_ == 0:
                cmd.check(run.out)
            samples[cmd.key].append(run)
    return samples


def count_requests(cmds: list[Command], env: dict[str, str], proxy: CountingProxy) -> dict[str, list[str]]:
    counted: dict[str, list[str]] = {}
    for cmd in cmds:
        if cmd.key == "typer_import":
            continue
        proxy.take()
        run = run_process(cmd.argv, {**env, "DOCKER_HOST": proxy.docker_host})
        if cmd.check is not None:
            cmd.check(run.out)
        time.sleep(0.05)  # the proxy's threads record what the last bytes carried
        counted[cmd.key] = proxy.take()
    return counted


def note_of(key: str, median: float, requests: list[str] | None) -> str:
    if key not in PS_KEYS:
        return ""
    lists = sum(1 for r in requests or [] if LIST_REQUEST.fullmatch(r))
    verdict = "PASS" if lists == 1 and median <= TARGET_S else "MISS"
    return f"{verdict}: {lists} list request(s) (target 1), median {median:.3f} s (target <= {TARGET_S} s)"


# --------------------------------------------------------------------------- measure


def measure(n: int, repeat: int, workdir: Path) -> list[dict[str, Any]]:
    """Start ``n`` deployments on the engine of ``DOCKER_HOST``, time the cold commands,
    count their engine requests, remove the deployments; the rows as dicts."""
    workdir.mkdir(parents=True, exist_ok=True)
    docker_host = os.environ.get("DOCKER_HOST") or None
    upstream = engine_address(docker_host)
    client = docker.from_env(timeout=300)
    try:
        client.ping()
    except DockerException as exc:
        raise BenchError(f"no Docker engine at {docker_host or 'the local socket'}: {exc}") from exc
    fleet = Fleet.start(client, workdir, n)
    try:
        fleet.check_running()
        env = child_env(workdir, docker_host)
        cmds = commands(fleet.names)
        log(f"timing {', '.join(c.key for c in cmds)}: a warm-up run, then {repeat} rounds")
        samples = time_commands(cmds, env, repeat)
        proxy = CountingProxy(workdir / "counting.sock", upstream)
        try:
            counted = count_requests(cmds, env, proxy)
        finally:
            proxy.close()
    finally:
        fleet.close()
    rows = []
    for cmd in cmds:
        taken = [run.wall for run in samples[cmd.key]]
        median = statistics.median(taken)
        requests = counted.get(cmd.key)
        rows.append(
            {
                "key": cmd.key,
                "label": LABELS[cmd.key],
                "median_s": median,
                "p99_s": percentile(taken, 99),
                "cpu_s": statistics.median(run.cpu for run in samples[cmd.key]),
                "n": n,
                "runs": len(taken),
                "requests": requests,
                "note": note_of(cmd.key, median, requests),
            }
        )
    return rows


def profile(n: int, workdir: Path, out: Path) -> None:
    """Start ``n`` deployments, then write a cProfile and ``-X importtime`` of a cold ``ps``."""
    out.mkdir(parents=True, exist_ok=True)
    client = docker.from_env(timeout=300)
    fleet = Fleet.start(client, workdir, n)
    try:
        env = child_env(workdir, os.environ.get("DOCKER_HOST") or None)
        script = workdir / "ps_main.py"  # the console script's work, run by this interpreter
        script.write_text(
            "import sys\nfrom aim_catalog.cli import main\nsys.argv = ['aim-catalog', 'ps']\nmain()\n"
        )
        run_process([PYTHON, str(script)], env)  # byte code written
        stats = out / "ps.prof"
        run_process([PYTHON, "-m", "cProfile", "-o", str(stats), str(script)], env)
        proc = subprocess.run(
            [PYTHON, "-X", "importtime", str(script)], capture_output=True, text=True, env=env, check=False
        )
        (out / "ps.importtime.txt").write_text(proc.stderr)
        log(f"wrote {stats} and {out / 'ps.importtime.txt'}")
    finally:
        fleet.close()


def print_table(rows: list[dict[str, Any]]) -> None:
    width = max(len(r["label"]) for r in rows)
    print(f"{'':{width}}  {'median':>9}  {'p99':>9}  {'cpu':>9}  {'runs':>4}  requests / note")
    for r in rows:
        requests = r["requests"]
        said = "" if requests is None else f"{len(requests)}: {', '.join(requests)}"
        times = "  ".join(f"{r[key] * 1e3:7.1f}ms" for key in ("median_s", "p99_s", "cpu_s"))
        print(f"{r['label']:{width}}  {times}  {r['runs']:4}  {said}")
        if r["note"]:
            print(f"{'':{width}}  {r['note']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="deployments to start (default 500)")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per command after a warm-up")
    parser.add_argument("--workdir", type=Path, help="kept; default: a temp dir, removed")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    parser.add_argument("--profile", type=Path, help="instead: a cProfile and importtime of one cold ps")
    args = parser.parse_args()

    def terminated(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminated)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aim-bench-ps-"))
    try:
        if args.profile:
            profile(args.n, workdir, args.profile)
            return 0
        rows = measure(args.n, args.repeat, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"{args.n} deployments on {engine.docker_host_label()}")
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(r["note"].startswith("PASS") for r in rows if r["key"] in PS_KEYS) else 1


if __name__ == "__main__":
    sys.exit(main())
