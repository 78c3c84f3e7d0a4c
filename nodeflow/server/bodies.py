"""Reading request bodies within their limits, and JSON error responses."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .keys import CONFIG


def json_error(status: int, message: str, **extra: Any) -> web.HTTPException:
    """An HTTP error whose body is `{"error": {"message": ...}, ...}`, to raise from a handler."""
    body = json.dumps({"error": {"type": web.HTTPException.__name__ if status >= 500 else "bad_request",
                                 "message": message}, **extra})
    cls = {400: web.HTTPBadRequest, 403: web.HTTPForbidden, 404: web.HTTPNotFound, 409: web.HTTPConflict,
           413: web.HTTPRequestEntityTooLarge}.get(status)
    if cls is web.HTTPRequestEntityTooLarge:
        return web.HTTPRequestEntityTooLarge(max_size=0, actual_size=0, text=body, content_type="application/json")
    if cls is None:
        return web.HTTPInternalServerError(text=body, content_type="application/json")
    return cls(text=body, content_type="application/json")


async def read_json(request: web.Request, default: Any = None) -> Any:
    """The request's JSON body (or `default` when empty); 413 past the body limit, 400 when not JSON."""
    limit = int(request.app[CONFIG].max_body_mb * 2**20)
    if request.content_length is not None and request.content_length > limit:
        raise json_error(413, f"request body is larger than the limit of {limit} bytes")
    raw = await request.read()
    if len(raw) > limit:
        raise json_error(413, f"request body is larger than the limit of {limit} bytes")
    if not raw.strip():
        return default
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise json_error(400, f"body is not valid JSON: {exc}") from exc
