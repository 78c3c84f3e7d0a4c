"""Model handles and the service that owns their modules.

A handle is what flows through the graph: a recipe (the loader node and inputs
that made it) plus, while it is loaded, its module. The module is reached only
through `ctx.models.use(handle)`, so that the service can move, offload or drop
modules under a memory budget without any node changing (a dropped module is
made again from its recipe when next used), and so that an interrupt stops a
long forward pass between two of its blocks.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator


@dataclass(frozen=True)
class Recipe:
    """How a model was made: the loader node's type and version, its literal inputs, and which output it is."""

    node_type: str
    version: str
    inputs_json: str
    output: str

    @classmethod
    def of(cls, node_type: str, version: str, inputs: dict[str, Any], output: str) -> Recipe:
        return cls(node_type, version, json.dumps(inputs, sort_keys=True, default=repr), output)

    @property
    def inputs(self) -> dict[str, Any]:
        return json.loads(self.inputs_json)

    @property
    def key(self) -> str:
        text = "\x1f".join((self.node_type, self.version, self.inputs_json, self.output))
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


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
    recipe: Recipe | None = None

    @property
    def device(self) -> str:
        module_device = getattr(self.module, "device", None)  # None also when dropped
        return str(module_device) if module_device is not None else "cpu"

    def __nodeflow_nbytes__(self) -> int:
        from .sizeof import estimate_bytes

        return estimate_bytes(self.module)


@dataclass
class ModelState:
    """What the service knows of one model it owns."""

    handle: ModelHandle
    in_use: int = 0
    last_used: float = field(default_factory=time.monotonic)

    def describe(self) -> dict[str, Any]:
        handle = self.handle
        return {"key": handle.recipe.key if handle.recipe else "", "source": handle.source,
                "loaded": handle.module is not None, "device": handle.device if handle.module is not None else None,
                "bytes": handle.__nodeflow_nbytes__(), "in_use": self.in_use > 0}


Reload = Callable[[Recipe], Any]


class ModelService:
    """Owns the modules of the models a worker loaded: places them on the device a node runs on, knows which are
    in use, drops those that are not (`unload`) and makes a dropped one again from its recipe (`reload`) when it
    is next used."""

    def __init__(self, reload: Reload | None = None) -> None:
        self._lock = threading.RLock()
        self._reload = reload
        self._models: dict[ModelHandle, ModelState] = {}

    def on(self, device: str, interrupt: threading.Event | None = None) -> ModelAccess:
        """The view a node running on `device` gets as `ctx.models`; `interrupt` is its run's interrupt flag."""
        return ModelAccess(self, device, interrupt)

    def adopt(self, handle: ModelHandle, recipe: Recipe) -> None:
        """Take ownership of a handle a loader node just made."""
        with self._lock:
            handle.recipe = handle.recipe or recipe
            self._models.setdefault(handle, ModelState(handle))

    @contextmanager
    def use(self, handle: ModelHandle, device: str, interrupt: threading.Event | None = None) -> Iterator[Any]:
        """The handle's module, made again if it was dropped and moved to `device`, for the duration of the
        block; once `interrupt` is set, a call of a torch module in it raises Interrupted at its next submodule
        that has submodules."""
        with self._lock:
            state = self._models.setdefault(handle, ModelState(handle))
            if handle.module is None:
                handle.module = self._made_again(handle)
            module = handle.module
            if hasattr(module, "to") and not same_device(handle.device, device):
                module.to(device)
            state.in_use += 1
        try:
            with _stopping_on(interrupt, module):
                yield module
        finally:
            with self._lock:
                state.in_use -= 1
                state.last_used = time.monotonic()

    def _made_again(self, handle: ModelHandle) -> Any:
        if handle.recipe is None or self._reload is None:
            raise RuntimeError(f"model {handle.source!r} was dropped and has no recipe to load it again")
        return self._reload(handle.recipe)

    def unload(self) -> int:
        """Drop the module of every model not in use now (it is made again when next used); how many were."""
        with self._lock:
            idle = [s.handle for s in self._models.values() if s.in_use == 0 and s.handle.module is not None]
            for handle in idle:
                if handle.recipe is not None:
                    handle.module = None
            return sum(handle.module is None for handle in idle)

    def loaded(self) -> list[dict[str, Any]]:
        """Each model the service owns: recipe key, source, whether loaded, device, bytes, in use."""
        with self._lock:
            return [state.describe() for state in self._models.values()]

    def budgets(self) -> dict[str, int | None]:
        """The VRAM and RAM budgets (None: no budget set) and the bytes the loaded models take on GPUs and on the
        CPU."""
        on_devices = [(m["device"], m["bytes"]) for m in self.loaded() if m["loaded"]]
        ram_used = sum(size for device, size in on_devices if _device_type(device) == "cpu")
        vram_used = sum(size for device, size in on_devices if _device_type(device) != "cpu")
        return {"vram": None, "ram": None, "vram_used": vram_used, "ram_used": ram_used}

    def recipe_keys(self) -> frozenset[str]:
        """The recipes of the models loaded now (what dispatch prefers to send this worker)."""
        with self._lock:
            return frozenset(h.recipe.key for h in self._models if h.recipe is not None and h.module is not None)


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


def made_by_loader(step: Any) -> dict[str, Recipe]:
    """The recipes of the model outputs of a plan step that has no links (a loader), by output name; {} for
    other steps. A step is a `plan.Step`: its definition and literal inputs."""
    if step.links:
        return {}
    definition = step.definition
    return {name: Recipe.of(definition.type_id, definition.version, step.literals, name)
            for name, spec in definition.outputs.items() if _is_model_type(spec.annotation)}


def recipe_keys_of(steps: Any) -> frozenset[str]:
    """The recipe keys of the models a plan's loaders make (what dispatch matches against a worker's models)."""
    return frozenset(recipe.key for step in steps.steps for recipe in made_by_loader(step).values())


def _is_model_type(annotation: Any) -> bool:
    from .typing_rules import union_members

    return any(isinstance(member, type) and issubclass(member, ModelHandle) for member in union_members(annotation))


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
