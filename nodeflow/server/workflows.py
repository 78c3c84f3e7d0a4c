"""`/workflows`: the shipped workflows (read-only) and the user's saved ones, as format-1 JSON files."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from ..problems import ProblemList
from ..workflow import Workflow
from .bodies import json_error, json_response, loads_strict, read_object
from .keys import CONFIG

routes = web.RouteTableDef()
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,120}$")


def workflow_name(raw: str) -> str:
    """A plain file name ending in .json; 400 for anything that could name a path."""
    name = raw if raw.endswith(".json") else f"{raw}.json"
    if not _NAME.match(name) or ".." in name:
        raise json_error(400, f"workflow name {raw!r} must be letters, digits, '_', '-', '.', ' ' (no folders)")
    return name


def _folders(request: web.Request) -> dict[str, Path]:
    config = request.app[CONFIG]
    return {"user": config.user_workflows_dir, "shipped": config.shipped_workflows_dir}


def _summary(path: Path, source: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": path.name, "source": source, "read_only": source == "shipped"}
    try:
        data = loads_strict(path.read_bytes(), path.name)
    except (OSError, ValueError):
        return {**entry, "error": "not readable JSON"}
    data = data if isinstance(data, dict) else {}
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    params = data.get("params", {})
    return {**entry, "title": meta.get("title", path.stem), "description": meta.get("description", ""),
            "params": sorted(params) if isinstance(params, dict) else []}


def _summaries(folders: dict[str, Path]) -> list[dict[str, Any]]:
    return [
        _summary(path, source)
        for source, folder in folders.items() if folder.is_dir()
        for path in sorted(folder.glob("*.json")) if path.is_file() and not path.is_symlink()
    ]


@routes.get("/workflows")
async def list_workflows(request: web.Request) -> web.Response:
    return json_response({"workflows": await asyncio.to_thread(_summaries, _folders(request))})


@routes.get("/workflows/{name}")
async def get_workflow(request: web.Request) -> web.Response:
    name = workflow_name(request.match_info["name"])
    for folder in _folders(request).values():
        path = folder / name
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            try:
                loads_strict(data, name)
            except ValueError as exc:  # written by hand, or before NaN was refused: never hand it to a JSON.parse
                raise json_error(422, f"{exc}; fix or delete the file") from None
            return web.Response(body=data, content_type="application/json")
    raise json_error(404, f"no workflow named {name!r}")


@routes.post("/workflows/{name}")
async def save_workflow(request: web.Request) -> web.Response:
    name = workflow_name(request.match_info["name"])
    folders = _folders(request)
    if (folders["shipped"] / name).exists():
        raise json_error(409, f"{name!r} is a shipped workflow and read-only; save it under another name")
    body = await read_object(request)
    try:
        workflow = await asyncio.to_thread(Workflow.from_dict, body)
    except ProblemList as problems:
        raise json_error(400, "not a valid workflow file", problems=[p.to_dict() for p in problems.problems]) from None
    if "nodeflow" not in body:
        raise json_error(400, "workflows are saved in format 1 ({\"nodeflow\": 1, ...})")
    target = folders["user"] / name
    if target.is_symlink():
        raise json_error(403, f"{name!r} is a symbolic link")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return json_response({"name": name, "source": "user", "nodes": len(workflow.nodes)})
