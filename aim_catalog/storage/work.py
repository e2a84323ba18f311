"""What services need of a catalog: units of work, as a protocol.

Services (launch, the endpoint test, ...) take a ``Work`` instead of the API's ``Catalog``,
so they never import the face they serve; ``storage.store.Store`` (and so ``Catalog``)
satisfies it. ``read`` is rolled back, ``write`` committed on success, ``connection`` a
plain Core connection; ``display_url`` is the catalog's URL without its password.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session


# ``Work.write`` handed on alone: a workflow that records each state as it happens (a launch
# from create to running) commits one unit per state.
Writer = Callable[[], AbstractContextManager["Session"]]


class Work(Protocol):
    """Units of work on one catalog."""

    @property
    def display_url(self) -> str: ...

    def read(self) -> AbstractContextManager[Session]: ...

    def write(self) -> AbstractContextManager[Session]: ...

    def connection(self) -> AbstractContextManager[Connection]: ...
