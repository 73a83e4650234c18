"""Waiting for something to come true, with a deadline and a message saying what did not."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """What was awaited did not happen in time (an AssertionError, so a test reports it as a
    failure, not as an error of the harness)."""


def wait_until[T](
    condition: Callable[[], T], *, timeout: float, interval: float = 0.5, message: str
) -> T:
    """Call `condition` until it returns something true, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise WaitTimeout(f"{message} (waited {timeout:g}s)")
        time.sleep(interval)
