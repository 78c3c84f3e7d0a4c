"""Middlewares: the access token, the cross-origin guard and (only when configured) CORS.

With a token set, every request must carry it: `Authorization: Bearer <token>`,
HTTP basic auth with the token as password (what ComfyUI clients send), or
`?token=` (browsers cannot set headers on a WebSocket). A request that brings it
in the query gets it back as a strict same-site cookie, so that opening the
editor once at `/?token=…` lets its own requests through. Without CORS configured,
a request from a web page of another origin is refused, so that a site the user
visits cannot queue prompts on their machine.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from .keys import CONFIG

TOKEN_COOKIE = "nodeflow_token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Vary": "Origin",
}


def presented_token(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return None
    return request.query.get("token") or request.cookies.get(TOKEN_COOKIE)


@web.middleware
async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.app[CONFIG].token
    if token is not None and request.method != "OPTIONS":
        given = presented_token(request)
        if given is None or not hmac.compare_digest(given.encode(), token.encode()):
            raise web.HTTPUnauthorized(
                text='{"error": {"type": "unauthorized", "message": "a valid token is required"}}',
                content_type="application/json", headers={"WWW-Authenticate": 'Bearer realm="nodeflow"'},
            )
    response = await handler(request)
    if token is not None and "token" in request.query and not response.prepared:
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
    return response


def _same_origin(origin: str, host: str) -> bool:
    return urlsplit(origin).netloc.lower() == host.lower()


@web.middleware
async def guard_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    if origin is None or _same_origin(origin, request.host):
        return await handler(request)
    allowed = request.app[CONFIG].cors_origins
    if "*" not in allowed and origin not in allowed:
        raise web.HTTPForbidden(text=f"cross-origin requests from {origin} are not allowed")
    if request.method == "OPTIONS":
        response: web.StreamResponse = web.Response(status=204)
    else:
        response = await handler(request)
    response.headers.update({"Access-Control-Allow-Origin": origin, **_CORS_HEADERS})
    return response
