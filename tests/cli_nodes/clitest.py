"""Nodes for the command-line tests, loaded with `--nodes-dir tests/cli_nodes`: a node that waits to be
interrupted, and one that talks as diffusers and transformers do."""

from __future__ import annotations

import logging
import time
import warnings
from typing import Annotated

from pydantic import Field

from nodeflow import Context, node

LIBRARY_WARNING = "`OldThing` is deprecated and will be removed in version 9.0.0"
LIBRARY_LOG = "some weights of the model were not used"


@node("clitest.wait", category="test", output_node=True)
def wait(ctx: Context, seconds: Annotated[float, Field(ge=0.0, le=60.0)] = 30.0, honour_interrupt: bool = True) -> None:
    """Writes `started` into the output folder, then waits `seconds`, checking for interrupts unless told not to."""
    ctx.folders.output.mkdir(parents=True, exist_ok=True)
    (ctx.folders.output / "started").write_text("")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if honour_interrupt:
            ctx.check_interrupt()
        time.sleep(0.01)


@node("clitest.library_chatter", category="test", output_node=True)
def library_chatter() -> None:
    """A FutureWarning as diffusers' modules raise them, and a log warning on a transformers logger."""
    warnings.warn_explicit(LIBRARY_WARNING, FutureWarning, "diffusers/models/old_thing.py", 1,
                           module="diffusers.models.old_thing")
    logging.getLogger("transformers.modeling_utils").warning(LIBRARY_LOG)

