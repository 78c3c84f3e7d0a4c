"""Every `/api/...` answer is JSON: a path or method no route has gets `{"error": ...}`, never aiohttp's text page
(ComfyUI clients parse whatever `/api` returns as JSON)."""

from __future__ import annotations

from typing import Awaitable, Callable

from aiohttp import web

from .bodies import dumps

API_PREFIX = "/api"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


@web.middleware
async def json_api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if not is_api_path(request.path) or exc.content_type == "application/json" or exc.status < 400:
            raise
        kind = "not_found" if exc.status == 404 else "method_not_allowed" if exc.status == 405 else "error"
        message = f"no API route {request.method} {request.path}" if exc.status in (404, 405) else exc.reason
        body = dumps({"error": {"type": kind, "message": message}})
        return web.Response(status=exc.status, text=body, content_type="application/json", headers={
            name: value for name, value in exc.headers.items() if name.lower() == "allow"})
