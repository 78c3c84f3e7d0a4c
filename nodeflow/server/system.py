"""`/system_stats` (devices, memory, cache, models, budgets) and `/free` (drop cached outputs or models)."""

from __future__ import annotations

import asyncio
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import web

from ..device import memory_stats
from .bodies import json_error, json_response, read_object
from .keys import STORE, WORKERS

routes = web.RouteTableDef()


# The ComfyUI server release whose routes and shapes this API follows (users, settings, userdata, jobs,
# system_stats), and the oldest ComfyUI frontend package it serves (the `nodeflow[comfyui]` extra's floor).
COMFYUI_VERSION = "0.8.1"
REQUIRED_FRONTEND_VERSION = "1.20.0"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def shown_argv(argv: list[str]) -> list[str]:
    """The command line with the value of `--token` hidden: a secret is never echoed, not even to its holder."""
    shown = list(argv)
    for index, arg in enumerate(shown):
        if arg.startswith("--token="):
            shown[index] = "--token=***"
        elif arg == "--token" and index + 1 < len(shown):
            shown[index + 1] = "***"
    return shown


def _device_entry(index: int, snapshot: dict[str, Any]) -> dict[str, Any]:
    """A worker's device; one in another process (a Ray actor) measures its own memory and says where it runs."""
    device = snapshot["device"]
    memory = snapshot.get("memory") or (memory_stats(device) if device not in ("auto", "ray") else {})
    where = {key: snapshot[key] for key in ("node", "pid") if key in snapshot}
    name = f"{device} ({snapshot.get('worker')} on {where['node']})" if "node" in where else device
    return {
        "name": name, "type": device.split(":")[0], "index": index, "worker": snapshot.get("worker"), **where,
        "vram_total": memory.get("total", 0), "vram_free": memory.get("free", 0),
        "torch_vram_total": 0, "torch_vram_free": 0,
        "cache_bytes": snapshot.get("cache_bytes", 0), "cache_entries": snapshot.get("cache_entries", 0),
        "running": snapshot.get("running"),
        "models": snapshot.get("models", []), "model_loads": snapshot.get("model_loads", 0),
        "budgets": snapshot.get("budgets", {}),
    }


def system_stats(snapshots: list[dict[str, Any]], queue_remaining: int) -> dict[str, Any]:
    ram = memory_stats("cpu")
    return {
        "system": {
            "os": platform.system().lower(), "python_version": sys.version, "embedded_python": False,
            "nodeflow_version": _version("nodeflow"), "comfyui_version": COMFYUI_VERSION,
            "required_frontend_version": REQUIRED_FRONTEND_VERSION, "pytorch_version": _version("torch"),
            "argv": shown_argv(sys.argv), "ram_total": ram.get("total", 0), "ram_free": ram.get("free", 0),
        },
        "devices": [_device_entry(i, s) for i, s in enumerate(snapshots)],
        "queue": {"remaining": queue_remaining},
    }


@routes.get("/system_stats")
async def get_system_stats(request: web.Request) -> web.Response:
    snapshots = await asyncio.to_thread(request.app[WORKERS].snapshots)  # measuring the models takes a moment
    remaining = await asyncio.to_thread(request.app[STORE].remaining)
    return json_response(await asyncio.to_thread(system_stats, snapshots, remaining))


@routes.post("/free")
async def free(request: web.Request) -> web.Response:
    """ComfyUI's flags: `unload_models` drops the models, `free_memory` the cached outputs and with them the
    models (a model lives as long as a cached output refers to it); each takes effect as soon as the worker is
    between prompts."""
    body = await read_object(request)
    flags = {"free_memory": body.get("free_memory", False), "unload_models": body.get("unload_models", False)}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise json_error(400, f"{name} must be true or false")
    request.app[WORKERS].free(models=flags["unload_models"], outputs=flags["free_memory"])
    return json_response({"freed": True})
