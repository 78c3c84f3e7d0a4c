"""Request bodies read within their limits (size, time, depth, strict JSON), and JSON responses and errors.

JSON is strict both ways: `NaN` and `Infinity` are not JSON, and a browser's
`JSON.parse` fails on the whole page when one slips through. A request that
holds one is refused; a response never writes one (a non-finite float the
server produced itself, say a node's reported metric, is written as `null`,
as `JSON.stringify` does).
"""

from __future__ import annotations

import asyncio
import json
import math
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable

from aiohttp import web

from .keys import CONFIG

MAX_JSON_DEPTH = 64
MAX_QUERY_COUNT = 2**31 - 1

_ERRORS: dict[int, tuple[str, Callable[..., web.HTTPException]]] = {
    400: ("bad_request", web.HTTPBadRequest),
    401: ("unauthorized", web.HTTPUnauthorized),
    403: ("forbidden", web.HTTPForbidden),
    404: ("not_found", web.HTTPNotFound),
    408: ("timeout", web.HTTPRequestTimeout),
    409: ("conflict", web.HTTPConflict),
    413: ("too_large", lambda **kw: web.HTTPRequestEntityTooLarge(max_size=0, actual_size=0, **kw)),
    421: ("misdirected", web.HTTPMisdirectedRequest),
    422: ("unprocessable", web.HTTPUnprocessableEntity),
    503: ("busy", web.HTTPServiceUnavailable),
}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def dumps(value: Any) -> str:
    """Strict JSON text of `value`: non-finite floats become `null`, never bare `NaN`."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


def json_error(status: int, message: str, headers: dict[str, str] | None = None,
               error_fields: dict[str, Any] | None = None, **extra: Any) -> web.HTTPException:
    """An HTTP error with the body `{"error": {"type", "message", **error_fields}, **extra}`, for a handler to
    raise (`error_fields` may name a more precise `type`)."""
    kind, make = _ERRORS[status]
    error = {"type": kind, "message": message, **(error_fields or {})}
    return make(text=dumps({"error": error, **extra}), content_type="application/json", headers=headers)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def loads_strict(text: str | bytes, what: str = "body") -> Any:
    """Parse strict JSON; ValueError naming the problem (NaN/Infinity, nesting, huge integers, syntax)."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply (more than {MAX_JSON_DEPTH} levels)") from None
    except ValueError as exc:  # syntax, NaN/Infinity, an integer past Python's 4300 digits, bad UTF-8
        raise ValueError(f"{what} is not valid JSON: {exc}") from None
    if (depth := _depth(value)) > MAX_JSON_DEPTH:
        raise ValueError(f"{what} is nested {depth} levels deep, more than the limit of {MAX_JSON_DEPTH}")
    return value


@asynccontextmanager
async def body_deadline(request: web.Request) -> AsyncIterator[None]:
    """Bound the time a client may take to send its body: 408 (and the connection closed) past it."""
    seconds = request.app[CONFIG].body_timeout_s
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        error = json_error(408, f"the request body did not arrive within {seconds:g} s (--body-timeout)")
        error.force_close()
        raise error from None


async def read_body(request: web.Request) -> bytes:
    """The request's body as it came; 413 past the body limit, 408 past the body timeout."""
    limit = int(request.app[CONFIG].max_body_mb * 2**20)
    if request.content_length is not None and request.content_length > limit:
        raise json_error(413, f"request body is larger than the limit of {limit} bytes")
    async with body_deadline(request):
        raw = await request.read()
    if len(raw) > limit:
        raise json_error(413, f"request body is larger than the limit of {limit} bytes")
    return raw


async def read_json(request: web.Request, default: Any = None) -> Any:
    """The request's JSON body (or `default` when empty); 413 past the body limit, 400 when not strict JSON."""
    raw = await read_body(request)
    if not raw.strip():
        return default
    try:
        return loads_strict(raw)
    except ValueError as exc:
        raise json_error(400, str(exc)) from None


async def read_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body (`{}` when empty); 400 for anything else."""
    body = await read_json(request, default={})
    if not isinstance(body, dict):
        raise json_error(400, "body must be a JSON object")
    return body


def query_count(request: web.Request, name: str, default: int) -> int:
    """The non-negative integer query parameter `name` (`default` when absent or empty); 400 for anything else."""
    text = request.query.get(name)
    if text is None or text == "":
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_QUERY_COUNT):
        raise json_error(400, f"{name} must be an integer from 0 to {MAX_QUERY_COUNT}, not {text[:40]!r}")
    return int(text)
