"""One doctor check's result: its status, a one-line summary, a fix, and data for --json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):
    """A check's verdict, as --json shows it."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"  # advice: does not fail the doctor
    SKIP = "skip"  # not checked: an earlier check failed


PASS, FAIL, WARN, SKIP = Status.PASS, Status.FAIL, Status.WARN, Status.SKIP


@dataclass
class Check:
    name: str
    status: Status
    summary: str
    fix: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}
