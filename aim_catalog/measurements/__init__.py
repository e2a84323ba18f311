"""Measurements: benchmark results in, reports and analysts' SQL out.

Result-file readers (``importers``: one module per format), turning runs into benchmark
rows of serve configs (``bench_import``), the SQL-view reports (``reports``), the Pareto
chart and its plot (``pareto``, ``pareto_plot``: the only importer of matplotlib), the
backtest of interpolation between measured concurrencies (``backtest``) and the read-only
``sql`` machinery with its PostgreSQL roles (``sql``). It may import
``selection``, ``recipes``, ``backends``, ``host``, ``storage``, ``settings`` and ``errors``.
"""
