"""Bad requests are usage errors."""

from __future__ import annotations

from typing import Any

import pytest

from aim_catalog.errors import UsageProblem
from aim_catalog.selection.request import Request

M = "org/model-a"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"backend": "tgi"}, "unknown backend 'tgi'"),
        ({"metric": "ttft"}, "unknown metric 'ttft'"),
        ({"gpus": 0}, "positive integer"),
    ],
)
def test_bad_requests_are_usage_errors(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageProblem, match=message):
        Request(model=M, **kw)
