"""``importers.keys``: what identifies an imported run, in the new spelling and the old one
(which catalogs written before hold, and which an import still recognises)."""

from __future__ import annotations

import hashlib
import json
import random

import msgspec

from aim_catalog.measurements.importers.keys import LEGACY_BELOW, PREFIX, column_keys, legacy_key, run_key

ROW = {
    "dataset": "random",
    "total_token_throughput": 8000.0,
    "ttft_ms_p50": 237.5,
    "concurrency": 4,
    "input_len": 8192,
    "image": "lmsysorg/sglang:v0.5.0-rocm700-mi35x",
    "request_rate": None,
    "source": "InferenceX: agg_bmk.json",
}


def test_a_key_fits_the_column_and_names_its_spelling() -> None:
    key = run_key(ROW)
    assert len(key) == 64 and key.startswith(PREFIX)
    assert key >= LEGACY_BELOW  # never taken for an old key


def test_the_key_is_the_numbers_and_scenario_not_the_file_or_the_order() -> None:
    key = run_key(ROW)
    assert run_key({**ROW, "source": "vllm bench serve: other.json"}) == key
    assert run_key(dict(reversed(list(ROW.items())))) == key


def test_every_figure_and_its_type_is_part_of_the_key() -> None:
    key = run_key(ROW)
    assert run_key({**ROW, "ttft_ms_p50": 237.50000000000003}) != key  # the next double
    assert run_key({**ROW, "concurrency": 4.0}) != key  # as json.dumps told 4 from 4.0
    assert run_key({**ROW, "image": "lmsysorg/sglang:v0.5.1-rocm700-mi35x"}) != key
    assert run_key({**ROW, "output_len": 1024}) != key
    assert run_key({k: v for k, v in ROW.items() if v is not None}) != key  # as json.dumps: null is said


def test_the_legacy_key_is_the_spelling_catalogs_hold() -> None:
    """Before keys.run_key, an import key was the SHA-256 of json.dumps(row without source,
    sort_keys=True), nulls included (measurements.importers.common, b116130)."""
    facts = {k: v for k, v in ROW.items() if k != "source"}
    expected = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
    assert legacy_key(ROW) == expected
    assert len(expected) == 64 and expected < LEGACY_BELOW and "-" not in expected


def test_the_key_of_a_row_never_changes() -> None:
    """A key spelled otherwise (another msgspec, another MessagePack choice) would import
    every run of a catalog again. The MessagePack spec
    (https://github.com/msgpack/msgpack/blob/master/spec.md): a map of 7 (0x87), its keys
    sorted, 4 as a positive fixint, 8192 as uint 16 (0xcd), every float as float 64 (0xcb),
    nil (0xc0)."""
    facts = {k: v for k, v in ROW.items() if k != "source"}
    spelled = msgspec.msgpack.Encoder(order="sorted").encode(facts)
    assert spelled.startswith(bytes.fromhex("87ab") + b"concurrency" + bytes.fromhex("04"))
    assert bytes.fromhex("cd2000") in spelled and bytes.fromhex("cb40bf400000000000") in spelled
    assert run_key(ROW) == "r2-e467c75e4d4bdb919488f2add22d251dc38c1b45f7f69460353248ade23b5"


def test_keys_made_from_columns_are_the_keys_of_their_rows() -> None:
    """``column_keys`` (a row a ``msgspec.Struct``, no dict) gives each row its ``run_key``:
    the pinned row, and random rows of every kind of value a row holds (floats from the
    smallest subnormal to the largest double, integers of every MessagePack width, text,
    null), names in any order, ``source`` among them or not."""
    names = list(ROW)
    assert column_keys(names, [[value] for value in ROW.values()]) == [run_key(ROW)]
    generator = random.Random(18)
    values = [
        0.0,
        -0.0,
        5e-324,
        1.7976931348623157e308,
        0.1,
        1,
        127,
        128,
        255,
        256,
        65536,
        2**31 - 1,
        2**53,
        "",
        "random",
        "é",
        None,
    ]
    for _ in range(300):
        width = generator.randint(1, 40)
        ends = ["_a", ".9", " z", "é"]  # names that are not identifiers too
        chosen = generator.sample([f"c{i}{generator.choice(ends)}" for i in range(60)], width)
        if generator.random() < 0.5:
            chosen.append("source")
        generator.shuffle(chosen)
        columns = [[generator.choice(values) for _ in range(3)] for _ in chosen]
        rows = [dict(zip(chosen, row, strict=True)) for row in zip(*columns, strict=True)]
        assert column_keys(chosen, columns) == [run_key(row) for row in rows], chosen
