"""`/settings`: the ComfyUI frontend's settings, one JSON object in `USER_DIR/default/comfy.settings.json`.

Writes are read-modify-write under one lock, so that two settings saved at
once both land.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from .bodies import dumps, json_error, json_response, loads_strict, read_json, read_object
from .keys import CONFIG
from .userdata import write_atomically

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
SETTINGS_FILE = "comfy.settings.json"
SETTINGS_LOCK = web.AppKey("settings_lock", asyncio.Lock)
_NO_BODY = object()  # an empty body; `null` is a value a setting may take


def _settings_path(request: web.Request) -> Path:
    return request.app[CONFIG].userdata_dir / SETTINGS_FILE


def read_settings(path: Path) -> dict[str, Any]:
    """The settings saved at `path`; none when there is no file, or one that is not a JSON object (logged)."""
    try:
        settings = loads_strict(path.read_bytes(), path.name)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring the settings in %s: %s", path, exc)
        return {}
    return settings if isinstance(settings, dict) else {}


async def _update(request: web.Request, changes: dict[str, Any]) -> None:
    path = _settings_path(request)
    async with request.app[SETTINGS_LOCK]:
        settings = {**await asyncio.to_thread(read_settings, path), **changes}
        await asyncio.to_thread(write_atomically, path, dumps(settings).encode())


@routes.get("/settings")
async def get_settings(request: web.Request) -> web.Response:
    return json_response(await asyncio.to_thread(read_settings, _settings_path(request)))


@routes.post("/settings")
async def save_settings(request: web.Request) -> web.Response:
    await _update(request, await read_object(request))
    return json_response({"saved": True})


@routes.get("/settings/{id}")
async def get_setting(request: web.Request) -> web.Response:
    settings = await asyncio.to_thread(read_settings, _settings_path(request))
    return json_response(settings.get(request.match_info["id"]))


@routes.post("/settings/{id}")
async def save_setting(request: web.Request) -> web.Response:
    raw = await read_json(request, default=_NO_BODY)
    if raw is _NO_BODY:
        raise json_error(400, f"the body must be the JSON value of setting {request.match_info['id']!r}")
    await _update(request, {request.match_info["id"]: raw})
    return json_response({"saved": True})
