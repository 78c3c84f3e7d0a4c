"""Model handles and the service that places their modules on the execution device.

A handle is what flows through the graph; the module it wraps is reached only
through `ctx.models.use(handle)`, so that a model manager can later move,
offload or drop modules under a memory budget without any node changing.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator


@dataclass(eq=False)
class ModelHandle:
    """A loaded model (or tokenizer, or any heavy object) shared by identity.

    `source` says where it came from (folder, hub id, file) for reports; `dtype`
    is the torch dtype the module was loaded in, when it has one.
    """

    module: Any
    source: str = ""
    dtype: Any = None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def device(self) -> str:
        module_device = getattr(self.module, "device", None)
        return str(module_device) if module_device is not None else "cpu"

    def __nodeflow_nbytes__(self) -> int:
        from .sizeof import estimate_bytes

        return estimate_bytes(self.module)


class ModelService:
    """Places modules on the device a node runs on; the seam for a future model manager."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._lock = threading.Lock()
        self._in_use: dict[int, int] = {}

    @contextmanager
    def use(self, handle: ModelHandle, device: str | None = None) -> Iterator[Any]:
        """The handle's module, on `device` (default: the run's device), for the duration of the block."""
        target = device or self.device
        module = handle.module
        with self._lock:
            if hasattr(module, "to") and _device_type(handle.device) != _device_type(target):
                module.to(target)
            self._in_use[id(handle)] = self._in_use.get(id(handle), 0) + 1
        try:
            yield module
        finally:
            with self._lock:
                count = self._in_use.pop(id(handle)) - 1
                if count:
                    self._in_use[id(handle)] = count

    def in_use(self, handle: ModelHandle) -> bool:
        return id(handle) in self._in_use


def _device_type(device: str) -> str:
    return str(device).split(":")[0]
