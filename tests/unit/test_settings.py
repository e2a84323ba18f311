"""Every environment variable is read in settings.py; both lock timeouts share one parser."""

from __future__ import annotations

import pytest

from aim_catalog import settings
from aim_catalog.errors import UsageProblem


@pytest.mark.parametrize(
    ("read", "name", "default"),
    [
        (settings.lock_timeout, "AIM_CATALOG_LOCK_TIMEOUT", 300.0),
        (settings.launch_lock_timeout, "AIM_CATALOG_LAUNCH_LOCK_TIMEOUT", 120.0),
    ],
)
def test_both_lock_timeouts_are_parsed_alike(read: object, name: str, default: float) -> None:
    assert callable(read)
    assert read({}) == default
    assert read({name: " 2.5 "}) == 2.5
    for bad in ("abc", "-1", "nan", "inf", "86401"):
        with pytest.raises(UsageProblem) as refused:
            read({name: bad})
        assert str(refused.value) == f"{name} must be a number of seconds from 0 to 86400, got {bad!r}"


def test_the_hf_home_is_the_option_then_hf_home_then_the_user_cache(tmp_path: object) -> None:
    from pathlib import Path

    home = Path(str(tmp_path))
    assert settings.hf_home(home / "x", {"HF_HOME": "/elsewhere"}) == (home / "x").resolve()
    assert settings.hf_home(None, {"HF_HOME": str(home / "hf")}) == (home / "hf").resolve()
    assert settings.hf_home(None, {}) == Path.home() / ".cache" / "huggingface"


def test_no_module_but_settings_reads_the_environment() -> None:
    """os.environ / os.getenv appear in settings.py only (the source as installed)."""
    import re
    from pathlib import Path

    import aim_catalog

    package = Path(aim_catalog.__file__).parent
    readers = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "settings.py" and re.search(r"\bos\.(environ|getenv)\b", path.read_text())
    ]
    assert readers == []
