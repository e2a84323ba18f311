"""aim-catalog: a SQL catalog of LLM serving recipes for AMD Instinct GPUs.

Importing this package imports nothing heavy; the CLI loads SQLAlchemy, YAML and
Docker only inside the commands that need them.
"""

__version__ = "0.1.0"
