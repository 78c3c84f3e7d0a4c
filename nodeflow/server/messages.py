"""Run events → ComfyUI's WebSocket messages, for one prompt.

Clients rely on these shapes: `executing` with `node: null` ends a prompt,
`executed.output` holds the node's UI results (images as view descriptors),
`execution_error` names node, type, message and traceback.
"""

from __future__ import annotations

import io
import struct
import time
from typing import Any

from ..events import Event, NodeFailed, NodeFinished, NodeProgress, NodesCached, NodeStarted, RunFinished, RunInterrupted, RunStarted

Message = tuple[str, dict[str, Any]]
PREVIEW_IMAGE, JPEG = 1, 1
# Kept in the history's `status.messages`, as ComfyUI does.
HISTORY_TYPES = {"execution_start", "execution_cached", "execution_success", "execution_error", "execution_interrupted"}


def _now_ms() -> int:
    return int(time.time() * 1000)


class PromptMessages:
    """Turns the events of one run into messages, remembering what ran for error reports."""

    def __init__(self, prompt_id: str) -> None:
        self.prompt_id = prompt_id
        self.executed: list[str] = []
        self.history: list[list[Any]] = []

    def _message(self, kind: str, **data: Any) -> Message:
        data["prompt_id"] = self.prompt_id
        if kind in HISTORY_TYPES:
            data["timestamp"] = _now_ms()
            self.history.append([kind, data])
        return kind, data

    def of(self, event: Event) -> list[Message]:
        if isinstance(event, RunStarted):
            return [self._message("execution_start")]
        if isinstance(event, NodesCached):
            self.executed += event.node_ids
            return [self._message("execution_cached", nodes=list(event.node_ids))]
        if isinstance(event, NodeStarted):
            return [self._message("executing", node=event.node_id, display_node=event.node_id)]
        if isinstance(event, NodeProgress):
            return [self._message("progress", value=event.value, max=event.total, node=event.node_id)]
        if isinstance(event, NodeFinished):
            if not event.cached:
                self.executed.append(event.node_id)
            if not event.ui:
                return []
            return [self._message("executed", node=event.node_id, display_node=event.node_id, output=event.ui)]
        if isinstance(event, NodeFailed):
            return [self.error(event.failure.node_id, event.failure.node_type, event.failure.message,
                               event.failure.exception_type, event.failure.traceback, event.failure.inputs)]
        if isinstance(event, RunInterrupted):
            return [self._message("execution_interrupted", node_id=event.node_id, node_type=event.node_type,
                                  executed=list(self.executed))]
        if isinstance(event, RunFinished) and event.report.ok:
            return [self._message("execution_success")]
        return []

    def error(self, node_id: str | None, node_type: str | None, message: str, exception_type: str,
              traceback: str, inputs: dict[str, Any] | None = None) -> Message:
        return self._message(
            "execution_error", node_id=node_id, node_type=node_type, executed=list(self.executed),
            exception_message=message, exception_type=exception_type,
            traceback=traceback.splitlines(keepends=True), current_inputs=inputs or {}, current_outputs={},
        )

    def end(self) -> Message:
        """The message that tells clients this prompt is over, whatever its outcome."""
        return self._message("executing", node=None, display_node=None)


def status_message(queue_remaining: int, sid: str | None = None) -> Message:
    data: dict[str, Any] = {"status": {"exec_info": {"queue_remaining": queue_remaining}}}
    if sid is not None:
        data["sid"] = sid
    return "status", data


def preview_jpeg(preview: Any) -> bytes | None:
    """A preview (JPEG bytes already, or a PIL image) as JPEG bytes, or None for what cannot be shown."""
    if isinstance(preview, (bytes, bytearray)):
        return bytes(preview)
    if hasattr(preview, "save") and hasattr(preview, "convert"):
        buffer = io.BytesIO()
        preview.convert("RGB").save(buffer, format="JPEG", quality=85)
        return buffer.getvalue()
    return None


def preview_frame(preview: Any) -> bytes | None:
    """ComfyUI's binary preview frame (event type, image format, JPEG bytes), or None for what cannot be shown."""
    payload = preview_jpeg(preview)
    return None if payload is None else struct.pack(">II", PREVIEW_IMAGE, JPEG) + payload
