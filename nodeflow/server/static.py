"""The web editor: static files of `web/` served at `/` (index.html for `/`)."""

from __future__ import annotations

from aiohttp import web

from ..folders import UnsafePath, safe_join
from .keys import CONFIG

routes = web.RouteTableDef()
_NOT_BUILT = "<!doctype html><title>nodeflow</title><p>nodeflow server is running; the web editor is not installed.</p>"


@routes.get("/{path:.*}")
async def web_file(request: web.Request) -> web.StreamResponse:
    web_dir = request.app[CONFIG].web_dir
    name = request.match_info["path"] or "index.html"
    try:
        path = safe_join(web_dir, "", name)
    except UnsafePath:
        raise web.HTTPNotFound() from None
    if path.is_dir():
        path = path / "index.html"
    if path.is_file():
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})
    if name == "index.html":
        return web.Response(text=_NOT_BUILT, content_type="text/html")
    raise web.HTTPNotFound()
