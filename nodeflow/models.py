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
    is the torch dtype the module was loaded in, when it has one; `placement`
    pins the model to a device ("cpu", "cuda") instead of the run's device.
    """

    module: Any
    source: str = ""
    dtype: Any = None
    config: dict[str, Any] = field(default_factory=dict)
    placement: str | None = None

    @property
    def device(self) -> str:
        module_device = getattr(self.module, "device", None)
        return str(module_device) if module_device is not None else "cpu"

    def __nodeflow_nbytes__(self) -> int:
        from .sizeof import estimate_bytes

        return estimate_bytes(self.module)


class ModelService:
    """Places modules on the device a node runs on; the seam where a model manager (offloading under a
    memory budget) will go."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def on(self, device: str) -> ModelAccess:
        """The view a node running on `device` gets as `ctx.models`."""
        return ModelAccess(self, device)

    @contextmanager
    def use(self, handle: ModelHandle, device: str) -> Iterator[Any]:
        """The handle's module, moved to `device`, for the duration of the block."""
        module = handle.module
        with self._lock:
            if hasattr(module, "to") and _device_type(handle.device) != _device_type(device):
                module.to(device)
        yield module


@dataclass(frozen=True)
class ModelAccess:
    """`ctx.models`: `with ctx.models.use(handle) as module:` gives the module on the node's device."""

    service: ModelService
    device: str

    def use(self, handle: ModelHandle) -> Any:
        return self.service.use(handle, self.device)


def node_device(inputs: dict[str, Any], run_device: str) -> str:
    """Where a node runs: the device its models are pinned to when they all agree, else the run's device."""
    pinned = {v.placement for v in inputs.values() if isinstance(v, ModelHandle) and v.placement}
    return pinned.pop() if len(pinned) == 1 else run_device


def _device_type(device: str) -> str:
    return str(device).split(":")[0]
