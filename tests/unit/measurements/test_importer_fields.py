"""The quick reads of the result readers against the checked ones they stand for: the same
figures, origins and problems, whatever a file holds. ``importers.common.Numbers`` (a reader's
table of keys, read at once) against ``Fields.numbers``; InferenceX's ``_usual`` row against
``_checked``."""

from __future__ import annotations

import itertools
import math
from typing import Any

from support import bench_results as fx

from aim_catalog.measurements.importers import _engine, inferencex
from aim_catalog.measurements.importers.common import Fields, Numbers

_ABSENT = object()
VALUES: list[Any] = [_ABSENT, None, 0.0, -0.0, 2.5, 1e308, math.inf, math.nan, -1.0, 3, True, "4", 10**400]
PAIRS = (("a", "a"), ("b_s", "b_ms"), ("c", "c"))


def _read(values: tuple[Any, ...], how: Any) -> tuple[Any, ...]:
    obj = {key: value for (key, _), value in zip(PAIRS, values, strict=True) if value is not _ABSENT}
    f = Fields(obj, "p.json", 3)
    found = how(f)
    return repr(list(found.items())), list(f.origins.items()), f.problems


def test_numbers_reads_as_fields_numbers() -> None:
    table = Numbers(PAIRS, 1000.0, " (s) x 1000")
    for values in itertools.product(VALUES, repeat=len(PAIRS)):
        quick = _read(values, table)
        checked = _read(values, lambda f: f.numbers(PAIRS, 1000.0, " (s) x 1000"))
        assert quick == checked, values


def test_one_key_and_no_key() -> None:
    assert _read((2.0, _ABSENT, _ABSENT), Numbers(PAIRS[:1]))[0] == "[('a', 2.0)]"
    assert _read((_ABSENT, _ABSENT, _ABSENT), Numbers(PAIRS)) == ("[]", [], [])


# Values a row's keys get in ``test_the_usual_reading_is_the_checked_one``: every kind a
# JSON file can hold, at and beside each check's limits.
ODD: list[Any] = [None, 0, 1, -1, 8, 1024, 1025, 2**31 - 1, 2**31, True, False, 0.0, -0.0, 2.5, 8.0]
ODD += [1e308, math.inf, -math.inf, math.nan, "", " ", "8", "none", " NONE ", "mtp", "fixed-seq-len"]
ODD += ["agentic-coding", "mi355x", "MI300X_x", "h100", "sglang", "SGLang", "trt", "fp8", "FP4", "é", "\x01"]
ODD += ["x" * 17, "x" * 33, "x" * 65, "x" * 301, [], {}, [1], {"a": 1}]
EXTRA = ["scenario_type", "is_multinode", "disagg", "prefill_tp", "pp", "pcp_size", "power_valid"]
EXTRA += ["avg_power_w", "p99.9_ttft", "mean_intvty", "p90_tpot", "median_intvty", "image", "spec_decoding"]


def _compare(obj: dict[str, Any]) -> bool:
    """Whether ``_usual`` read ``obj``; if so, its run is ``_checked``'s, field for field."""
    usual = inferencex._usual(obj, "p.json", 3, _engine)
    if usual is None:
        return False
    run, fields = usual
    checked, checked_fields = inferencex._checked(obj, "p.json", 3, _engine)
    assert checked is not None and not checked_fields.problems and not fields.problems, obj
    assert run == checked and list(run.row.items()) == list(checked.row.items()), obj
    assert list(fields.origins.items()) == list(checked_fields.origins.items()), obj
    return True


def test_the_usual_reading_is_the_checked_one() -> None:
    """``inferencex._usual`` reads a run only as ``_checked`` reads it: each key of a real
    row's shape (and of the minimal one), and keys it may have, given every odd value."""
    full = fx.inferencex_agg()
    minimal = {k: full[k] for k in ("hw", "conc", "model", "framework", "precision", "isl", "osl", "tp")}
    api_shaped = {**minimal, "tput_per_gpu": 1000.0, "image": None, "spec_decoding": "mtp"}
    for row in (full, {**minimal, "tput_per_gpu": 1000.0}, api_shaped):
        assert _compare(row)  # a row as written is read the quick way...
        for key in [*row, *EXTRA]:
            for value in ODD:
                _compare({**row, key: value})  # ...and whatever it holds, only as _checked reads it
            _compare({k: v for k, v in row.items() if k != key})
