"""`GET /ws?clientId=…[&previews=1]`: live status and execution messages, ComfyUI-style."""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import WSMsgType, web

from .bodies import dumps
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
    running = hub.executing_for(client.sid)  # taken with the connection: later news arrives in the outbox
    reader = asyncio.create_task(_drain_incoming(ws, client))
    try:
        # `sid` tells the client its id, which is a fresh one when the id it asked for is already connected.
        kind, data = status_message(await asyncio.to_thread(request.app[STORE].remaining), client.sid)
        await ws.send_json({"type": kind, "data": data}, dumps=dumps)
        for message in running:
            await ws.send_json(message, dumps=dumps)
        while (frame := await client.outbox.get()) is not None:
            kind, payload = frame
            if kind == "json":
                await ws.send_json(payload, dumps=dumps)
            else:
                await ws.send_bytes(payload)
    except (ConnectionResetError, RuntimeError):
        pass  # the client went away mid-send
    finally:
        hub.disconnect(client)
        reader.cancel()
        await ws.close()
    return ws
