"""Small pure-Python nodes for the server tests: counted steps, a deliberate failure, a PNG writer, a crash.

Loaded with `--nodes-dir tests/server_nodes` by a real `nodeflow serve`, or
registered directly in a test Registry for aiohttp's test client.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from nodeflow import Context, node


@dataclass(eq=False)
class Tally:
    """A number produced by counting steps."""

    value: int


@node("servertest.count", category="test")
def count(ctx: Context, seed: int = 0, steps: Annotated[int, Field(ge=1, le=10_000)] = 3,
          delay: Annotated[float, Field(ge=0.0, le=5.0)] = 0.0, preview: bool = False, warn: str = "") -> Tally:
    """Counts `steps` steps, reporting progress (with a grey preview image when `preview`) and honouring
    interrupts; `delay` seconds per step; `warn` is passed on as a node warning."""
    if warn:
        ctx.warn(warn)
    from PIL import Image

    for step in range(1, steps + 1):
        ctx.check_interrupt()
        if delay:
            time.sleep(delay)
        ctx.progress(step, steps, Image.new("L", (4, 4), step) if preview else None)
    return Tally(seed * 1000 + steps)


@node("servertest.fail", category="test")
def fail(tally: Tally, message: str = "boom") -> Tally:
    """Always raises RuntimeError(message)."""
    raise RuntimeError(message)


@node("servertest.die", category="test")
def die(tally: Tally) -> Tally:
    """Kills its own process at once (SIGKILL), as the kernel's out-of-memory killer would: only for the
    tests of workers in processes of their own (Ray actors)."""
    os.kill(os.getpid(), signal.SIGKILL)
    return tally


@node("servertest.save_png", category="test", output_node=True)
def save_png(ctx: Context, tally: Tally, size: Annotated[int, Field(ge=1, le=256)] = 8, prefix: str = "test") -> None:
    """Writes a size×size PNG whose colour encodes the tally, and shows it."""
    from PIL import Image

    value = tally.value
    color = (value % 256, (value // 256) % 256, (value // 65536) % 256)
    name = f"{prefix}_{value}_{uuid.uuid4().hex[:8]}.png"
    path = ctx.folders.inside("output", name)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), color).save(path)
    ctx.show(images=[{"filename": name, "subfolder": "", "type": "output"}])
