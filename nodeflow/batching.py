"""How several prompts' values of one socket become one batch, and back.

A socket value type that can be batched has a classmethod `stacked(values)`,
which returns one value holding them all along the batch dimension (or None
when these cannot share a batch: other shapes, say), and a method
`unstacked(count)`, which gives the per-prompt values back. A node declared
with `batch=True` gets every linked input of such a type stacked, one row per
prompt (a value the prompts share too), and returns values of such types,
which are unstacked per prompt. The engine knows nothing else of what
a batch is.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .plan import Plan


def stack(values: list[Any]) -> Any | None:
    """One value for all of `values` (each prompt's, in order), or None when they cannot share a batch."""
    kind = type(values[0])
    if not hasattr(kind, "stacked") or any(type(value) is not kind for value in values):
        return None
    return kind.stacked(values)


def unstack(value: Any, count: int) -> list[Any]:
    """The per-prompt values of a stacked output."""
    if not hasattr(value, "unstacked"):
        raise TypeError(f"a batch node returned a {type(value).__name__}, which cannot be unstacked per prompt")
    parts = value.unstacked(count)
    if len(parts) != count:
        raise ValueError(f"unstacking a {type(value).__name__} gave {len(parts)} values for {count} prompts")
    return parts


def batch_key(steps: Plan) -> str | None:
    """What prompts must share to be taken into one batch: the graph (nodes, types, links), the literals of the
    batch nodes but their per-sample ones (seeds), and the pixel-making literals of every node (sizes, batch
    sizes). They may differ in every other
    literal (prompt, negative prompt, seed, scheduler, model); where the values that makes do not stack, the
    batch's run runs those steps per prompt (`batch_run`). None for a workflow without a batch node: batching
    it would gain nothing and keep each prompt waiting for the others' steps."""
    if not any(step.definition.batch for step in steps.steps):
        return None
    shape = [(step.node_id, step.definition.type_id, sorted(step.links.items()),
              sorted((name, value) for name, value in step.literals.items()
                     if (step.definition.batch and name not in step.definition.per_sample)
                     or name in step.definition.pixels))
             for step in steps.steps]
    text = json.dumps(shape, sort_keys=True, default=repr)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
