"""The Kubernetes and KServe launch targets.

``render`` builds the objects (pure: no client, no cluster); ``apply`` sends them with the
official ``kubernetes`` client (the optional extra ``aim-catalog[kubernetes]``), which
only that module imports.
"""
