"""Host: what this machine has, read without side effects.

AMD GPUs from the KFD topology in sysfs (``gpus``) and the Hugging Face model cache a
launch mounts (``hfcache``). It may import ``settings``, ``httpcall`` (the one way to
the Hugging Face Hub's metadata) and ``errors`` only.
"""
