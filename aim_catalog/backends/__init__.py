"""Backends: the inference servers the catalog knows, as data.

Which servers there are and how they are named (``registry``, from ``data/backends.json``),
their default images and the release an image's tag names (``images``,
``data/images.json``), each version's option names (``data/flags.json``, read by
``recipes.flaglint``), recipe args as their argv (``server_args``) and what a server
container's environment and image may be (``envpolicy``). A new backend is a data entry,
not code. It may import ``host``, ``settings`` and ``errors``.
"""
