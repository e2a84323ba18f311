"""Operating: what an operator runs around a launch.

``doctor`` (is this host ready to serve?), the endpoint test behind ``aim-catalog test``
(``endpoint_test``), its OpenAI-API client (``openai_client``, bounded through
``httpcall``), the checks every field of a server's answer passes (``replies``) and load
runs (``load``); ``bench/`` runs benchmarks and sweeps and stores what they measure. It
may import ``launch`` and everything below it; ``doctor`` may import ``docker``.
"""
