"""`aim-catalog test URL` without a deployment: it works, and it fails cleanly."""

from __future__ import annotations

import socket
from pathlib import Path

from support.launch import cli


def test_a_url_works_without_a_deployment_and_fails_cleanly(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = cli("test", f"http://127.0.0.1:{port}/v1", code=1)
    assert result.stderr.strip() == (
        f"error: cannot reach the server at http://127.0.0.1:{port}/v1/models: "
        "[Errno 111] Connection refused (is it running? `aim-catalog ps`)"
    )
    assert "Traceback" not in result.stderr
    assert (
        "--save needs a deployment name" in cli("test", f"http://127.0.0.1:{port}", "--save", code=2).stderr
    )
