"""The Kubernetes and KServe launch targets (``--target kubernetes|kserve``).

``render`` builds the objects (pure: no client, no cluster) and ``names`` their names and
labels; ``apply`` sends them with the official ``kubernetes`` client (the optional extra
``aim-catalog[kubernetes]``), which only that module imports; ``service`` renders, applies,
records, waits and answers ``ps``/``stop``/``logs`` for clusters; ``records`` holds their
rows of the deployments table; ``target`` registers both names. It may import ``launch``
(not the Docker target) and everything below it.
"""
