"""Test nodes for the server's model state: a loader of a small stand-in model and a node that uses it.

Loaded with `--nodes-dir tests/server_nodes` by a real `nodeflow serve`, or
registered directly in a test Registry for aiohttp's test client.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from nodeflow import Context, ModelHandle, node


class Blob(ModelHandle):
    """A stand-in model: its module is a bytearray of the asked size, on the CPU."""


@node("statetest.load_blob", category="test", output="blob")
def load_blob(name: str = "blob", megabytes: Annotated[int, Field(ge=1, le=64)] = 1) -> Blob:
    """Makes a model of `megabytes` MB named `name`."""
    return Blob(bytearray(megabytes * 1_000_000), source=name)


@node("statetest.use_blob", category="test", output_node=True)
def use_blob(ctx: Context, blob: Blob, seed: int = 0) -> None:
    """Reads the model through the model service and shows its size (`seed` only makes a run new)."""
    with ctx.models.use(blob) as module:
        ctx.show(sizes=[len(module)])
