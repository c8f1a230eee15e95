"""How long a piece of work takes, for tests that show linear time by growth."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


def fastest_cpu_seconds(work: Callable[[], object], *, runs: int) -> float:
    """The fastest of `runs` calls of `work`, in this process's CPU time (what other
    processes on the machine do changes it little), with the garbage collector off while
    it runs. Compare it with itself at another size: the machine's speed cancels out."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            started = time.process_time()
            work()
            best = min(best, time.process_time() - started)
    finally:
        gc.enable()
    return best
