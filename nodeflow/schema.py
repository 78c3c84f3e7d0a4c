"""JSON schemas of nodes, generated from their signatures; the CLI, `/object_info` and the editor share them."""

from __future__ import annotations

import inspect
from typing import Any, Iterable

from .folders import Folders, InFolder
from .node import InputSpec, NodeDef
from .typing_rules import is_optional, socket_classes, type_name


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def input_schema(spec: InputSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": spec.type_name,
        "widget": spec.is_widget,
        "required": spec.required,
        "optional": is_optional(spec.annotation),
    }
    if not spec.required:
        entry["default"] = _jsonable(spec.default)
    if spec.folder is not None:
        entry["folder"] = spec.folder.schema()
    if spec.adapter is not None:
        entry["schema"] = spec.adapter.json_schema()
    else:
        entry["accepts"] = [cls.__name__ for cls in socket_classes(spec.annotation)]
    return entry


def node_schema(definition: NodeDef) -> dict[str, Any]:
    return {
        "type": definition.type_id,
        "display_name": definition.display_name,
        "description": definition.description,
        "category": definition.category,
        "version": definition.version,
        "output_node": definition.output_node,
        "inputs": {name: input_schema(spec) for name, spec in definition.inputs.items()},
        "outputs": {name: {"type": spec.type_name} for name, spec in definition.outputs.items()},
    }


def folder_choices(definitions: Iterable[NodeDef], folders: Folders) -> dict[str, dict[str, list[str]]]:
    """For every input marked `InFolder`: what the folders hold now, by node type and input name.
    Each distinct marker is listed once."""
    listed: dict[InFolder, list[str]] = {}
    choices: dict[str, dict[str, list[str]]] = {}
    for definition in definitions:
        for name, spec in definition.inputs.items():
            if spec.folder is not None:
                marker = spec.folder
                if marker not in listed:
                    listed[marker] = folders.listing(marker)
                choices.setdefault(definition.type_id, {})[name] = listed[marker]
    return choices


def type_table(classes: set[type]) -> dict[str, Any]:
    """Socket types by name: their docs and the names of their socket base classes, for link checks."""
    table = {}
    for cls in sorted(classes, key=lambda c: c.__name__):
        bases = [b.__name__ for b in cls.__mro__[1:] if b is not object]
        doc = inspect.getdoc(cls) or ""
        table[cls.__name__] = {"bases": bases, "description": doc.split("\n\n")[0]}
    return table


__all__ = ["node_schema", "input_schema", "folder_choices", "type_table", "type_name"]
