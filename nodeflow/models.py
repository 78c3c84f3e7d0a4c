"""Model handles and the service that places their modules on the execution device.

A handle is what flows through the graph; the module it wraps is reached only
through `ctx.models.use(handle)`, so that a model manager can later move,
offload or drop modules under a memory budget without any node changing, and
so that an interrupt stops a long forward pass between two of its blocks.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator


@dataclass(eq=False)
class ModelHandle:
    """A loaded model (or tokenizer, or any heavy object) shared by identity.

    `source` says where it came from (folder, hub id, file) for reports; `dtype`
    is the torch dtype the module was loaded in, when it has one; `placement`
    pins the model to a device ("cpu", "cuda") instead of the run's device; a
    bare "cuda" means the GPU of the worker it runs on (see `placed_on`).
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

    def on(self, device: str, interrupt: threading.Event | None = None) -> ModelAccess:
        """The view a node running on `device` gets as `ctx.models`; `interrupt` is its run's interrupt flag."""
        return ModelAccess(self, device, interrupt)

    @contextmanager
    def use(self, handle: ModelHandle, device: str, interrupt: threading.Event | None = None) -> Iterator[Any]:
        """The handle's module, moved to `device`, for the duration of the block; once `interrupt` is set, a
        call of a torch module in it raises Interrupted at its next submodule that has submodules."""
        module = handle.module
        with self._lock:
            if hasattr(module, "to") and not same_device(handle.device, device):
                module.to(device)
        with _stopping_on(interrupt, module):
            yield module


@contextmanager
def _stopping_on(interrupt: threading.Event | None, module: Any) -> Iterator[None]:
    """Forward pre-hooks on the module and on each of its submodules that has children (UNet, transformer and
    VAE blocks, attention, resnets) raise Interrupted once `interrupt` is set; removed when the block ends.

    Only module calls are checked: a single operation (one huge attention product) runs to its end, work
    outside modules (a scheduler step, which diffusers gives no hook for) runs on, and on a GPU the kernels
    already queued finish. Between steps, nodes call `ctx.check_interrupt()`."""
    torch = sys.modules.get("torch")  # a module is a torch module only once torch is imported
    if interrupt is None or torch is None or not isinstance(module, torch.nn.Module):
        yield
        return
    from .context import Interrupted

    def stop_if_interrupted(submodule: Any, args: Any) -> None:
        if interrupt.is_set():
            raise Interrupted(f"interrupted in {type(submodule).__name__}")

    blocks = [sub for sub in module.modules() if sub is module or next(sub.children(), None) is not None]
    hooks = [block.register_forward_pre_hook(stop_if_interrupted) for block in blocks]
    try:
        yield
    finally:
        for hook in hooks:
            hook.remove()


@dataclass(frozen=True)
class ModelAccess:
    """`ctx.models`: `with ctx.models.use(handle) as module:` gives the module on the node's device."""

    service: ModelService
    device: str
    interrupt: threading.Event | None = None

    def use(self, handle: ModelHandle) -> Any:
        return self.service.use(handle, self.device, self.interrupt)


def node_device(inputs: dict[str, Any], run_device: str) -> str:
    """Where a node runs: the device its models are pinned to when they all agree, else the run's device."""
    pinned = {placed_on(value.placement, run_device)
              for value in inputs.values() if isinstance(value, ModelHandle) and value.placement}
    return pinned.pop() if len(pinned) == 1 else run_device


def placed_on(placement: str, run_device: str) -> str:
    """The device a model pinned to `placement` runs on: a placement without an index ("cuda") means the worker's
    own device of that type (cuda:1 on a cuda:1 worker); on a worker of another type it stays as it is ("cuda",
    the default GPU)."""
    if ":" not in placement and _device_type(run_device) == placement:
        return run_device
    return placement


def same_device(a: Any, b: Any) -> bool:
    """Whether two device names (or torch.device objects) are one device, as torch counts them: an index left
    out is the default one ("cuda" is "cuda:0", "cpu" is "cpu:0")."""
    return _indexed(a) == _indexed(b)


def _indexed(device: Any) -> tuple[str, int]:
    kind, _, index = str(device).partition(":")
    return kind, int(index) if index else 0


def _device_type(device: str) -> str:
    return str(device).partition(":")[0]
