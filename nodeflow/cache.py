"""A byte-bounded LRU cache of node outputs, keyed by Merkle keys."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .sizeof import estimate_bytes


@dataclass
class CacheEntry:
    outputs: dict[str, Any]
    ui: dict[str, list[Any]] = field(default_factory=dict)
    nbytes: int = 0


class OutputCache:
    """Outputs of executed nodes; the least recently used go first when over `max_bytes`.

    An entry bigger than the whole budget is not kept. Values are stored by
    reference: a model is shared, not copied, by every node that uses it.
    """

    def __init__(self, max_bytes: int = 8 * 2**30) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> CacheEntry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, outputs: dict[str, Any], ui: dict[str, list[Any]] | None = None) -> CacheEntry:
        seen: set[int] = set()
        entry = CacheEntry(outputs, ui or {}, sum(estimate_bytes(v, seen) for v in outputs.values()))
        with self._lock:
            self._drop(key)
            if entry.nbytes <= self.max_bytes:
                self._entries[key] = entry
                self._bytes += entry.nbytes
                while self._bytes > self.max_bytes:
                    self._drop(next(iter(self._entries)))
        return entry

    def discard(self, key: str) -> None:
        with self._lock:
            self._drop(key)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.nbytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries
