"""`/object_info` (ComfyUI's node catalogue) and `/nodeflow/schema` (ours, richer), from one registry schema."""

from __future__ import annotations

import asyncio
import mimetypes
from typing import Any

from aiohttp import web

from ..comfy_widgets import AUTO_TOOLTIP, TEXT_TOOLTIP, to_frontend, widget_form, without_null
from ..schema import folder_choices
from .bodies import json_error, json_response
from .keys import CONFIG, REGISTRY, SCHEMA

routes = web.RouteTableDef()
_WIDGET_TYPES = {"integer": "INT", "number": "FLOAT", "string": "STRING", "boolean": "BOOLEAN"}
# The seed inputs ComfyUI's frontend gives a "control after generate" widget (randomize, increment...).
SEED_NAMES = ("seed", "noise_seed")


def socket_type(spec: dict[str, Any], types: dict[str, Any]) -> str:
    """A socket input's type as ComfyUI's frontend matches it: the classes it accepts and their subclasses,
    comma-separated (`X | None` is just X; `A | B` is "A,B")."""
    accepted = list(spec["accepts"])
    subclasses = [name for name, info in types.items() if name not in accepted
                  and any(base in accepted for base in info["bases"])]
    return ",".join(accepted + subclasses) or spec["type"]


def _holds_images(folder: dict[str, Any]) -> bool:
    """An input-folder entry of image files: ComfyUI's LoadImage offers an upload for such an input."""
    return folder["kind"] == "input" and any(
        (mimetypes.guess_type(f"x{suffix}")[0] or "").startswith("image/") for suffix in folder["suffixes"]
    )


def _folder_combo(spec: dict[str, Any], listed: list[str]) -> list[Any]:
    """An input that names a folder entry, as ComfyUI lists checkpoints: `[[names], {options}]`. A default the
    folders lack (a hub id) is listed first, so that it still validates in ComfyUI clients."""
    default = spec.get("default")
    options: dict[str, Any] = {} if default is None else {"default": default}
    if _holds_images(spec["folder"]):
        options["image_upload"] = True
    return [listed if default is None or default in listed else [default, *listed], options]


def _number_options(schema: dict[str, Any], kind: str) -> dict[str, Any]:
    """ComfyUI's min/max/step from JSON-schema bounds; floats are not rounded to the step by the frontend."""
    options: dict[str, Any] = {}
    for theirs, ours in (("min", ("minimum", "exclusiveMinimum")), ("max", ("maximum", "exclusiveMaximum"))):
        bound = next((schema[key] for key in ours if key in schema), None)
        if bound is not None:
            options[theirs] = bound
    options["step"] = schema.get("multipleOf", 1 if kind == "INT" else 0.01)
    if kind == "FLOAT":
        options["round"] = False
    return options


def _widget(name: str, spec: dict[str, Any]) -> list[Any]:
    schema = spec.get("schema", {})
    form = widget_form(schema)
    value_schema = without_null(schema)[0] if form == "auto_zero" else schema
    options: dict[str, Any] = {}
    if spec.get("default") is not None or form != "plain":
        options["default"] = to_frontend(schema, spec.get("default"))
    tooltips = [value_schema.get("description", "")]
    if form == "text":
        kind = "STRING"
        tooltips.append(TEXT_TOOLTIP)
    elif "enum" in value_schema:
        return [list(value_schema["enum"]), options]
    else:
        kind = _WIDGET_TYPES[value_schema["type"]]
    if kind in ("INT", "FLOAT"):
        options.update(_number_options(value_schema, kind))
    if form == "auto_zero":
        options["min"] = 0
        tooltips.append(AUTO_TOOLTIP)
    if kind == "INT" and name in SEED_NAMES:
        options["control_after_generate"] = True
    if kind == "STRING" and ("prompt" in name or name == "text"):  # ComfyUI's CLIPTextEncode names its prompt `text`
        options["multiline"] = True
    if tooltip := "; ".join(t for t in tooltips if t):
        options["tooltip"] = tooltip
    return [kind, options]


def comfy_input(name: str, spec: dict[str, Any], types: dict[str, Any], listed: list[str] | None = None) -> list[Any]:
    """One input as ComfyUI describes it: `[TYPE, {options}]`, or `[[choices], {options}]` for enums and for
    inputs that name a folder entry (`listed`: what the folders hold now). `types`: the socket type table."""
    if not spec["widget"]:
        return [socket_type(spec, types)]
    if listed is not None:
        return _folder_combo(spec, listed)
    return _widget(name, spec)


def comfy_node(node: dict[str, Any], module: str, listed: dict[str, list[str]], types: dict[str, Any]) -> dict[str, Any]:
    """`listed`: input name → what the folders hold now, for the inputs that name a folder entry."""
    inputs = {n: comfy_input(n, s, types, listed.get(n)) for n, s in node["inputs"].items()}
    # As in ComfyUI, a widget is "required" even with a default (it always holds a value); "optional" is for
    # sockets that may stay unconnected. The frontend lists a node's widgets, and orders widgets_values, this way.
    required = {n: inputs[n] for n, s in node["inputs"].items() if s["required"] or s["widget"]}
    optional = {n: inputs[n] for n, s in node["inputs"].items() if not (s["required"] or s["widget"])}
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


async def object_info(request: web.Request, type_ids: list[str]) -> dict[str, Any]:
    """`type_ids` in ComfyUI's shape, with what the folders hold now (listed off the event loop)."""
    registry, schema = request.app[REGISTRY], request.app[SCHEMA]
    definitions = [registry[type_id] for type_id in type_ids]
    listed = await asyncio.to_thread(folder_choices, definitions, request.app[CONFIG].folders())
    return {
        type_id: comfy_node(schema["nodes"][type_id], registry[type_id].func.__module__, listed.get(type_id, {}),
                            schema["types"])
        for type_id in type_ids
    }


@routes.get("/object_info")
async def all_object_info(request: web.Request) -> web.Response:
    return json_response(await object_info(request, list(request.app[SCHEMA]["nodes"])))


@routes.get("/object_info/{node_type}")
async def one_object_info(request: web.Request) -> web.Response:
    node_type = request.match_info["node_type"]
    if node_type not in request.app[SCHEMA]["nodes"]:
        raise json_error(404, f"unknown node type {node_type!r}")
    return json_response(await object_info(request, [node_type]))


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
