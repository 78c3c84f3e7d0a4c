"""The model service: one per worker, it owns the modules of the models that worker's loaders made.

It knows each model's bytes, where it is, when it was last used and whether a node is using it, and keeps
the models within the worker's budgets (`budgets.py`):

- A model that must come onto the GPU and does not fit: models not in use leave the GPU for the CPU, least
  recently used first.
- Past the RAM budget (a model moved to the CPU, a loader just made one, one is about to be made again):
  models not in use on the CPU are dropped, least recently used first (`handle.module = None`). A dropped
  model is made again from its recipe (its loader node run again) when a node next uses it.
- A model bigger than the whole VRAM budget runs with its weights on the CPU and its layers brought onto the
  GPU as they run (diffusers' group offloading, `offload.py`); a warning says so.

Models in use are never moved or dropped: when they alone exceed a budget, the budget is exceeded, by at
most the models one node uses at once. Models are held weakly: a handle nobody holds any more (its loader's
output left the output cache) takes its module with it.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import weakref
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .models import ModelHandle, Recipe, same_device
from .offload import group_offload
from .sizeof import estimate_bytes

log = logging.getLogger(__name__)

# A loader run again for a recipe: the modules of its model outputs, by output name.
Reload = Callable[[Recipe], dict[str, Any]]
# Hooks that run a module on a device while its weights stay on the CPU.
Offload = Callable[[Any, str], None]
Warn = Callable[[str], None]


@dataclass
class ModelState:
    """What the service knows of one model besides its handle."""

    nbytes: int = 0
    in_use: int = 0
    last_used: float = field(default_factory=time.monotonic)
    offloaded: bool = False


class ModelService:
    """Owns the modules of the models a worker loaded (see the module's docstring); `vram_budget` and
    `ram_budget` are bytes of models, None for no limit. `loads` counts the modules loaders made."""

    def __init__(self, reload: Reload | None = None, vram_budget: int | None = None, ram_budget: int | None = None,
                 offload: Offload = group_offload) -> None:
        self._lock = threading.RLock()
        self._reload = reload
        self._offload = offload
        self.vram_budget, self.ram_budget = vram_budget, ram_budget
        self._models: weakref.WeakKeyDictionary[ModelHandle, ModelState] = weakref.WeakKeyDictionary()
        self.loads = 0

    def on(self, device: str, interrupt: threading.Event | None = None, warn: Warn | None = None) -> ModelAccess:
        """The view a node running on `device` gets as `ctx.models`; `interrupt` is its run's interrupt flag,
        `warn` tells its user something went differently than asked."""
        return ModelAccess(self, device, interrupt, warn)

    def adopt(self, handle: ModelHandle, recipe: Recipe) -> None:
        """Take ownership of a handle a loader node just made, then keep to the RAM budget (loaders load on the
        CPU), dropping models of other loader calls only."""
        with self._lock:
            handle.recipe = handle.recipe or recipe
            if handle in self._models:
                return
            self._models[handle] = ModelState(estimate_bytes(handle.module))
            self.loads += 1
            self._fit_ram(0, keep=self._made_with(handle))

    @contextmanager
    def use(self, handle: ModelHandle, device: str, interrupt: threading.Event | None = None,
            warn: Warn | None = None) -> Iterator[Any]:
        """The handle's module (a derived handle's: its base's, with its changes applied), made again if it was
        dropped and moved to `device`, for the duration of the block; once `interrupt` is set, a call of a torch module in it raises Interrupted at its next submodule
        that has submodules."""
        changes, handle = handle.applied, handle.owner
        with self._lock:
            state = self._models.get(handle)
            if state is None:
                state = self._models[handle] = ModelState(estimate_bytes(handle.module))
            if handle.module is None:
                self._make_again(handle)
            self._place(handle, state, device, warn)
            state.in_use += 1
            module = handle.module
        try:
            with _stopping_on(interrupt, module), (changes(module) if changes else nullcontext(module)):
                yield module
        finally:
            with self._lock:
                state.in_use -= 1
                state.last_used = time.monotonic()

    def unload(self) -> int:
        """Drop the module of every model not in use now (it is made again when next used); how many were."""
        with self._lock:
            idle = [handle for handle, _ in self._idle(on_gpu=None, keep=())]
            for handle in idle:
                self._drop(handle)
            return len(idle)

    def loaded(self) -> list[dict[str, Any]]:
        """Each model the service owns: recipe key, source, whether loaded, device, bytes, in use."""
        with self._lock:
            return [{"key": handle.recipe.key if handle.recipe else "", "source": handle.source,
                     "loaded": handle.module is not None,
                     "device": handle.device if handle.module is not None else None,
                     "bytes": state.nbytes, "in_use": state.in_use > 0} for handle, state in self._models.items()]

    def recipe_keys(self) -> frozenset[str]:
        """The recipes of the models loaded now (what dispatch prefers to send this worker)."""
        with self._lock:
            return frozenset(h.recipe.whole.key for h in self._models if h.recipe is not None and h.module is not None)

    def budgets(self) -> dict[str, int | None]:
        """The budgets (bytes, None for no limit) and the bytes of models held against each now."""
        with self._lock:
            return {"vram": self.vram_budget, "ram": self.ram_budget,
                    "vram_used": self._used(on_gpu=True), "ram_used": self._used(on_gpu=False)}

    def _made_with(self, handle: ModelHandle) -> set[ModelHandle]:
        """The models the loader call that made `handle` made (itself included)."""
        call = handle.recipe.loader_call if handle.recipe else None
        return {h for h in self._models if h is handle or (h.recipe is not None and h.recipe.loader_call == call)}

    def _make_again(self, handle: ModelHandle) -> None:
        """Run the loader of a dropped model again; it also refills the other dropped models of that call."""
        if handle.recipe is None or self._reload is None:
            raise RuntimeError(f"model {handle.source!r} was dropped and has no recipe to load it again")
        made_with = self._made_with(handle)
        dropped = [h for h in made_with if h.module is None]
        self._fit_ram(sum(self._models[h].nbytes for h in dropped), keep=made_with)
        modules = self._reload(handle.recipe)
        for sibling in dropped:
            if sibling.recipe is not None and sibling.recipe.output in modules:
                sibling.module = modules[sibling.recipe.output]
                self._models[sibling] = ModelState(estimate_bytes(sibling.module))
                self.loads += 1
        self._fit_ram(0, keep=made_with)

    def _place(self, handle: ModelHandle, state: ModelState, device: str, warn: Warn | None) -> None:
        module = handle.module
        if state.offloaded or not hasattr(module, "to") or same_device(handle.device, device):
            return
        if _is_cpu(device):
            self._fit_ram(state.nbytes, keep={handle})
        elif self.vram_budget is not None and state.nbytes > self.vram_budget:
            self._offload_whole(handle, state, device, warn)
            return
        else:
            self._fit_vram(handle, state.nbytes)
        module.to(device)

    def _offload_whole(self, handle: ModelHandle, state: ModelState, device: str, warn: Warn | None) -> None:
        message = (f"model {handle.source!r} ({_mib(state.nbytes)}) is bigger than the whole VRAM budget "
                   f"({_mib(self.vram_budget or 0)}): it runs with its weights on the CPU, brought onto {device} "
                   "layer by layer as it runs (slower); raise --vram-budget or load it in a smaller dtype")
        log.warning(message)
        if warn is not None:
            warn(message)
        self._offload(handle.module, device)
        state.offloaded = True

    def _fit_vram(self, incoming: ModelHandle, nbytes: int) -> None:
        """Move idle models off the GPU, least recently used first, until `incoming` (`nbytes`, on the CPU now)
        fits its budget; one that finds no room in the RAM budget, counting the room `incoming` leaves there, is
        dropped instead."""
        if self.vram_budget is None:
            return
        for victim, state in self._idle(on_gpu=True, keep={incoming}):
            if self._used(on_gpu=True) + nbytes <= self.vram_budget:
                return
            if victim.recipe is not None and not self._fit_ram(state.nbytes - nbytes, keep={victim, incoming}):
                self._drop(victim)
            else:
                victim.module.to("cpu")

    def _fit_ram(self, nbytes: int, keep: set[ModelHandle]) -> bool:
        """Drop idle models on the CPU, least recently used first, until `nbytes` more fit the RAM budget;
        whether they do."""
        if self.ram_budget is None:
            return True
        for victim, _ in self._idle(on_gpu=False, keep=keep):
            if self._used(on_gpu=False) + nbytes <= self.ram_budget:
                break
            self._drop(victim)
        return self._used(on_gpu=False) + nbytes <= self.ram_budget

    def _idle(self, on_gpu: bool | None, keep: Any) -> list[tuple[ModelHandle, ModelState]]:
        """Loaded models not in use and not in `keep`, on the GPU (True), on the CPU and droppable (False), or
        droppable anywhere (None); least recently used first."""
        idle = [(handle, state) for handle, state in self._models.items()
                if handle.module is not None and state.in_use == 0 and handle not in keep
                and (on_gpu is True or handle.recipe is not None)
                and (on_gpu is None or self._on_gpu(handle, state) == on_gpu)]
        return sorted(idle, key=lambda pair: pair[1].last_used)

    def _used(self, on_gpu: bool) -> int:
        return sum(state.nbytes for handle, state in self._models.items()
                   if handle.module is not None and self._on_gpu(handle, state) == on_gpu)

    @staticmethod
    def _on_gpu(handle: ModelHandle, state: ModelState) -> bool:
        """Whether a loaded model's weights take device memory (an offloaded one keeps them on the CPU)."""
        return not state.offloaded and not _is_cpu(handle.device)

    def _drop(self, handle: ModelHandle) -> None:
        handle.module = None
        self._models[handle].offloaded = False


def _is_cpu(device: str) -> bool:
    return str(device).partition(":")[0] == "cpu"


def _mib(nbytes: int) -> str:
    return f"{nbytes / 2**20:,.0f} MiB"


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
    warn: Warn | None = None

    def use(self, handle: ModelHandle) -> Any:
        return self.service.use(handle, self.device, self.interrupt, self.warn)
