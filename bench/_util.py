"""Small helpers shared by the benchmark scripts (not part of the package)."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable


def best_of(fn: Callable[[], float], runs: int = 3) -> float:
    """Run ``fn`` (which returns a figure where higher is better) and keep the best."""
    return max(fn() for _ in range(runs))


def per_call_us(fn: Callable[[], object], n: int, runs: int = 5) -> float:
    """Median µs per call of ``fn`` over ``runs`` batches of ``n`` calls."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(samples)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"
