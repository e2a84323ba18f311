"""Operating: what an operator runs around a launch.

``doctor`` (is this host ready to serve?), the endpoint test behind ``aim-catalog test``
(``endpoint_test``) and its OpenAI-API client (``openai_client``). It may import ``launch``
and everything below it; ``doctor`` may import ``docker``.
"""
