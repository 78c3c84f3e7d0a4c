"""`GET /ws?clientId=…[&previews=1]`: live status and execution messages, ComfyUI-style."""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import WSMsgType, web

from .hub import Client
from .keys import HUB, STORE
from .messages import status_message

routes = web.RouteTableDef()
CLOSE_TIMEOUT_SECONDS = 1.0  # a client that never answers our close frame must not hold up shutdown


async def _drain_incoming(ws: web.WebSocketResponse, client: Client) -> None:
    """Clients may send (feature flags, pings); nothing they send changes the stream, but a close ends it."""
    async for message in ws:
        if message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
            break
    client.outbox.put_nowait(None)


@routes.get("/ws")
async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30, timeout=CLOSE_TIMEOUT_SECONDS)
    await ws.prepare(request)
    hub = request.app[HUB]
    sid = request.query.get("clientId") or uuid.uuid4().hex
    client = hub.connect(sid, previews=request.query.get("previews", "") in ("1", "true"))
    kind, data = status_message(request.app[STORE].remaining(), sid)
    reader = asyncio.create_task(_drain_incoming(ws, client))
    try:
        await ws.send_json({"type": kind, "data": data})
        while (frame := await client.outbox.get()) is not None:
            kind, payload = frame
            if kind == "json":
                await ws.send_json(payload)
            else:
                await ws.send_bytes(payload)
    except (ConnectionResetError, RuntimeError):
        pass  # the client went away mid-send
    finally:
        hub.disconnect(client)
        reader.cancel()
        await ws.close()
    return ws
