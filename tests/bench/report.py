"""How every benchmark reports a figure: a readable line, and beside it one machine-readable line

    BENCH {"name": ..., "value": ..., "unit": ..., "reference": ...}

``reference`` says what the figure is to be read against: the reference measured in the same run
for a ratio (these machines are shared, so only a ratio to something measured alongside is
comparable between runs), or the target for an absolute figure. ``grep '^BENCH '`` over the output
of ``make bench`` collects them.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence


def bench(name: str, value: float, unit: str, reference: str) -> None:
    """Print one figure as a ``BENCH`` line (rounded to 4 significant digits; ``inf`` as null)."""
    shown = None if math.isinf(value) or math.isnan(value) else float(f"{value:.4g}")
    print("BENCH " + json.dumps({"name": name, "value": shown, "unit": unit, "reference": reference}),
          flush=True)


def percentile(samples: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0..100); missing samples may be passed as ``inf``."""
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def summary(name: str, seconds: Sequence[float]) -> tuple[float, float]:
    """Print ``name: p50 .. ms p99 .. ms (n=..)`` and return (p50, p99) in milliseconds."""
    p50, p99 = statistics.median(seconds) * 1000, percentile(seconds, 99) * 1000
    print(f"  {name:<52} p50 {p50:8.2f} ms   p99 {p99:8.2f} ms   (n={len(seconds)})", flush=True)
    return p50, p99
