"""The small routes the ComfyUI frontend reads as it boots: `/users`, `/features`, `/extensions`, `/i18n`,
`/workflow_templates`, `/global_subgraphs`.

nodeflow serves one user and has no frontend extensions, translations,
templates or shared subgraphs of its own, so those answer the shapes ComfyUI
answers in that case (single-user mode, nothing installed).
"""

from __future__ import annotations

from aiohttp import web

from .bodies import json_response
from .keys import CONFIG

routes = web.RouteTableDef()


@routes.get("/users")
async def users(request: web.Request) -> web.Response:
    """ComfyUI's single-user answer: settings live on the server, and there is nothing left to migrate from the
    browser's storage once the user folder exists."""
    return json_response({"storage": "server", "migrated": request.app[CONFIG].user_dir.is_dir()})


@routes.get("/features")
async def features(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    return json_response({"supports_preview_metadata": False, "max_upload_size": int(config.max_upload_mb * 2**20)})


@routes.get("/extensions")
async def extensions(request: web.Request) -> web.Response:
    return json_response([])


@routes.get("/i18n")
async def translations(request: web.Request) -> web.Response:
    return json_response({})


@routes.get("/workflow_templates")
async def workflow_templates(request: web.Request) -> web.Response:
    return json_response({})


@routes.get("/global_subgraphs")
async def global_subgraphs(request: web.Request) -> web.Response:
    return json_response({})
