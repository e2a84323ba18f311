"""Fixtures of the PostgreSQL-or-SQLite tests: the named catalogs several modules here use.

Each is a recipe set (below) ingested by ``make_catalog`` (tests/conftest.py) into the
test's ``db_url`` (SQLite and PostgreSQL), plus, for some, benchmark results imported.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from support import bench_results as fx
from support.bench_results import BENCH_MODEL
from support.services import pg_admin_url, reset_pg

from aim_catalog import Catalog

FP4 = "org/fp4-model"
_BENCH = {"input_len": 1024, "output_len": 1024, "concurrency": 64}


API_RECIPES: dict[str, dict[str, Any]] = {  # two recipes of one model (4 GPU: vLLM and SGLang), and fp8
    "a-vllm": {
        "model": "org/m",
        "configs": {"vllm": {4: {"enabled": True, "benchmarks": [{**_BENCH, "output_throughput": 900.0}]}}},
    },
    "b-sglang": {
        "model": "org/m",
        "configs": {
            "sglang": {4: {"enabled": True, "benchmarks": [{**_BENCH, "output_throughput": 1200.0}]}}
        },
    },
    "c-fp8": {"model": "org/m", "precision": "fp8"},
}


BENCH_RECIPES: dict[str, dict[str, Any]] = {
    "bench-a": {
        "model": BENCH_MODEL,
        "configs": {"vllm": {4: {"enabled": True}}, "sglang": {4: {"enabled": True}}},
    },
    "bench-b": {"model": BENCH_MODEL, "configs": {"vllm": {4: {"enabled": True}, 8: {"enabled": True}}}},
}


FORMATS_RECIPES: dict[str, dict[str, Any]] = {
    "bench-a": {
        "model": BENCH_MODEL,
        "configs": {"vllm": {4: {"enabled": True}, 8: {"enabled": True}}, "sglang": {4: {"enabled": True}}},
    },
    "bench-b": {"model": BENCH_MODEL, "configs": {"vllm": {4: {"enabled": True}}}},
    "bench-fp4": {
        "model": FP4,
        "hardware": "MI355X",
        "precision": "fp4",  # the alias: stored as mxfp4
        "configs": {"sglang": {4: {"enabled": True}, 8: {"enabled": True}}},
    },
}


QWEN_RECIPES: dict[str, dict[str, Any]] = {
    "qwen": {"model": "Qwen/Qwen3-32B", "configs": {"vllm": {4: {"enabled": True}, 8: {"enabled": True}}}},
    "qwen-355": {
        "model": "Qwen/Qwen3-32B",
        "hardware": "MI355X",
        "configs": {"sglang": {8: {"enabled": True}}},
    },
}


EXPORT_RECIPES: dict[str, dict[str, Any]] = {
    "exp-a": {
        "model": BENCH_MODEL,
        "configs": {
            "vllm": {4: {"enabled": True, "benchmarks": [{"output_throughput": 10.0, "concurrency": 8}]}}
        },
    },
}


KUBE_RECIPES: dict[str, dict[str, Any]] = {
    "model-a-mi300x-bf16": {
        "configs": {
            "vllm": {1: {"enabled": True}, 2: {"enabled": True, "env": {"VLLM_ROCM_USE_AITER": "1"}}},
            "sglang": {2: {"enabled": True}},
        },
    },
}


SAFE_RECIPES: dict[str, dict[str, Any]] = {
    "safe-a": {"configs": {"vllm": {1: {"enabled": True}, 2: {"enabled": True}}}},  # two serve configs
}


@pytest.fixture
def api_catalog(make_catalog: Callable[..., Any], db_url: str) -> Catalog:
    """A catalog opened through the API on each dialect, holding API_RECIPES."""
    return make_catalog(API_RECIPES, into=db_url, via="api")


@pytest.fixture
def bench_catalog(make_catalog: Callable[..., Any], db_url: str) -> str:
    """Two recipes of MODEL: 'bench-a' (vLLM and SGLang, 4 GPUs) and 'bench-b' (vLLM 4 and 8 GPUs)."""
    return str(make_catalog(BENCH_RECIPES, into=db_url))


@pytest.fixture
def formats_catalog(make_catalog: Callable[..., Any], db_url: str) -> str:
    """'bench-a': vLLM and SGLang on 4 GPUs, vLLM on 8; 'bench-b': vLLM 4; 'bench-fp4': MI355X
    mxfp4 SGLang 4 and 8 (InferenceX's fp4 rows)."""
    return str(make_catalog(FORMATS_RECIPES, into=db_url))


@pytest.fixture
def qwen_catalog(make_catalog: Callable[..., Any], db_url: str) -> str:
    """Qwen/Qwen3-32B: 'qwen' (MI300X, vLLM on 4 and 8 GPUs) and 'qwen-355' (MI355X, SGLang on 8)."""
    return str(make_catalog(QWEN_RECIPES, into=db_url))


@pytest.fixture
def workloads(cli: Callable[..., Any], make_catalog: Callable[..., Any], db_url: str, tmp_path: Path) -> str:
    """org/w: 'w-a' vLLM on 4 and 8 GPUs, 'w-b' SGLang on 4. Rows at 1024/1024 for every
    config; the short-output 1024/128 rows (higher throughput) belong to another workload."""
    make_catalog(
        {
            "w-a": {"model": "org/w", "configs": {"vllm": {4: {"enabled": True}, 8: {"enabled": True}}}},
            "w-b": {"model": "org/w", "configs": {"sglang": {4: {"enabled": True}}}},
        },
        into=db_url,
    )
    n = 640
    runs = [
        ("w-a", "vllm", "4", 1024, 4000.0),
        ("w-a", "vllm", "4", 128, 9000.0),
        ("w-b", "sglang", "4", 1024, 5000.0),
        ("w-a", "vllm", "8", 1024, 8000.0),
        ("w-a", "vllm", "8", 128, 20000.0),
    ]
    for i, (recipe, backend, gpus, out_len, throughput) in enumerate(runs):
        doc = fx.vllm_bench_serve(
            model_id="org/w",
            tensor_parallel_size=gpus,
            total_output_tokens=n * out_len,
            output_throughput=throughput,
        )
        if backend == "sglang":
            doc["backend"] = doc["endpoint_type"] = "sglang"
        path = tmp_path / f"w{i}.json"
        path.write_text(json.dumps(doc))
        cli("bench", "import", str(path), "--recipe", recipe, "-b", backend, db_url=db_url)
    return db_url


@pytest.fixture
def export_catalog(make_catalog: Callable[..., Any], db_url: str) -> str:
    """'exp-a': MODEL on vLLM 4 GPUs with one published benchmark row."""
    return str(make_catalog(EXPORT_RECIPES, into=db_url))


@pytest.fixture
def kube_catalog(make_catalog: Callable[..., Any], db_url: str, cli: Callable[..., Any]) -> str:
    """A catalog holding one MI300X recipe: vLLM on 1 and 2 GPUs, SGLang on 2 (ingested with
    this module's ``cli``)."""
    return str(make_catalog(KUBE_RECIPES, into=db_url))


@pytest.fixture
def selection_catalog(make_catalog: Callable[..., Any], engine: Engine) -> Callable[..., Engine]:
    """Write recipes (id -> kwargs for recipe_yaml) and ingest them in process; return the engine."""
    return functools.partial(make_catalog, into=engine)


@pytest.fixture
def safe_catalog(make_catalog: Callable[..., Any], db_url: str) -> str:
    """A catalog with one recipe (two serve configs)."""
    return str(make_catalog(SAFE_RECIPES, into=db_url))


@pytest.fixture
def pg_catalog(make_catalog: Callable[..., Any]) -> str:
    """The catalog fixture's recipe, on PostgreSQL only (roles have no SQLite counterpart)."""
    url = pg_admin_url()
    reset_pg(url)
    return str(make_catalog(SAFE_RECIPES, into=url))
