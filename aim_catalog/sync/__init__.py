"""Recipes kept in step with an upstream catalog: ``aim-catalog catalog sync``.

An upstream (one package per upstream: ``inferencex/``) turns a local checkout into recipe
documents; ``plan`` compares them with the catalog's recipes (added, changed with a
readable diff, retired, unchanged, and the upstream entries that could not be read);
``apply`` validates them as ``ingest`` does and writes them in one transaction (and, asked,
as YAML files). It may import ``recipes``, ``backends``, ``storage``, ``settings``,
``notes``, ``writing`` and ``errors``; only ``api`` imports it.
"""
