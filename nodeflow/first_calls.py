"""First calls of node types, one at a time across the executors that share a registry.

A node imports its heavy libraries (diffusers, transformers) when it first runs. Those packages make
themselves lazy by replacing their module in `sys.modules` at the end of their `__init__`; a thread whose
`import diffusers` finds the package being initialised by another thread waits for it and is then handed
the module object it first found, the half-made one, not the replacement (CPython's import statement keeps
that reference). `from diffusers import DiffusionPipeline` then fails with "cannot import name", as two
server workers showed on their first prompts. Importing under one lock avoids it; the first call of each
node type is where its imports happen, so those calls take turns, and every later call runs freely.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from .context import Interrupted

_WAIT_SECONDS = 0.05  # how often a waiting run looks at its interrupt flag


class FirstCalls:
    """The node types that have completed a call; until one has, its calls hold the one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: set[str] = set()

    @contextmanager
    def turn(self, type_id: str, interrupt: threading.Event) -> Iterator[None]:
        """Run the block at once if `type_id` has completed a call, else when no other first call runs;
        a wait ends with Interrupted once `interrupt` is set."""
        if type_id in self._done:
            yield
            return
        while not self._lock.acquire(timeout=_WAIT_SECONDS):
            if interrupt.is_set():
                raise Interrupted(f"interrupted while waiting for another node's first call ({type_id})")
        try:
            yield
            self._done.add(type_id)
        finally:
            self._lock.release()
