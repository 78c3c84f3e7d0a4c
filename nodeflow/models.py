"""Model handles, their recipes, and where a node's models run.

A handle is what flows through the graph: a recipe (the loader node and inputs
that made it) plus, while it is loaded, its module. The module is reached only
through `ctx.models.use(handle)`: the model service (`model_service.py`) owns it,
and moves, offloads or drops it under the memory budgets without any node
changing (a dropped module is made again from its recipe when next used).
"""

from __future__ import annotations

import hashlib
import json
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any, Callable


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

    def part(self, name: str) -> Recipe:
        """The recipe of one handle of the output (see `handles_in`): itself for "", "OUTPUT.part" for a part."""
        return replace(self, output=part_name(self.output, name))

    @property
    def whole(self) -> Recipe:
        """The recipe of the output a part belongs to (itself for a whole output): what dispatch matches."""
        return replace(self, output=self.output.partition(".")[0])

    @property
    def loader_call(self) -> tuple[str, str, str]:
        """The same for every model one loader call makes (an SD folder's text encoder, UNet and VAE)."""
        return self.node_type, self.version, self.inputs_json


@dataclass(eq=False)
class ModelHandle:
    """A loaded model (or tokenizer, or any heavy object) shared by identity.

    `source` says where it came from (folder, hub id, file) for reports; `dtype`
    is the torch dtype the module was loaded in, when it has one; `placement`
    pins the model to a device ("cpu", "cuda") instead of the run's device; a
    bare "cuda" means the GPU of the worker it runs on (see `placed_on`).

    A derived handle (a model with a LoRA applied) has no module of its own:
    it runs the module of `base`, which the model service owns, places, drops
    and reloads, with `applied(module)` entered around each use to make its
    changes (and undo them when the use ends).
    """

    module: Any
    source: str = ""
    dtype: Any = None
    config: dict[str, Any] = field(default_factory=dict)
    placement: str | None = None
    recipe: Recipe | None = None
    base: ModelHandle | None = None
    applied: Callable[[Any], AbstractContextManager[Any]] | None = None

    @property
    def owner(self) -> ModelHandle:
        """The handle whose module this one runs: its base for a derived handle, else itself."""
        return self.base.owner if self.base is not None else self

    @property
    def device(self) -> str:
        module_device = getattr(self.module, "device", None)  # None also when dropped
        return str(module_device) if module_device is not None else "cpu"

    def __nodeflow_nbytes__(self) -> int:
        """The handle's own small values: the output cache keeps handles, and the model service counts modules."""
        from .sizeof import estimate_bytes

        return estimate_bytes([self.source, self.config])


def handles_in(value: Any) -> dict[str, ModelHandle]:
    """The model handles an output value holds, by part name ("" for a handle itself): a composite value (ComfyUI's
    CLIP: tokenizers and text encoders) lists its parts by `__nodeflow_handles__`."""
    if isinstance(value, ModelHandle):
        return {"": value}
    parts = getattr(type(value), "__nodeflow_handles__", None)
    return {} if parts is None else {name: h for name, h in parts(value).items() if isinstance(h, ModelHandle)}


def part_name(output: str, part: str) -> str:
    """The name a recipe gives one handle of an output: the output's own, or "OUTPUT.part" for a composite's part."""
    return f"{output}.{part}" if part else output


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

    return any(isinstance(member, type) and (issubclass(member, ModelHandle) or hasattr(member, "__nodeflow_handles__"))
               for member in union_members(annotation))


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
