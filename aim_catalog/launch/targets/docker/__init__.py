"""The Docker target: a ROCm container on this host's Docker engine (the docker SDK).

``engine`` makes the Docker Engine API calls, ``service`` launches (pull, lock, plan,
create, record, start, wait), ``lifecycle`` owns one container's states, ``logs`` reads
them with secrets masked, ``lock`` is the per-user launch lock, ``plan`` the planning of
one copy, ``records`` and ``operations`` its rows and ``ps``/``stop``/``logs``,
``bench_exec`` runs a benchmark client inside a launched container (``docker exec``) and
copies its result out, and ``target`` registers it. The only package, with
``operating.doctor``, that imports ``docker``; it may import ``launch`` (not the Kubernetes
target) and everything below it.
"""
