"""Toy model families for the dispatch tests and bench: a loader that takes a while and a node that uses the model.

Each worker's model service lists the models its loaders made (`source` is
`family:NAME`), which is how a test counts the loads of each family.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from nodeflow import Context, ModelHandle, node

Seconds = Annotated[float, Field(ge=0.0, le=5.0)]


@dataclass(eq=False)
class FamilyModel(ModelHandle):
    """A toy model of one family; its module is the family's name."""


@node("family.load", category="test", output="model")
def load(family: str = "A", seconds: Seconds = 0.0, megabytes: Annotated[float, Field(ge=0.0, le=64.0)] = 0.0
         ) -> FamilyModel:
    """Loads the model of `family` (`megabytes` of weights), taking `seconds`."""
    time.sleep(seconds)
    return FamilyModel(bytearray(int(megabytes * 1e6)), source=f"family:{family}")


@node("family.use", category="test", output_node=True)
def use(ctx: Context, model: FamilyModel, seed: int = 0, seconds: Seconds = 0.0) -> None:
    """Uses the model for `seconds` (`seed` only makes each prompt a new run)."""
    with ctx.models.use(model):
        time.sleep(seconds)


def family_workflow(family: str, seed: int, use_seconds: float = 0.0, load_seconds: float = 0.0,
                    megabytes: float = 0.0) -> dict:
    """load(family) → use: one prompt of that family."""
    return {"nodeflow": 1, "nodes": {
        "load": {"type": "family.load", "inputs": {"family": family, "seconds": load_seconds, "megabytes": megabytes}},
        "use": {"type": "family.use", "inputs": {"model": {"node": "load", "output": "model"}, "seed": seed,
                                                 "seconds": use_seconds}},
    }}
