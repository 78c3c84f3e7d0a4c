"""`/object_info` (ComfyUI's node catalogue) and `/nodeflow/schema` (ours, richer), from one registry schema."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from ..schema import folder_choices
from .bodies import json_error, json_response
from .keys import CONFIG, REGISTRY, SCHEMA

routes = web.RouteTableDef()
_WIDGET_TYPES = {"integer": "INT", "number": "FLOAT", "string": "STRING", "boolean": "BOOLEAN"}


def _non_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`X | None` → X's schema."""
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return options[0] if len(options) == 1 else schema


def comfy_input(name: str, spec: dict[str, Any]) -> list[Any]:
    """One input as ComfyUI describes it: `[TYPE, {options}]`, or `[[choices], {options}]` for enums."""
    if not spec["widget"]:
        return [spec["type"]]
    schema = _non_null(spec.get("schema", {}))
    options: dict[str, Any] = {}
    if "default" in spec and spec["default"] is not None:
        options["default"] = spec["default"]
    if "enum" in schema:
        return [list(schema["enum"]), options]
    kind = _WIDGET_TYPES.get(schema.get("type", ""), spec["type"])
    for ours, theirs in (("minimum", "min"), ("maximum", "max"), ("multipleOf", "step")):
        if ours in schema:
            options[theirs] = schema[ours]
    if kind == "INT":
        options.setdefault("step", 1)
    if kind == "STRING" and "prompt" in name:
        options["multiline"] = True
    return [kind, options]


def comfy_node(node: dict[str, Any], module: str) -> dict[str, Any]:
    required = {n: comfy_input(n, s) for n, s in node["inputs"].items() if s["required"]}
    optional = {n: comfy_input(n, s) for n, s in node["inputs"].items() if not s["required"]}
    outputs = node["outputs"]
    return {
        "input": {"required": required, "optional": optional},
        "input_order": {"required": list(required), "optional": list(optional)},
        "output": [o["type"] for o in outputs.values()],
        "output_is_list": [False] * len(outputs),
        "output_name": list(outputs),
        "name": node["type"],
        "display_name": node["display_name"],
        "description": node["description"],
        "category": node["category"],
        "output_node": node["output_node"],
        "python_module": module,
        "version": node["version"],
    }


def object_info(request: web.Request) -> dict[str, Any]:
    registry = request.app[REGISTRY]
    return {
        type_id: comfy_node(node, registry[type_id].func.__module__)
        for type_id, node in request.app[SCHEMA]["nodes"].items()
    }


@routes.get("/object_info")
async def all_object_info(request: web.Request) -> web.Response:
    return json_response(object_info(request))


@routes.get("/object_info/{node_type}")
async def one_object_info(request: web.Request) -> web.Response:
    node_type = request.match_info["node_type"]
    node = request.app[SCHEMA]["nodes"].get(node_type)
    if node is None:
        raise json_error(404, f"unknown node type {node_type!r}")
    return json_response({node_type: comfy_node(node, request.app[REGISTRY][node_type].func.__module__)})


@routes.get("/nodeflow/schema")
async def nodeflow_schema(request: web.Request) -> web.Response:
    """Every node's full schema (JSON Schema per widget) and the socket type table (name → bases, docs)."""
    return json_response(request.app[SCHEMA])


@routes.get("/nodeflow/choices")
async def nodeflow_choices(request: web.Request) -> web.Response:
    """What the folders hold now for every input that names a model folder or a file: {node type: {input: [names]}}.
    Free text stays allowed for such inputs (a hub id); this is what a dropdown offers."""
    folders = request.app[CONFIG].folders()
    return json_response(await asyncio.to_thread(folder_choices, request.app[REGISTRY], folders))
