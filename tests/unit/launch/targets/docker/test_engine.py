"""The Docker target's readiness wait against a real server that trickles its answer."""

from __future__ import annotations

import socket
import threading
from typing import ClassVar

import pytest
from support.hostile import HostileServer, Request, trickle

from aim_catalog.errors import LaunchFailed
from aim_catalog.launch.targets.docker import engine


class RunningContainer:
    """What ``wait_ready`` reads of a container that keeps running (the server is the test)."""

    status = "running"
    attrs: ClassVar[dict[str, object]] = {}

    def reload(self) -> None:
        pass


def test_a_server_trickling_its_headers_cannot_hold_a_launch_past_its_timeout() -> None:
    """One header line every 0.3 s never lets a read time out. The launch still gives up at
    --timeout. (The server answers 200 after ~15 s, so a probe without a deadline of its own
    makes the wait succeed and this test fail, rather than hang.)"""
    stop = threading.Event()

    def slow(request: Request, conn: socket.socket) -> None:
        lines = [b"HTTP/1.1 200 OK\r\n"] + [f"X-Pad-{i}: {i}\r\n".encode() for i in range(50)]
        trickle(conn, lines, 0.3, stop)
        conn.sendall(b"Content-Length: 2\r\nConnection: close\r\n\r\nok")

    with HostileServer(slow) as server:
        try:
            with pytest.raises(LaunchFailed) as failed:
                engine.wait_ready(
                    RunningContainer(),  # type: ignore[arg-type]
                    server.url,
                    timeout=2,
                    poll=0.1,
                    paths=("/health",),
                )
        finally:
            stop.set()
    assert str(failed.value) == "not ready after 2s (/health never answered)"
    assert server.requests and server.requests[0].path == "/health"
