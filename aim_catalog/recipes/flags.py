"""Server flag keys as recipes write them: ``--port=9999`` is the flag ``--port``.

argparse reads ``--port=9999`` as ``--port 9999``, so a recipe key that holds ``=`` must
be split before the launcher looks for the flags it owns (``--host``, ``--port``), the
model flag or the parallel sizes; otherwise those checks and replacements are bypassed.
The recipe validator splits keys at ingest; the launcher splits again for catalog rows
written before that (or by another writer).

A flag value is one line (``value_problem``), in a recipe and on ``launch --arg`` alike: it
is one argv word, printed in commands and rendered into manifests, and the servers ask for
no more: vLLM's and SGLang's help call ``--chat-template`` "the file path to the chat
template, or the template in single-line form" (vLLM ``entrypoints/openai/cli_args.py``,
SGLang ``srt/server_args.py``).
"""

from __future__ import annotations

import re
from typing import Any

from aim_catalog.errors import shown

# Every C0 control (tab and newline included), DEL and C1.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def value_problem(value: Any) -> str | None:
    """Why a flag value cannot be passed (None: it can)."""
    bad = _CONTROL.search(value) if isinstance(value, str) else None
    if bad is None:
        return None
    char = bad.group()
    what = "a line break" if char in "\r\n" else "the control character"
    return (
        f"value contains {what} U+{ord(char):04X}: a flag value is one line (a chat template "
        "goes in as a file path or in single-line form, as vLLM and SGLang take it)"
    )


def _bare(value: Any) -> bool:
    """null, true or "true": the flag alone (1 is not true here, though 1 == True)."""
    return value is None or value is True or (isinstance(value, str) and value.strip().lower() == "true")


def split_flag(flag: str, value: Any) -> tuple[str, Any, str | None]:
    """``(key, value, problem)``: ``("--port=9999", None)`` -> ``("--port", "9999", None)``.

    A key with ``=`` may carry no value of its own (null or true); with one, ``problem``
    says why it is refused (which of the two values would win is anybody's guess).
    """
    if "=" not in flag:
        return flag, value, None
    key, _, inline = flag.partition("=")
    if len(key) < 2 or not key.startswith("-"):
        return flag, value, f"{shown(flag)} is not a flag: the part before '=' must be a flag name"
    if inline == "":
        return flag, value, f"{shown(flag)} has nothing after '='; write '{shown(key)[1:-1]}: VALUE'"
    if not _bare(value):
        return (
            flag,
            value,
            f"{shown(flag)} carries a value in its name and another one ({shown(value)}); "
            f"write '{shown(key)[1:-1]}: VALUE'",
        )
    return key, inline, None


def served_models(huggingface_id: str, model_id: str, profile_type: str | None) -> tuple[str, ...]:
    """The models a config's model flag may name: the recipe's huggingface_id, and for an
    AIM profile (``profile_type`` set) its model_id, the weights AMD's AIM catalog maps the
    profile's aim_id to. Anything else would make a launch of one model serve another."""
    return (huggingface_id,) if profile_type is None else (huggingface_id, model_id)
