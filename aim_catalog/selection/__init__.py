"""Selection: which enabled serve config answers a request, and why every other lost.

The frozen values asked and answered (``request``, ``options``), the one SQL statement and
its named predicates (``matching``), the best config (``best``), the verdicts
(``explaining``), the ranking in words (``ranking``), fallbacks (``fallback``), what the
catalog has for a model (``listing``), curves and operating points (``curves``, ``compare``,
``evidence``) and capacity plans for a target load (``capacity``). It may import
``recipes``, ``backends``, ``host``, ``storage``, ``settings`` and ``errors``; never launch,
measurements or the faces.
"""
