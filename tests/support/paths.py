"""Where things are, computed once: the tests sit at different depths under tests/."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]  # tests/
REPO = TESTS.parent  # the checkout: README.md, scripts/, alembic.ini, pyproject.toml
SHARED = REPO.parent / "shared"  # ../shared beside the checkout (also in CI)
REFERENCE_RECIPES = SHARED / "reference" / "aim-engine-recipes"
REFERENCE_INFERENCEX = SHARED / "reference" / "inferencex"  # not laid out as a checkout: support.inferencex
FAKE_SERVER = TESTS / "fake_server"  # the Docker test image's build context
