"""Middlewares: the host allow-list, the origin allow-list, the access token and (only when configured) CORS.

Any web page the user opens can send requests to 127.0.0.1, and with DNS
rebinding it can do so under a name of its own (`evil.example` resolving to
127.0.0.1), which makes its requests look same-origin. So without a token the
server answers only requests whose `Host` is a name it is known by (loopback,
the bind address, the local address the connection came in on, `--allow-host`),
and 421 to the rest. An `Origin` is accepted only when it is one of those names
on the port this server really listens on (any port for `--allow-host` names,
which sit behind proxies), or an exact `--cors-origin`; it is never trusted for
merely matching `Host`, which the attacker chooses. The local address and port
come from the socket, never from a header, so a LAN user who opens the editor at
the machine's own address is let in while a rebound name is not. `Origin: null`
(sandboxed frames, files) is always refused.

With a token set, every request must carry it: `Authorization: Bearer <token>`,
HTTP basic auth with the token as password (what ComfyUI clients send), or
`?token=` (browsers cannot set headers on a WebSocket). A request that brings it
in the query gets it back as a strict same-site cookie, so that opening the
editor once at `/?token=…` lets its own requests through. The token is what
protects then, so any `Host` is answered (a rebound page has neither the token
nor the cookie); the Origin rule stays the same.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Awaitable, Callable
from urllib.parse import SplitResult, urlsplit

from aiohttp import hdrs, web

from .bodies import json_error
from .keys import CONFIG

TOKEN_COOKIE = "nodeflow_token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Vary": "Origin",
}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NOT_IN_HOSTS = "@/\\?# "


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


def _token_bytes(text: str) -> bytes:
    # Header and argv text may hold undecodable bytes as surrogates; compare them as they came, never crash.
    return text.encode("utf-8", "surrogatepass")


@web.middleware
async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.app[CONFIG].token
    if token is not None and request.method != "OPTIONS":
        given = presented_token(request)
        if given is None or not hmac.compare_digest(_token_bytes(given), _token_bytes(token)):
            raise json_error(401, "a valid token is required", headers={"WWW-Authenticate": 'Bearer realm="nodeflow"'})
    response = await handler(request)
    if token is not None and "token" in request.query and not response.prepared:
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
    return response


def host_name(netloc: str) -> str | None:
    """The lower-case host name of `host[:port]` (IPv6 without brackets); None when it is not one."""
    if any(char in netloc for char in _NOT_IN_HOSTS):
        return None
    try:
        return urlsplit("//" + netloc).hostname
    except ValueError:
        return None


def _local_address(request: web.Request) -> tuple[str | None, int | None]:
    """The address and port this connection really came in on (from the socket, not from a header)."""
    sockname = request.transport.get_extra_info("sockname") if request.transport is not None else None
    if not isinstance(sockname, tuple):
        return None, None
    return str(sockname[0]).lower(), sockname[1]


def _known_names(request: web.Request) -> frozenset[str]:
    """The names this server answers for: the configured ones and the address the client reached it at."""
    address, _ = _local_address(request)
    served = request.app[CONFIG].served_hosts
    return served | {address} if address else served


@web.middleware
async def guard_host(request: web.Request, handler: Handler) -> web.StreamResponse:
    config = request.app[CONFIG]
    host = request.headers.get(hdrs.HOST)
    if config.token is None and host is not None and host_name(host) not in _known_names(request):
        served = ", ".join(sorted(config.served_hosts))
        raise json_error(421, f"this server answers for {served} only, not {host!r}; to serve another name, "
                              "start it with --allow-host NAME (and --token when it is reachable from other machines)")
    return await handler(request)


def _port(origin: SplitResult) -> int | None:
    try:
        return origin.port or _DEFAULT_PORTS.get(origin.scheme)
    except ValueError:
        return None


def _own_origin(request: web.Request, origin: str) -> bool:
    """An origin this server is known by: one of its names on its own port, or on any port for --allow-host."""
    config = request.app[CONFIG]
    parts = urlsplit(origin)
    name = host_name(parts.netloc)
    if parts.scheme not in _DEFAULT_PORTS or name is None:
        return False
    if name in config.allow_host_names:
        return True
    return name in _known_names(request) and _port(parts) == _local_address(request)[1]


@web.middleware
async def guard_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None or (origin != "null" and _own_origin(request, origin)):
        return await handler(request)
    allowed = request.app[CONFIG].cors_origins
    if origin == "null" or ("*" not in allowed and origin not in allowed):
        raise json_error(403, f"requests from pages of {origin} are not allowed (see --cors-origin)")
    if request.method == "OPTIONS":
        response: web.StreamResponse = web.Response(status=204)
    else:
        response = await handler(request)
    response.headers.update({"Access-Control-Allow-Origin": origin, **_CORS_HEADERS})
    return response
