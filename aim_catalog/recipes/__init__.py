"""Recipes: the YAML files operators keep, from bytes on disk to rows in the catalog.

Finding and reading files (``files``), safe YAML with positions (``safe_yaml``), the format
and its checks (``format``, ``checker``, ``validate``, ``bench_rows``, ``provenance``,
``flags``, ``flaglint``), the physical bounds of a row's figures (``bounds``), AMD AIM
profiles read as recipes (``aim_profiles``), loading (``loading``), one transaction of
upserts (``ingest``), the bundled catalog (``seed``) and the way back to YAML (``export``).
It may import ``storage``, ``backends``, ``host``, ``settings`` and ``errors``.
"""
