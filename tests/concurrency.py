"""Calls released at once from threads, and waiting for what other processes do."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def concurrently(calls: list[Callable[[], int]]) -> list[int]:
    """Run the calls in threads released together; return their results."""
    barrier = threading.Barrier(len(calls))
    results: list[int] = [0] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if check():
            return time.monotonic() - began
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout} s: {what}")
