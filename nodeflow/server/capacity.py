"""How much the server takes on at once: requests and WebSockets in flight, and open file descriptors.

aiohttp bounds header sizes and idle connections (`keepalive_timeout`) but not
how many requests run at once; a flood of slow clients would otherwise hold
every descriptor. Beyond a cap the server answers 503 with `Retry-After` at
once, without reading the body. WebSockets live long, so they have a cap of
their own and do not take the slots of plain requests.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import hdrs, web

from .bodies import json_error
from .config import ServerConfig
from .security import Handler

RETRY_AFTER_SECONDS = "1"


@dataclass(frozen=True)
class Slots:
    semaphore: asyncio.Semaphore
    description: str  # what is full, and the flag that sizes it


class Capacity:
    def __init__(self, config: ServerConfig) -> None:
        self.requests = Slots(asyncio.Semaphore(config.max_concurrent_requests),
                              f"{config.max_concurrent_requests} requests at once (--max-requests)")
        self.websockets = Slots(asyncio.Semaphore(config.max_websockets),
                                f"{config.max_websockets} WebSockets at once (--max-websockets)")

    def slots_for(self, request: web.Request) -> Slots:
        upgrade = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
        return self.websockets if upgrade else self.requests


CAPACITY = web.AppKey("capacity", Capacity)


@web.middleware
async def limit_concurrency(request: web.Request, handler: Handler) -> web.StreamResponse:
    slots = request.app[CAPACITY].slots_for(request)
    if slots.semaphore.locked():
        raise json_error(503, f"the server is busy: it serves at most {slots.description}; retry shortly",
                         headers={"Retry-After": RETRY_AFTER_SECONDS})
    async with slots.semaphore:
        return await handler(request)


def raise_open_file_limit() -> None:
    """Lift the soft limit on open files to the hard one, so that many sockets do not run out of descriptors."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # macOS refuses RLIM_INFINITY as a soft limit: keep what we have
            pass
