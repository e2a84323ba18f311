"""Helpers the tests share: constants, builders and fakes (imported as ``support.<name>``).

Test modules never import each other nor ``conftest``: what two of them need lives here
(plain functions and data) or in a ``conftest.py`` (fixtures).
"""
