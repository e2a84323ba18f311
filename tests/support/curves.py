"""The cubic Hermite on one segment, from its textbook basis functions: the oracle the curve
tests compute their expected figures with (slopes worked out by hand beside each use)."""

from __future__ import annotations


def hermite(y0: float, y1: float, m0: float, m1: float, width: float, t: float) -> float:
    """The value a fraction ``t`` along a segment of ``width`` (in log2(concurrency)) from
    (y0, slope m0) to (y1, slope m1)."""
    h00, h10, h01, h11 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2
    return h00 * y0 + h10 * width * m0 + h01 * y1 + h11 * width * m1
