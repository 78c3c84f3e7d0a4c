"""Byte estimates of node outputs, for the byte-bounded cache.

Tensors and modules are measured by their storage; containers by their items;
objects may answer for themselves with `__nodeflow_nbytes__`. Each object is
counted once per estimate, so a model shared by two outputs of one node costs once.
"""

from __future__ import annotations

import sys
from typing import Any

_FLAT = (bool, int, float, complex, type(None))


def estimate_bytes(value: Any, seen: set[int] | None = None) -> int:
    if value.__class__ in _FLAT or isinstance(value, _FLAT):
        return 0
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    own = getattr(value, "__nodeflow_nbytes__", None)
    if callable(own):
        return int(own())
    if isinstance(value, (str, bytes, bytearray)):
        return len(value)
    if hasattr(value, "element_size") and hasattr(value, "numel"):
        return int(value.element_size() * value.numel())
    if hasattr(value, "parameters") and hasattr(value, "buffers"):
        tensors = [*value.parameters(), *value.buffers()]
        return sum(estimate_bytes(t, seen) for t in tensors)
    if isinstance(value, dict):
        return sum(estimate_bytes(k, seen) + estimate_bytes(v, seen) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(estimate_bytes(v, seen) for v in value)
    if hasattr(value, "nbytes"):
        return int(value.nbytes)
    if hasattr(value, "size") and hasattr(value, "getbands"):
        width, height = value.size
        return width * height * len(value.getbands())
    if hasattr(value, "__dict__"):
        return sum(estimate_bytes(v, seen) for v in vars(value).values())
    if hasattr(value, "__slots__"):
        return sum(estimate_bytes(getattr(value, s, None), seen) for s in value.__slots__)
    return sys.getsizeof(value)
