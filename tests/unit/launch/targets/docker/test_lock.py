"""The launch lock's directory must be the user's own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aim_catalog.launch.targets.docker import lock as launch_lock


def test_a_lock_directory_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to create a directory owned by another user")
    runtime = tmp_path / "run"
    (runtime / "aim-catalog").mkdir(parents=True)
    os.chown(runtime / "aim-catalog", 65534, 65534)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    from aim_catalog.errors import EnvironmentProblem

    with pytest.raises(EnvironmentProblem, match="is not a directory of yours"):
        launch_lock.lock_dir()
