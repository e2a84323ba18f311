"""Analysts' SQL (``aim-catalog sql``): one statement, read-only, time-limited, streamed.

``query`` is the entry point (``readonly_query``) and the SQLite side; ``postgresql`` the
PostgreSQL side and ``roles`` which PostgreSQL roles are fit to run it.
"""
