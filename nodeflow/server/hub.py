"""WebSocket clients and the thread-safe fan-out of messages to them.

Workers publish from their own threads; every message is handed to the event
loop with `call_soon_threadsafe` and queued per client, so each client gets its
messages in the order they were published. A message for a client id goes to
that client only (ComfyUI's rule); one without goes to everyone. A client id
is held by the first socket that connects with it: a second socket asking for
the same id gets a fresh one, so that it cannot take over another's messages.

The hub remembers the last `executing` message of each running prompt, so that
a client that connects mid-run (a reload, a reconnect) is told at once which
node runs, as far as it may see that prompt.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from .messages import Message, status_message

Frame = tuple[str, Any]  # ("json", {...}) or ("bytes", b"...")


@dataclass(eq=False)
class Client:
    sid: str
    previews: bool
    outbox: asyncio.Queue[Frame | None] = field(default_factory=asyncio.Queue)


class Hub:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: dict[str, Client] = {}
        self._executing: dict[str, tuple[str | None, dict[str, Any]]] = {}  # prompt id → (its client, message)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def connect(self, sid: str, previews: bool) -> Client:
        """A client under `sid`, or under a fresh id when `sid` is already connected (its `sid` says which)."""
        if sid in self._clients:
            sid = uuid.uuid4().hex
        client = self._clients[sid] = Client(sid, previews)
        return client

    def disconnect(self, client: Client) -> None:
        if self._clients.get(client.sid) is client:
            del self._clients[client.sid]

    def close_all(self) -> None:
        for client in list(self._clients.values()):
            client.outbox.put_nowait(None)
        self._clients.clear()

    # Thread-safe publishing (called from worker threads and handlers alike).

    def send(self, message: Message, sid: str | None = None) -> None:
        kind, data = message
        self._post(("json", {"type": kind, "data": data}), sid, previews_only=False)

    def send_preview(self, frame: bytes, sid: str | None = None) -> None:
        self._post(("bytes", frame), sid, previews_only=True)

    def status(self, queue_remaining: int) -> None:
        self.send(status_message(queue_remaining))

    def wants_previews(self, sid: str | None) -> bool:
        clients = list(self._clients.values()) if sid is None else [self._clients.get(sid)]
        return any(c is not None and c.previews for c in clients)

    def _post(self, frame: Frame, sid: str | None, previews_only: bool) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fan_out, frame, sid, previews_only)

    def executing_for(self, sid: str) -> list[dict[str, Any]]:
        """The `executing` messages of the prompts running now that the client `sid` may see."""
        return [message for owner, message in self._executing.values() if owner is None or owner == sid]

    def _remember_executing(self, message: dict[str, Any], sid: str | None) -> None:
        prompt_id = message["data"].get("prompt_id")
        if message["data"].get("node") is None:  # the end of the prompt
            self._executing.pop(prompt_id, None)
        else:
            self._executing[prompt_id] = (sid, message)

    def _fan_out(self, frame: Frame, sid: str | None, previews_only: bool) -> None:
        kind, payload = frame
        if kind == "json" and payload["type"] == "executing":
            self._remember_executing(payload, sid)
        targets = list(self._clients.values()) if sid is None else [self._clients.get(sid)]
        for client in targets:
            if client is not None and (client.previews or not previews_only):
                client.outbox.put_nowait(frame)
