"""SemiAnalysis InferenceX as an upstream: its AMD master configs and launch scripts.

``checkout`` reads a local checkout (its commit, configs, ``MODELS.md``, scripts);
``capture`` runs a launch script in bash with the benchmark harness stubbed and captures
the server command, the environment it exports and the setup steps it runs first;
``convert`` turns entries into recipe documents; ``models_md`` reads retirement dates.
"""
