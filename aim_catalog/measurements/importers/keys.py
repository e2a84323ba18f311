"""What identifies an imported run: its import key, a hash of the numbers and scenario it
reports (its finished row without ``source``, the name of the file it came in), so that
importing the same run twice adds nothing.

Two spellings exist. ``run_key`` (since this module): ``r2-`` and the first 61 hex digits of
the SHA-256 of the row as MessagePack with sorted keys (msgspec; floats as their 8 bytes, no
number spelled as text: an eighth of the time of the old spelling, which took as long as
parsing the file). ``legacy_key``: the SHA-256 hex of ``json.dumps(row, sort_keys=True)``,
which catalogs written before hold; the import compares with it only where the catalog
holds such keys (``LEGACY_BELOW``). Imports ``msgspec`` and the standard library only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec

PREFIX = "r2-"
# A legacy key is 64 hex digits: every one sorts below "g"; the other keys of the column
# (r2-..., smoke-..., measured-..., ix-... of the bundled rows) do not.
LEGACY_BELOW = "g"

_ENCODE = msgspec.msgpack.Encoder(order="sorted").encode


def run_key(row: Mapping[str, Any]) -> str:
    """The import key of a finished row (its ``source`` is not part of it)."""
    facts = dict(row)
    facts.pop("source", None)
    return PREFIX + hashlib.sha256(_ENCODE(facts)).hexdigest()[:61]


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
