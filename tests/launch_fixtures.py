"""The launch tests' fixtures (a Docker engine, the fake server image, a fake GPU host),
made available to every test module as a pytest plugin (see conftest.py)."""

from __future__ import annotations

from test_launch import docker_client, docker_env, fake_image, host

__all__ = ["docker_client", "docker_env", "fake_image", "host"]
