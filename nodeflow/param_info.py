"""What a workflow's params are: type, current value, bounds and description, read from the node schemas."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from .problems import Problem, ProblemList
from .registry import Registry
from .schema import input_schema
from .workflow import Workflow

BOUND_KEYS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "enum")
_BOUND_WORDS = {"minimum": "≥", "exclusiveMinimum": ">", "maximum": "≤", "exclusiveMaximum": "<"}


@dataclass(frozen=True)
class ParamInfo:
    name: str
    node: str
    input: str
    type: str
    default: Any  # the value a run uses when the param is not given: the workflow's, else the node's default
    bounds: dict[str, Any] = field(default_factory=dict)  # the input's JSON-schema minimum/maximum/enum
    description: str = ""
    required: bool = False  # no value in the workflow and no default: a run must give one

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        """`name (type) = default  [bounds]`, then the description indented."""
        default = "(required)" if self.required else json.dumps(self.default, ensure_ascii=False)
        bounds = ", ".join(
            f"one of {', '.join(json.dumps(v, ensure_ascii=False) for v in value)}" if key == "enum"
            else f"{_BOUND_WORDS[key]} {value}"
            for key, value in self.bounds.items()
        )
        head = f"{self.name} ({self.type}) = {default}" + (f"  [{bounds}]" if bounds else "")
        return head + (f"\n    {self.description}" if self.description else "")


def describe_params(workflow: Workflow, registry: Registry) -> list[ParamInfo]:
    """Every param in the workflow's order; raises ProblemList naming params whose node or input is unknown."""
    described, problems = [], []
    for name, param in workflow.params.items():
        node = workflow.nodes.get(param.node)
        definition = registry.get(node.type) if node is not None else None
        if node is None or definition is None or param.input not in definition.inputs:
            unknown = "node" if node is None else f"node type {node.type!r}" if definition is None else "input"
            problems.append(Problem("bad_param", f"param {name!r} points to an unknown {unknown}",
                                    param.node, param.input))
            continue
        schema = input_schema(definition.inputs[param.input])
        is_set = param.input in node.inputs
        described.append(ParamInfo(
            name, param.node, param.input, schema["type"],
            node.inputs[param.input] if is_set else schema.get("default"),
            _bounds(schema.get("schema", {})), param.description,
            required=not is_set and "default" not in schema,
        ))
    if problems:
        raise ProblemList(problems)
    return described


def _bounds(schema: dict[str, Any]) -> dict[str, Any]:
    """The bounds of a JSON schema, looking inside `anyOf` (an optional number is `anyOf: [number, null]`)."""
    bounds = {key: schema[key] for key in BOUND_KEYS if key in schema}
    for alternative in schema.get("anyOf", []):
        bounds.update(_bounds(alternative))
    return bounds
