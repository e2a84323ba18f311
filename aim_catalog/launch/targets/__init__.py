"""Launch targets: one package per place a config can run (``docker``, ``kubernetes``),
each registered by name in ``registry`` behind the ``Target`` protocol (``base``)."""
