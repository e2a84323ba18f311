"""``redact`` hides passwords wherever they sit."""

from __future__ import annotations

import pytest

from aim_catalog.errors import redact


@pytest.mark.parametrize(
    ("text_", "secret"),
    [
        ("postgresql://admin:s3cr3t@db/catalog", "s3cr3t"),
        ("postgresql://admin:p@ss@127.0.0.1:1/c: could not connect", "p@ss"),
        ("postgresql://admin:a/b@db/catalog", "a/b"),
        ("postgresql+psycopg://admin@db/catalog?sslmode=require&password=s3cr3t", "s3cr3t"),
        ("two: postgresql://a:one@h/d and postgresql://b:two2@h/d", "two2"),
    ],
)
def test_redact_hides_passwords_wherever_they_sit(text_: str, secret: str) -> None:
    hidden = redact(text_)
    assert secret not in hidden and "***" in hidden
