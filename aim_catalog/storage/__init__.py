"""Storage: the catalog database and nothing else.

Engines and the schema check (``db``), what differs between SQLite and PostgreSQL
(``dialects``), the Core tables and the ORM over them (``tables``, ``models``), opening a
catalog and its units of work (``store``, ``work``), and where the bundled migrations and
seed recipes are (``resources``). It may import ``settings`` and ``errors`` only: what
fills a new catalog is handed in as a hook, never imported from here.
"""
