"""The server log's lines per prompt: one when it is queued, one when its run ends (id, title, seconds, status)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)
UNTITLED = "untitled"
_NAME_CHARS = 80
_STATUS_CHARS = 240


def _one_line(text: str, limit: int) -> str:
    """`text` as one printable line of at most `limit` characters: ids, titles and errors come from clients, and
    a newline in one must not forge a line of the log."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def workflow_title(meta: Any) -> str:
    """The workflow's `meta.title`, else "untitled" (a prompt names no file)."""
    title = meta.get("title") if isinstance(meta, dict) else None
    shown = _one_line(title, _NAME_CHARS) if isinstance(title, str) else ""
    return shown or UNTITLED


def _named(prompt_id: str, meta: Any) -> str:
    return f"prompt {_one_line(prompt_id, _NAME_CHARS)} ({workflow_title(meta)})"


def _failure(error: dict[str, Any]) -> str:
    """failed at node 'id' (type): message; a failure outside the nodes names none."""
    where = f" at node {error['node_id']!r}" if error.get("node_id") else ""
    if where and error.get("node_type"):
        where += f" ({error['node_type']})"
    return f"failed{where}: {error.get('exception_message', '')}"


def _run_status(status: str, messages: list[Any]) -> str:
    """success, interrupted, or failed with the node and the error, from a run's history messages."""
    for kind, data in messages:
        if kind == "execution_interrupted":
            return "interrupted"
        if kind == "execution_error":
            return _failure(data)
    return "success" if status == "success" else "failed"


def queued(prompt_id: str, meta: Any) -> None:
    log.info("got %s", _named(prompt_id, meta))


def ended(prompt_id: str, meta: Any, seconds: float, status: str, messages: list[Any]) -> None:
    shown = _one_line(_run_status(status, messages), _STATUS_CHARS)
    log.info("%s ended in %.2f s: %s", _named(prompt_id, meta), seconds, shown)


def stopped_by_shutdown(prompt_id: str, meta: Any, seconds: float) -> None:
    log.info("%s stopped by the shutdown after %.2f s: it runs again at the next start", _named(prompt_id, meta),
             seconds)


def lost(prompt_id: str, meta: Any, worker: str, attempts: int, requeued: bool) -> None:
    what = "queued again" if requeued else "marked failed, not retried"
    log.warning("%s: the worker %s running it died (attempt %d): %s", _named(prompt_id, meta), worker, attempts,
                what)
