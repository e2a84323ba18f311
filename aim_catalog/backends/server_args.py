"""Recipe server args as the argv a backend's server parses."""

from __future__ import annotations

from typing import Any


def server_argv(args: dict[str, Any]) -> list[str]:
    """Recipe args as argv: ``"true"``/true/null give a bare flag, ``"false"``/false drop it.

    A dotted key (vLLM's ``-cc.pass_config.x``, ``-O.x``, ``--compilation-config.x``) is always
    ``key=value``: vLLM's FlexibleArgumentParser reads the next argv word as a bare dotted key's
    value, so a bare ``-cc.a -cc.b`` would set ``a`` to ``"-cc.b"``; and ``=False`` is a setting,
    not an absent flag. A YAML boolean is written as JSON (``true``/``false``, which vLLM parses
    with ``json.loads``); a string value is written as given (the scripts' ``=True``)."""
    argv: list[str] = []
    for flag, value in args.items():
        if isinstance(flag, str) and flag.startswith("-") and "." in flag:
            if value is None:
                argv.append(flag)  # the lint rejects it; emit as written rather than guess a value
            else:
                text = ("true" if value else "false") if isinstance(value, bool) else str(value)
                argv.append(f"{flag}={text}")
        elif value is None or value is True or (isinstance(value, str) and value.lower() == "true"):
            argv.append(flag)
        elif value is False or (isinstance(value, str) and value.lower() == "false"):
            continue
        else:
            argv.extend([flag, str(value)])
    return argv
