"""ComfyUI's model-folder routes: `/embeddings` and `/experiment/models[/{folder}]`, read from the model folders.

ComfyUI keeps each kind of model in a subfolder of `models/` (`checkpoints`,
`loras`, `embeddings`...); these routes list those subfolders and the model
files in them, across every `--models-dir`.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from ..folders import UnsafePath, safe_join
from .bodies import json_error, json_response
from .keys import CONFIG

routes = web.RouteTableDef()
COMFY_MODEL_FOLDERS = ("checkpoints", "loras", "vae", "controlnet", "embeddings", "upscale_models")
MODEL_SUFFIXES = frozenset({".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".sft"})
_FOLDER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$")


def _folder_names(roots: list[Path]) -> list[str]:
    found = {child.name for root in roots if root.is_dir() for child in root.iterdir()
             if child.is_dir() and not child.name.startswith(".")}
    return sorted(found | set(COMFY_MODEL_FOLDERS))


def _model_files(roots: list[Path], folder: str) -> list[dict[str, Any]]:
    """ComfyUI's `{name, pathIndex}` per model file in `folder` of each root (`pathIndex`: which root)."""
    files = []
    for index, root in enumerate(roots):
        try:
            where = safe_join(root, "", folder)
        except UnsafePath:
            continue
        for path in sorted(where.rglob("*")) if where.is_dir() else []:
            relative = path.relative_to(where)
            if (path.is_file() and path.suffix.lower() in MODEL_SUFFIXES
                    and not any(part.startswith(".") for part in relative.parts)):
                files.append({"name": relative.as_posix(), "pathIndex": index})
    return files


def _folder(request: web.Request) -> str:
    folder = request.match_info["folder"]
    if not _FOLDER_NAME.match(folder):
        raise json_error(400, f"model folder {folder[:80]!r} must be a plain folder name")
    return folder


@routes.get("/experiment/models")
async def model_folders(request: web.Request) -> web.Response:
    roots = request.app[CONFIG].models_dirs
    names = await asyncio.to_thread(_folder_names, roots)
    return json_response([{"name": name, "folders": [str(root / name) for root in roots]} for name in names])


@routes.get("/experiment/models/{folder}")
async def models_in_folder(request: web.Request) -> web.Response:
    folder, roots = _folder(request), request.app[CONFIG].models_dirs
    if folder not in await asyncio.to_thread(_folder_names, roots):
        raise json_error(404, f"no model folder named {folder!r}")
    return json_response(await asyncio.to_thread(_model_files, roots, folder))


@routes.get("/embeddings")
async def embeddings(request: web.Request) -> web.Response:
    files = await asyncio.to_thread(_model_files, request.app[CONFIG].models_dirs, "embeddings")
    return json_response(sorted({Path(entry["name"]).with_suffix("").as_posix() for entry in files}))


@routes.get("/internal/folder_paths")
async def folder_paths(request: web.Request) -> web.Response:
    """Each model folder name with the paths it is read from, as the frontend's model panels ask for it."""
    roots = request.app[CONFIG].models_dirs
    names = await asyncio.to_thread(_folder_names, roots)
    return json_response({name: [str(root / name) for root in roots] for name in names})
