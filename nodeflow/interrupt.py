"""Ctrl-C as a clean interrupt of a run, for the command line."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Protocol


class Interruptible(Protocol):
    def interrupt(self) -> None: ...


@contextmanager
def ctrl_c_interrupts(runner: Interruptible) -> Iterator[None]:
    """While the block runs, the first Ctrl-C interrupts `runner` (an Executor) at its next check, between
    nodes or steps, so that the run ends with an interrupted report; a second Ctrl-C raises KeyboardInterrupt
    at once. Only the main thread may handle signals: in another, Ctrl-C keeps its usual meaning."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        runner.interrupt()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
