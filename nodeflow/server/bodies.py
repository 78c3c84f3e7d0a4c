"""Reading request bodies within their limits, and JSON error responses."""

from __future__ import annotations

import json
from typing import Any, Callable

from aiohttp import web

from .keys import CONFIG


_ERRORS: dict[int, tuple[str, Callable[..., web.HTTPException]]] = {
    400: ("bad_request", web.HTTPBadRequest),
    403: ("forbidden", web.HTTPForbidden),
    404: ("not_found", web.HTTPNotFound),
    409: ("conflict", web.HTTPConflict),
    413: ("too_large", lambda **kw: web.HTTPRequestEntityTooLarge(max_size=0, actual_size=0, **kw)),
}


def json_error(status: int, message: str, **extra: Any) -> web.HTTPException:
    """An HTTP error with the body `{"error": {"type", "message"}, **extra}`, for a handler to raise."""
    kind, make = _ERRORS[status]
    return make(text=json.dumps({"error": {"type": kind, "message": message}, **extra}), content_type="application/json")


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


async def read_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body (`{}` when empty); 400 for anything else."""
    body = await read_json(request, default={})
    if not isinstance(body, dict):
        raise json_error(400, "body must be a JSON object")
    return body
