"""The guard against nodes that change an input value in place.

Outputs are cached and passed on by reference, so a node that changed a tensor it was given would change the
cached value under every later run. torch counts in-place operations on every tensor (`_version`, shared by a
tensor and its views); the executor records the counters of the tensors among a node's linked inputs before it
runs and compares them after. No copy, no hash: a walk over the inputs, like the cache's size estimate.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, Iterable, Iterator

from .models import ModelHandle

# Values reach their tensors through a few containers (a NamedTuple of dataclasses of tensors); deeper is
# not walked.
_DEPTH = 3


class InputChangedInPlace(RuntimeError):
    """A node changed a tensor among its inputs instead of making a new one."""


class InputVersions:
    """The version counters of the tensors among a node's inputs, taken before it runs."""

    def __init__(self, inputs: dict[str, Any]) -> None:
        torch = sys.modules.get("torch")  # without torch imported there are no tensors to watch
        self._seen = [] if torch is None else [
            (name, tensor, tensor._version)
            for name, value in inputs.items() for tensor in tensors_in(value, torch.Tensor)
            if not tensor.is_inference()  # inference tensors keep no counter (and refuse in-place changes)
        ]

    def changed(self) -> dict[str, list[Any]]:
        """Input name → its tensors whose counter moved since."""
        changed: dict[str, list[Any]] = {}
        for name, tensor, version in self._seen:
            if tensor._version != version:
                changed.setdefault(name, []).append(tensor)
        return changed


def changed_in_place(node_id: str, node_type: str, names: Iterable[str]) -> InputChangedInPlace:
    inputs = ", ".join(repr(name) for name in names)
    return InputChangedInPlace(
        f"node {node_id!r} ({node_type}) changed its input {inputs} in place; copy it first (x = x.clone()). "
        "The changed value was dropped from the cache, and the nodes that read it in this run were skipped"
    )


def holding(outputs: dict[str, dict[str, Any]], changed: dict[str, list[Any]]) -> list[str]:
    """The nodes among `outputs` (node id → outputs) with one of the `changed` tensors in their outputs."""
    torch = sys.modules["torch"]
    wanted = {id(tensor) for tensors in changed.values() for tensor in tensors}
    return [node_id for node_id, values in outputs.items()
            if any(id(tensor) in wanted for tensor in tensors_in(values, torch.Tensor, _DEPTH + 1))]


def tensors_in(value: Any, tensor_class: type, depth: int = _DEPTH) -> Iterator[Any]:
    """The tensors in `value`: itself, or in its dataclass fields, tuple, list and dict items, `depth` levels
    down. Model handles are not walked: their modules belong to the model service, which moves them."""
    if isinstance(value, tensor_class):
        yield value
        return
    if depth == 0 or isinstance(value, (ModelHandle, str, bytes, int, float)) or value is None:
        return
    if isinstance(value, dict):
        children: Iterable[Any] = value.values()
    elif isinstance(value, (list, tuple)):
        children = value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        children = (getattr(value, field.name) for field in dataclasses.fields(value))
    else:
        return
    for child in children:
        yield from tensors_in(child, tensor_class, depth - 1)
