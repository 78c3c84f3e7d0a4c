"""`/userdata`: the files the ComfyUI frontend keeps on the server (its workflows, `user.css`...), ComfyUI's shapes.

Every name is resolved under the user data folder (`USER_DIR/default`, as
ComfyUI lays it out) with `safe_join`: `..`, absolute paths, NUL bytes and links
that lead out are refused with 400. Names arrive URL-encoded in one path
segment (`workflows%2Fa.json`). Files are written whole or not at all.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from ..folders import UnsafePath, safe_join
from .bodies import json_error, json_response, read_body
from .keys import CONFIG

routes = web.RouteTableDef()
USER_CSS = "user.css"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step: a reader sees the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def userdata_path(request: web.Request, name: str) -> Path:
    """`name` inside the user data folder; 400 for a name that is empty or leads out of it."""
    root = request.app[CONFIG].userdata_dir
    if not name or "\\" in name or any(part in ("", ".") for part in name.split("/")):
        raise json_error(400, f"user data name {name[:200]!r} must be a relative path like 'workflows/a.json'")
    try:
        return safe_join(root, "", name)
    except UnsafePath as exc:
        raise json_error(400, str(exc)) from None


def _file_info(path: Path, relative_to: Path) -> dict[str, Any]:
    stat = path.stat()
    return {"path": path.relative_to(relative_to).as_posix(), "size": stat.st_size,
            "modified": int(stat.st_mtime * 1000), "created": int(stat.st_ctime * 1000)}


def _flag(request: web.Request, name: str, default: bool) -> bool:
    return request.query.get(name, str(default)).lower() == "true"


def _listing(folder: Path, recurse: bool, full_info: bool, split: bool) -> list[Any]:
    paths = sorted(p for p in (folder.rglob("*") if recurse else folder.glob("*"))
                   if p.is_file() and not p.name.startswith(".") and not p.is_symlink())
    if full_info:
        return [_file_info(path, folder) for path in paths]
    relative = [path.relative_to(folder).as_posix() for path in paths]
    return [[name, *name.split("/")] for name in relative] if split else relative


@routes.get("/userdata")
async def list_userdata(request: web.Request) -> web.Response:
    """The files under `dir`: relative paths, `[path, *parts]` with `split`, or `{path, size, modified, created}`
    with `full_info` (times in milliseconds). A folder not made yet (`workflows` before the first save) holds none."""
    if not request.query.get("dir"):
        raise json_error(400, "the query parameter 'dir' (a folder of the user data) is required")
    folder = userdata_path(request, request.query["dir"].strip("/"))
    if not folder.exists():
        return json_response([])
    if not folder.is_dir():
        raise json_error(400, f"user data {request.query['dir']!r} is a file, not a folder")
    return json_response(await asyncio.to_thread(
        _listing, folder, _flag(request, "recurse", False), _flag(request, "full_info", False),
        _flag(request, "split", False)))


def _existing(request: web.Request, name: str) -> Path:
    path = userdata_path(request, name)
    if not path.is_file():
        raise json_error(404, f"no user data file {name!r}")
    return path


@routes.get("/userdata/{file}")
async def get_userdata(request: web.Request) -> web.FileResponse:
    name = request.match_info["file"]
    path = _existing(request, name)
    # What users store is never rendered as a page of this origin (a stored script would run with its rights).
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    if name == USER_CSS:
        headers.update({"Content-Type": "text/css", "Content-Disposition": "inline"})
    elif path.suffix.lower() == ".json":
        headers.update({"Content-Type": "application/json", "Content-Disposition": "attachment"})
    else:
        headers.update({"Content-Type": "application/octet-stream", "Content-Disposition": "attachment"})
    return web.FileResponse(path, headers=headers)


def _saved(request: web.Request, path: Path) -> web.Response:
    """ComfyUI's answer to a write: the path from the user data folder, or its file info with `full_info`."""
    root = request.app[CONFIG].userdata_dir
    if _flag(request, "full_info", False):
        return json_response(_file_info(path, root))
    return json_response(path.relative_to(root).as_posix())


def _refuse_overwrite(request: web.Request, path: Path) -> None:
    if not _flag(request, "overwrite", True) and path.exists():
        raise json_error(409, f"{path.name!r} exists and overwrite=false")


@routes.post("/userdata/{file}")
async def save_userdata(request: web.Request) -> web.Response:
    path = userdata_path(request, request.match_info["file"])
    _refuse_overwrite(request, path)
    if path.is_dir():
        raise json_error(409, f"{request.match_info['file']!r} is a folder")
    await asyncio.to_thread(write_atomically, path, await read_body(request))
    return _saved(request, path)


@routes.delete("/userdata/{file}")
async def delete_userdata(request: web.Request) -> web.Response:
    _existing(request, request.match_info["file"]).unlink()
    return web.Response(status=204)


@routes.post("/userdata/{file}/move/{dest}")
async def move_userdata(request: web.Request) -> web.Response:
    source = _existing(request, request.match_info["file"])
    target = userdata_path(request, request.match_info["dest"])
    _refuse_overwrite(request, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(shutil.move, source, target)
    return _saved(request, target)
