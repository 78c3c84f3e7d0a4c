"""Nodes for the command-line tests, loaded with `--nodes-dir tests/cli_nodes`: one that talks as diffusers and
transformers do."""

from __future__ import annotations

import logging
import warnings

from nodeflow import node

LIBRARY_WARNING = "`OldThing` is deprecated and will be removed in version 9.0.0"
LIBRARY_LOG = "some weights of the model were not used"


@node("clitest.library_chatter", category="test", output_node=True)
def library_chatter() -> None:
    """A FutureWarning as diffusers' modules raise them, and a log warning on a transformers logger."""
    warnings.warn_explicit(LIBRARY_WARNING, FutureWarning, "diffusers/models/old_thing.py", 1,
                           module="diffusers.models.old_thing")
    logging.getLogger("transformers.modeling_utils").warning(LIBRARY_LOG)

