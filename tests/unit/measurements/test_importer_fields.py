"""The quick reads of the result readers against the checked ones they stand for: the same
figures, origins and problems, whatever a file holds. ``importers.common.Numbers`` (a reader's
table of keys, read at once) against ``Fields.numbers``; InferenceX's ``_usual`` row against
``_checked``; ``read_many`` (a file's rows, column by column) against ``_one`` of each row, and
msgspec's reading of an array file against ``_array``'s, on real InferenceX files."""

from __future__ import annotations

import itertools
import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
from support import bench_results as fx
from support.paths import SHARED

from aim_catalog.measurements import importers
from aim_catalog.measurements.importers import Parsed, _engine, _one, common, inferencex, parse_results
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
ODD: list[Any] = [None, 0, 1, -1, 8, 1024, 1025, 2**31 - 1, 2**31, True, False, 0.0, -0.0, -1.0, 2.5, 8.0]
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


# --------------------------------------------------------------------------- many rows at once


def _one_by_one(objects: list[Any]) -> list[Parsed]:
    """What ``importers._one`` makes of each object (through ``_usual`` or ``_checked``)."""
    out = []
    for line, obj, element in objects:
        into = Parsed()
        if isinstance(obj, dict):
            _one(obj, "p.json", line, {"inferencex": SOURCE}, element, into)
        out.append(into)
    return out


def _compare_many(rows: list[Any]) -> set[int]:
    """Which of ``rows`` (one array file's elements) ``read_many`` read; each as ``_one``
    reads it alone: the same run, field for field, row and origins in the same order."""
    objects = [(10 + 5 * i, row, i) for i, row in enumerate(rows)]
    batches = inferencex.read_many(objects, "p.json", _engine, SOURCE)
    many = {index: batch.run(i) for batch in batches for i, index in enumerate(batch.indexes)}
    assert sum(map(len, batches)) == len(many)  # no row read twice
    for batch in batches:  # each row's import key, made from the columns, is its run's
        assert batch.keys() == [batch.run(i).key for i in range(len(batch))]
    alone = _one_by_one(objects)
    for index, run in many.items():
        single = alone[index]
        assert single.problems == [] and single.skipped == [] and len(single.runs) == 1, rows[index]
        (expected,) = single.runs
        assert run == expected and list(run.row.items()) == list(expected.row.items()), rows[index]
        assert list(run.origins.items()) == list(expected.origins.items()), rows[index]
    return set(many)


SOURCE = "InferenceX: p.json"


def test_many_rows_are_read_at_once_as_one_by_one() -> None:
    """``inferencex.read_many`` (column by column) reads a run only as ``_usual``/``_checked``
    read it alone: rows as written, and the same rows with each key given every odd value,
    in every row of the group or in one of three."""
    full = fx.inferencex_agg()
    minimal = {k: full[k] for k in ("hw", "conc", "model", "framework", "precision", "isl", "osl", "tp")}
    api_shaped = {**minimal, "tput_per_gpu": 1000.0, "image": None, "spec_decoding": "mtp"}
    # InferenceX 7a8a5ab13 (2026-05) on: power and energy, unless power_valid is 0
    powered = {**full, "power_valid": 1, "avg_power_w": 900.0, "joules_per_output_token": 0.5}
    taken = 0
    for row in (full, {**minimal, "tput_per_gpu": 1000.0}, api_shaped, powered):
        other = {**row, "conc": 2 * row["conc"]}
        assert _compare_many([row, other]) == ({0, 1} if row is not api_shaped else set())
        for key in [*row, *EXTRA]:
            for value in ODD:
                odd = {**row, key: value}
                taken += len(_compare_many([odd, {**odd}, {**odd, "conc": 3}]))
                _compare_many([odd, row, other])
            _compare_many([{k: v for k, v in row.items() if k != key}] * 2)
    assert taken > 1000  # many odd rows are still as _usual takes them: read at once too


def test_a_group_of_several_gpu_counts_is_bounded_per_row() -> None:
    """Throughputs are bounded per GPU (recipes.bounds): a group of 1- and 8-GPU rows whose
    8-GPU total is beyond one GPU's bound is read at once; one beyond its own is not."""
    one = fx.inferencex_agg(tp=1)
    eight = {**fx.inferencex_agg(tp=8), "tput_per_gpu": 300_000.0}  # 2.4M tokens/s on 8 GPUs
    assert list(one) == list(eight)
    assert _compare_many([one, eight]) == {0, 1}
    assert _compare_many([one, {**eight, "tput_per_gpu": 1.5e6}]) == set()  # 12M on 8: _one refuses
    assert _compare_many([{**one, "tput_per_gpu": 2e6}, eight]) == set()


def _without_fast_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importers, "flat_array", lambda *_args: None)
    monkeypatch.setattr(inferencex, "read_many", lambda *_args: [])
    monkeypatch.setattr(common, "_flat_array", lambda _text: None)


REAL = sorted((SHARED / "reference" / "inferencex-results").glob("*/*.json"))


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_real_files_read_as_one_by_one(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every real InferenceX file (agg_bmk.json artifacts, API rows) gives the same runs,
    problems and skips with the quick readings (msgspec's array, ``read_many``) as without."""
    _read_as_one_by_one(path.read_bytes(), str(path), monkeypatch)
    _read_as_one_by_one("\ufeff".encode() + path.read_bytes(), str(path), monkeypatch)  # a byte order mark


def _read_as_one_by_one(data: bytes, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``parse_results`` of ``data`` gives what it gives without its quick readings
    (``flat_array``, msgspec's array, ``read_many``): runs (rows and origins in order),
    problems, skips."""
    quick = parse_results(data, path)
    with monkeypatch.context() as patched:
        _without_fast_paths(patched)
        slow = parse_results(data, path)
    assert quick == slow
    assert [list(run.row.items()) for run in quick.runs] == [list(run.row.items()) for run in slow.runs]
    assert [list(run.origins.items()) for run in quick.runs] == [
        list(run.origins.items()) for run in slow.runs
    ]


def test_the_quick_readings_are_taken_on_a_file_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real agg_bmk.json (AMD rows among NVIDIA ones) is read by msgspec and ``read_many``:
    every AMD run it holds comes from there, none from ``_usual``."""
    path = SHARED / "reference" / "inferencex-results" / "agg" / "run_20609406656.agg_bmk.json"
    text = path.read_text()
    assert common._flat_array(text) == common._array(text, str(path))[0]
    monkeypatch.setattr(inferencex, "_usual", lambda *_args: pytest.fail("a row read one by one"))
    parsed = parse_results(text.encode(), str(path))
    assert parsed.problems == [] and len(parsed.runs) > 10


HOSTILE_ARRAYS = [
    '[{"a": 1, "a": 2}]',  # a duplicate key...
    '[{"a" : 1, "a" : 2}]',  # ...spelled with blanks before its colon
    '[{"a":1,"b":":x","a":2}]',  # a string opening with a colon: one '":' more
    '[{"a":"{","a":2}]',  # a brace in a string
    '[{"a":{"b":1,"b":2}}]',  # a nested object
    '[{"a":"\\u0041","a":1}]',  # an escape
    '[{"a":"\\ud800"}]',  # a lone surrogate: json reads it, msgspec does not
    '[{"a":NaN}]',
    '[{"a":1e400}]',
    '[{"a":' + "9" * 4301 + "}]",
    "[1, 2]",
    '[[{"a":1,"a":2}, 7]]',  # an array in the array: its length is not its object's keys
    "[]",
    '[{"a":1},]',
    '[{"a":1}] x',
    "[" * 100_000 + "]" * 100_000,
]
FLAT_ARRAYS = [
    '[{"a":1},{"a":2}]',
    '[\r\n {"a": 1, "b": "x:y"} ,\r\n\r\n {"b": null, "c": true}\r\n]',
    '\n  [ {"hw":"mi355x"} ,\n\n {"hw":"b200","tp":8} ]',
    '[{"a":"say \\"hi\\"","b":"\\ud83d\\ude00 \\u007b"}]',  # escapes: quotes, a pair, a brace
    '[{},{"a" : 1}, {}]',  # empty objects: no comma within; a blank before a colon
]
# Well formed, but with a comma the pairs do not account for (a duplicate key would look
# alike): left to _array, which reads them.
LEFT_TO_ARRAY = [
    '[{"a": [1, 2.5e-7]}]',  # a nested array
    '[{"b": "x:y, z"}]',  # a comma in a string
    '[{"a,": 1}]',  # ... in a key
]


def test_the_flat_array_reading_is_the_element_by_element_one() -> None:
    """``common._flat_array`` reads an array only as ``_array`` does (the same objects on the
    same lines), and leaves every file with a duplicate key (or anything it cannot be sure
    of) to it: hand-made hostile files, then 3000 random ones (keys given twice, strings
    holding quotes, colons, braces and escapes, blanks anywhere)."""
    for text in HOSTILE_ARRAYS:
        assert common._flat_array(text) is None, text[:40]
    for text in FLAT_ARRAYS:
        assert common._flat_array(text) == common._array(text, "p.json")[0] != []
    for text in LEFT_TO_ARRAY:
        assert common._flat_array(text) is None and common._array(text, "p.json")[1] == [], text
    rng = random.Random(18)
    pieces = ["x", ":", "{", "}", ",", '"', "\\", " ", "é", ":x", "x,", "\\u0022"]
    taken = refused = 0
    for _ in range(3000):
        elements = []
        for _element in range(rng.randint(1, 4)):
            pairs = []
            for _pair in range(rng.randint(0, 4)):
                key = rng.choice(["a", "b", "c", "a:", "{"])
                nested = ['{"a": 1, "a": 2}', '{"b": [1]}']
                scalars = ["1", "-0.0", "2.5e-7", "true", "null", "[1, {}]", "[]"]
                pairs.append(_random_pair(rng, key, pieces, (0.4, 0.5), nested, scalars))
            elements.append("{" + ",".join(pairs) + "}")
        text = "[" + rng.choice(["", "\n  "]) + ",\n  ".join(elements) + "\n]"
        fast = common._flat_array(text)
        objects, problems = common._array(text, "p.json")
        if fast is None:
            refused += 1
            continue
        taken += 1
        assert problems == [] and fast == objects, text
    assert taken > 200 and refused > 200


def _random_pair(
    rng: random.Random,
    key: str,
    pieces: list[str],
    shares: tuple[float, float],
    nested: list[str],
    scalars: list[str],
) -> str:
    """A key and a random value, blanks around them: text made of ``pieces`` (up to
    ``shares[0]``), a nested value (up to ``shares[1]``) or one of ``scalars``."""
    kind = rng.random()
    if kind < shares[0]:
        value = json.dumps("".join(rng.choices(pieces, k=rng.randint(0, 3))), ensure_ascii=False)
    else:
        value = rng.choice(nested if kind < shares[1] else scalars)
    blank = rng.choice(["", " ", "\n", "\r\n\t"])
    return f"{blank}{json.dumps(key)}{rng.choice(['', ' '])}:{blank}{value}"


def _flat(text: str) -> common.FlatArray | None:
    return common.flat_array(text.encode(), inferencex.typed)


def test_an_array_of_one_shape_is_read_into_columns_as_element_by_element() -> None:
    """``common.flat_array`` (rows of one shape into msgspec structs) gives what ``_array``
    gives, element by element (line, object, index), and leaves every file with a key given
    twice, a row of another shape, or anything it cannot be sure of to it: the hand-made
    files, then 3000 random arrays whose elements mostly share their keys."""
    for text in HOSTILE_ARRAYS + LEFT_TO_ARRAY:
        assert _flat(text) is None, text[:40]
    assert list(_flat('[{"a":1},{"a":2}]') or []) == common._array('[{"a":1},{"a":2}]', "p.json")[0]
    for text in ('[{"a":1},{"b":2}]', '[{"a":1},{"a":1,"b":2}]', '[{"a":1,"b":2},{"b":2,"a":1,"a":3}]'):
        assert _flat(text) is None, text  # another key, one more, one given twice
    rng = random.Random(18)
    pieces = ["x", ":", "{", "}", '"', "\\", " ", "é", ":x", "\\u0022", "]", "["]
    taken = refused = 0
    for _ in range(3000):
        keys = rng.sample(["a", "b", "c", "tp", "conc", "tput_per_gpu", "a:", "}"], rng.randint(1, 4))
        elements = []
        for _element in range(rng.randint(2, 4)):
            pairs = []
            for key in rng.sample(keys, len(keys)) if rng.random() < 0.9 else [*keys, rng.choice(keys)]:
                scalars = ["1", "8", "-0.0", "2.5e-7", "1e308", "true", "null", "[]", "7.0"]
                pairs.append(_random_pair(rng, key, pieces, (0.3, 0.35), ['{"a": 1}', "[1, 2]"], scalars))
            elements.append("{" + ",".join(pairs) + "}")
        text = "[" + rng.choice(["", "\n  "]) + ",\n  ".join(elements) + "\n]"
        flat = _flat(text)
        objects, problems = common._array(text, "p.json")
        if flat is None:
            refused += 1
            continue
        taken += 1
        assert problems == [] and list(flat) == objects, text
        for key in flat.keys:  # each column holds what _array reads (a whole number as a float where
            column = list(flat.columns([key])[key])  # a float is named), a typed one of that type
            assert column == [obj[key] for _line, obj, _element in objects], text
            assert key not in flat.typed or len(set(map(type, column))) == 1, text
    assert taken > 300 and refused > 300


def _compare_flat(rows: list[Any], monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether an array file of ``rows`` is read into columns (``common.flat_array``); it is
    read as without that reading and ``read_many``: the same runs, problems and skips."""
    data = json.dumps(rows, indent=1).encode()
    _read_as_one_by_one(data, "p.json", monkeypatch)
    return common.flat_array(data, inferencex.typed) is not None


def test_rows_of_one_shape_read_into_columns_are_read_as_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """An agg_bmk.json whose rows share their keys is read into columns by msgspec (types
    checked as they are read) and then as ``read_many`` reads columns: the same runs,
    problems and skips as read one by one, each key of a row as written given each odd value,
    in one row of three (the first's type is the one checked) or in all of them."""
    full = fx.inferencex_agg()
    powered = {**full, "power_valid": 1, "avg_power_w": 900.0, "joules_per_output_token": 0.5}
    taken = 0
    for row in (full, powered):
        other = {**row, "conc": 2 * row["conc"]}
        assert _compare_flat([row, other, row], monkeypatch)
        for key in row:
            for value in ODD:
                odd = {**row, key: value}
                taken += _compare_flat([odd, {**odd, "conc": 3}], monkeypatch)
                taken += _compare_flat([row, odd, other], monkeypatch)
    assert taken > 500
