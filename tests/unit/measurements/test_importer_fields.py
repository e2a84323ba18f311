"""``importers.common.Numbers`` (a reader's table of keys, read at once) against
``Fields.numbers`` it stands for: the same figures, origins and problems, whatever a file holds."""

from __future__ import annotations

import itertools
import math
from typing import Any

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
