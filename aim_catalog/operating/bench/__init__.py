"""Benchmarks the tool runs itself: ``bench run`` (a load at each concurrency against a
deployment or a URL) and ``bench sweep`` (launch each candidate config, run, stop).

``point`` holds the frozen values of one measured point (asked: ``PointSpec``; got:
``PointResult``, whose ``metrics`` are ``benchmarks`` columns); ``builtin`` is the asyncio +
httpx client (its prompts: ``prompts``; its arithmetic: ``figures``); ``image_client``
builds the command lines of the backends' own benchmark clients (run inside the launched
container) and reads their result files through ``measurements.importers``. It may import
``launch``, ``measurements`` and everything below.
"""
