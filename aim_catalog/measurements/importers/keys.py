"""What identifies an imported run: its import key, a hash of the numbers and scenario it
reports (its finished row without ``source``, the name of the file it came in), so that
importing the same run twice adds nothing.

Two spellings exist. ``run_key`` (since this module): ``r2-`` and the first 61 hex digits of
the SHA-256 of the row as MessagePack with sorted keys (msgspec; floats as their 8 bytes, no
number spelled as text: an eighth of the time of the old spelling, which took as long as
parsing the file). ``legacy_key``: the SHA-256 hex of ``json.dumps(row, sort_keys=True)``,
which catalogs written before hold; the import compares with it only where the catalog
holds such keys (``LEGACY_BELOW``). ``column_keys``: ``run_key`` of rows held column by
column, made without a dict a row. Imports ``msgspec`` and the standard library only.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec

PREFIX = "r2-"
# A legacy key is 64 hex digits: every one sorts below "g"; the other keys of the column
# (r2-..., smoke-..., measured-..., ix-... of the bundled rows) do not.
LEGACY_BELOW = "g"

_ENCODE = msgspec.msgpack.Encoder(order="sorted").encode
_ENCODE_IN_ORDER = msgspec.msgpack.Encoder().encode


def run_key(row: Mapping[str, Any]) -> str:
    """The import key of a finished row (its ``source`` is not part of it)."""
    facts = dict(row)
    facts.pop("source", None)
    return PREFIX + hashlib.sha256(_ENCODE(facts)).hexdigest()[:61]


def column_keys(names: Sequence[str], columns: Sequence[Sequence[Any]]) -> list[str]:
    """``run_key`` of each row of ``columns`` (one sequence per name of ``names``, rows in
    order), with no dict a row: each row a ``msgspec.Struct`` whose fields are the names in
    sorted order, which msgspec encodes as the same sorted map (a unit test holds them to it)."""
    kept = sorted((name, column) for name, column in zip(names, columns, strict=True) if name != "source")
    rows = itertools.starmap(_shape(tuple(name for name, _ in kept)), zip(*(c for _, c in kept), strict=True))
    # A struct's fields are encoded in their order, here sorted: no sorting a row.
    digests = map(_HEX, map(_DIGEST, map(hashlib.sha256, map(_ENCODE_IN_ORDER, rows))))
    return [PREFIX + digest[:61] for digest in digests]


@functools.lru_cache(maxsize=64)  # the shapes of a writer's rows: a few
def _shape(names: tuple[str, ...]) -> Any:
    """A struct of ``names``, in their order (fields named ``f0``...: any text is a name)."""
    fields = [(f"f{i}", Any, msgspec.field(name=name)) for i, name in enumerate(names)]
    return msgspec.defstruct("Row", fields)


_DIGEST, _HEX = operator.methodcaller("digest"), bytes.hex


def legacy_key(row: Mapping[str, Any]) -> str:
    """The key the catalog gave the same row before ``run_key``."""
    facts = {k: v for k, v in row.items() if k != "source"}
    return hashlib.sha256("".join(_LEGACY_ENCODER(facts, False)).encode()).hexdigest()


# ``json.dumps(facts, sort_keys=True)`` (str keys, scalar values: nothing to check for
# cycles), by one C encoder made once, not one per row.
_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_LEGACY_ENCODER: Callable[[Any, bool], Iterable[str]] = (
    _C_ENCODER(
        None,
        json.JSONEncoder().default,
        json.encoder.encode_basestring_ascii,
        None,
        ": ",
        ", ",
        True,
        False,
        True,
    )
    if _C_ENCODER is not None
    else json.JSONEncoder(sort_keys=True).iterencode
)
