"""The narrow door through which a running node reaches the engine.

A node that declares a parameter annotated `Context` receives one. It offers
progress reporting, interrupt checks, the execution device, the model service,
the allowed folders, and a place to publish UI results (saved images). Nothing
else of the executor is reachable from node code.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from .folders import Folders
from .model_service import ModelAccess


class Interrupted(Exception):
    """Raised inside a node (by `Context.check_interrupt`) when the run was interrupted."""


@dataclass
class Context:
    node_id: str
    node_type: str
    device: str
    models: ModelAccess
    folders: Folders
    _workflow: Callable[[], dict[str, Any]] | None = field(default=None, repr=False)
    _interrupt: threading.Event = field(default_factory=threading.Event, repr=False)
    _on_progress: Callable[[str, int, int, Any], None] | None = field(default=None, repr=False)
    ui: dict[str, list[Any]] = field(default_factory=dict)
    wants_previews: bool = False
    _image_metadata: Callable[[], dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def workflow(self) -> dict[str, Any] | None:
        """The running workflow in format 1."""
        return self._workflow() if self._workflow is not None else None

    @property
    def image_metadata(self) -> dict[str, Any]:
        """Text chunk name → JSON value, for saved images to carry so that editors restore the graph from them:
        `nodeflow` (the workflow, format 1), and ComfyUI's `prompt` (API format) and `workflow` (UI format)."""
        if self._image_metadata is not None:
            return self._image_metadata()
        return {} if self._workflow is None else {"nodeflow": self._workflow()}

    def progress(self, value: int, total: int, preview: Any = None) -> None:
        """Report `value` of `total` steps done; `preview` is an optional image for live previews,
        worth computing only when `wants_previews` says someone is watching."""
        if self._on_progress is not None:
            self._on_progress(self.node_id, value, total, preview)

    def is_interrupted(self) -> bool:
        return self._interrupt.is_set()

    def check_interrupt(self) -> None:
        """Stop here if the run was interrupted; call between the steps of long work."""
        if self._interrupt.is_set():
            raise Interrupted(f"interrupted in node {self.node_id} ({self.node_type})")

    def warn(self, message: str) -> None:
        """Tell the user something went differently than asked (shown by the CLI, sent with the node's results)."""
        self.show(warnings=[message])

    def show(self, **ui: list[Any]) -> None:
        """Publish UI results of this node, e.g. `images=[{"filename", "subfolder", "type"}]`."""
        for key, values in ui.items():
            self.ui.setdefault(key, []).extend(values)
