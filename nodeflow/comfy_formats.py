"""Workflows in any format a user holds: ours (format 1), ComfyUI's API format, ComfyUI's UI format.

ComfyUI's formats carry widget values as its frontend edits them (0 for an "auto" size, JSON text for a union
widget: see comfy_widgets); they are mapped back to Python values here, with the node schemas. Going the other
way, `api_prompt` writes a workflow in ComfyUI's API format, for the `prompt` chunk of saved PNGs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .comfy_ui_format import is_ui_workflow, ui_to_api
from .comfy_widgets import from_frontend, to_frontend
from .registry import Registry
from .schema import input_schema
from .workflow import NodeSpec, Workflow, as_link, from_comfy, is_comfy_prompt


@dataclass(frozen=True)
class Loaded:
    """A workflow and the ComfyUI text chunks that saved images carry for it (`prompt`: its API format as it
    came, `workflow`: its UI format), when it came in one of ComfyUI's formats."""

    workflow: Workflow
    pnginfo: dict[str, Any] = field(default_factory=dict)


def load_any(data: Any, registry: Registry) -> Loaded:
    """Parse a workflow in format 1, ComfyUI's API format or its UI format; raises ProblemList."""
    if is_ui_workflow(data):
        prompt = ui_to_api(data, registry)
        return Loaded(_from_frontend(from_comfy(prompt), registry), {"prompt": prompt, "workflow": data})
    if is_comfy_prompt(data):
        return Loaded(_from_frontend(from_comfy(data), registry), {"prompt": data})
    return Loaded(Workflow.from_dict(data))


def _from_frontend(workflow: Workflow, registry: Registry) -> Workflow:
    """The workflow with literal values as ComfyUI's frontend writes them turned into Python values."""
    nodes = {}
    for node_id, node in workflow.nodes.items():
        definition = registry.get(node.type)
        specs = definition.inputs if definition is not None else {}
        inputs = {
            name: from_frontend(specs[name], input_schema(specs[name]).get("schema", {}), value)
            if name in specs and specs[name].is_widget and as_link(value) is None else value
            for name, value in node.inputs.items()
        }
        nodes[node_id] = NodeSpec(node.type, inputs, node.title, node.pos)
    return Workflow(nodes, dict(workflow.params), dict(workflow.meta))


def api_prompt(workflow: Workflow, registry: Registry) -> dict[str, Any]:
    """The workflow in ComfyUI's API format: `{id: {class_type, inputs (links as [id, output index]), _meta}}`."""
    prompt = {}
    for node_id, node in workflow.nodes.items():
        definition = registry.get(node.type)
        specs = definition.inputs if definition is not None else {}
        inputs = {}
        for name, value in node.inputs.items():
            link = as_link(value)
            if link is not None:
                source = registry.get(workflow.nodes[link.node].type) if link.node in workflow.nodes else None
                names = list(source.output_names) if source is not None else []
                inputs[name] = [link.node, names.index(link.output) if link.output in names else link.output]
            elif name in specs and specs[name].is_widget:
                inputs[name] = to_frontend(input_schema(specs[name]).get("schema", {}), value)
            else:
                inputs[name] = value
        prompt[node_id] = {"class_type": node.type, "inputs": inputs, "_meta": {"title": node.title or node.type}}
    return prompt
