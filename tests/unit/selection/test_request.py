"""Bad requests are usage errors: the CLI's rules, for Python callers too (issue 18, point 10)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest

from aim_catalog.errors import CatalogError, InvalidArgument, UsageProblem, WrongArgumentType
from aim_catalog.selection.options import SelectionOptions
from aim_catalog.selection.request import Request

M = "org/model-a"
VALUE, TYPE = InvalidArgument, WrongArgumentType  # the two errors a bad field raises


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"backend": "tgi"}, "unknown backend 'tgi'"),
        ({"metric": "ttft"}, "unknown metric 'ttft'"),
        ({"gpus": 0}, "gpus must be from 1 to 2147483647, got 0"),
    ],
)
def test_bad_requests_are_usage_errors(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageProblem, match=message):
        Request(model=M, **kw)


@pytest.mark.parametrize("cls", [Request, SelectionOptions])
@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        # Before: OverflowError from SQLite, a TypeError comparing str with int, "no suitable
        # recipe", a request for 1 GPU, and AttributeError ('NoneType' has no 'strip').
        ({"gpus": 10**30}, VALUE, "gpus must be from 1 to 2147483647, got 1000000000000000000000000000000"),
        ({"gpus": "4"}, TYPE, "gpus must be an integer, got '4' (str)"),
        ({"gpus": 4.5}, TYPE, "gpus must be an integer, got 4.5 (float)"),
        ({"gpus": True}, TYPE, "gpus must be an integer, got True (bool)"),
        ({"precision": None}, TYPE, "precision must be a string, got None (NoneType)"),
        ({"model": ""}, VALUE, "model must not be empty"),
        ({"input_len": -1}, VALUE, "input_len must be from 1 to 2147483647, got -1"),
        ({"concurrency": 2**31}, VALUE, "concurrency must be from 1 to 2147483647, got 2147483648"),
        ({"max_ttft_ms": math.nan}, VALUE, "max_ttft_ms must be a finite number at least 0, got nan"),
        ({"max_tpot_ms": -1}, VALUE, "max_tpot_ms must be a finite number at least 0, got -1.0"),
        ({"max_e2el_ms": "5"}, TYPE, "max_e2el_ms must be a number, got '5' (str)"),
        ({"request_rate": math.inf}, VALUE, "request_rate must be a finite number above 0, got inf"),
        ({"host_gpus": 4096}, VALUE, "host_gpus must be from 1 to 1024, got 4096"),
        ({"hardware": 300}, TYPE, "hardware must be a string, got 300 (int)"),
        ({"recipe": ["a"]}, TYPE, "recipe must be a string, got ['a'] (list)"),
    ],
)
def test_every_field_is_checked_with_the_clis_rules(
    cls: type[Any], kw: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        cls(**{"model": M, **kw})
    assert str(caught.value) == message
    # Documented: a ValueError or TypeError that is also the package's usage error (exit 2).
    assert isinstance(caught.value, UsageProblem) and isinstance(caught.value, CatalogError)
    assert isinstance(caught.value, ValueError if error is InvalidArgument else TypeError)


def test_numbers_of_other_integer_and_real_types_become_plain_ones() -> None:
    """A count read from a data frame (numpy.int64; numpy comes with the plot extra)."""
    import numpy

    request = Request(M, gpus=numpy.int64(4), max_ttft_ms=Fraction(1, 2), request_rate=2)
    assert (request.gpus, type(request.gpus)) == (4, int)
    assert (request.max_ttft_ms, request.request_rate) == (0.5, 2.0)
    assert type(request.request_rate) is float
    # What the CLI leaves unset stays unset; SelectionOptions' backend None means the default.
    assert SelectionOptions(M).backend is None and Request(M).gpus is None
