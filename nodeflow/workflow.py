"""Workflow format 1 (the contract in DESIGN.md): parse, write, params, ComfyUI conversion."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .problems import Problem, ProblemList

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Link:
    node: str
    output: str | int

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "output": self.output}


def as_link(value: Any) -> Link | None:
    """A link when `value` is an object with exactly the keys `node` and `output`."""
    if type(value) is dict and len(value) == 2 and "node" in value and "output" in value:
        if isinstance(value["node"], str) and isinstance(value["output"], (str, int)):
            return Link(value["node"], value["output"])
    return value if isinstance(value, Link) else None


@dataclass
class NodeSpec:
    type: str
    inputs: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    pos: list[float] | None = None

    def links(self) -> dict[str, Link]:
        found = {}
        for name, value in self.inputs.items():
            link = as_link(value)
            if link is not None:
                found[name] = link
        return found

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "inputs": {
            k: v.to_dict() if isinstance(v, Link) else v for k, v in self.inputs.items()
        }}
        if self.title is not None:
            data["title"] = self.title
        if self.pos is not None:
            data["pos"] = list(self.pos)
        return data


@dataclass
class Param:
    node: str
    input: str
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = {"node": self.node, "input": self.input}
        if self.description:
            data["description"] = self.description
        return data


@dataclass
class Workflow:
    nodes: dict[str, NodeSpec] = field(default_factory=dict)
    params: dict[str, Param] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> Workflow:
        """Parse format 1 (or ComfyUI's API format); raises ProblemList naming every malformed part."""
        if is_comfy_prompt(data):
            return from_comfy(data)
        if not isinstance(data, dict):
            raise ProblemList([Problem("format", "a workflow must be a JSON object")])
        if "nodeflow" not in data and isinstance(data.get("nodes"), list):
            raise ProblemList([Problem("format", "this is a ComfyUI UI-format workflow (a 'nodes' array), which "
                                                 "converts with the node schemas: nodeflow.comfy_formats.load_any")])
        problems: list[Problem] = []
        if data.get("nodeflow") != FORMAT_VERSION:
            got = data.get("nodeflow")
            problems.append(Problem("format", f"'nodeflow' must be {FORMAT_VERSION} (format version), got {got!r}"))
        raw_nodes = data.get("nodes")
        if not isinstance(raw_nodes, dict):
            problems.append(Problem("format", "'nodes' must be an object of node id → node"))
            raw_nodes = {}
        nodes = {}
        for node_id, raw in raw_nodes.items():
            if _is_node_id(node_id, problems):
                node = _format_one_node(node_id, raw, problems)
                if node is not None:
                    nodes[node_id] = node
        params: dict[str, Param] = {}
        for name, raw in _object(data.get("params"), "'params'", None, problems).items():
            param = _param(name, raw, problems)
            if param is not None:
                params[name] = param
        meta = _object(data.get("meta"), "'meta'", None, problems)
        if problems:
            raise ProblemList(problems)
        return cls(nodes, params, dict(meta))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"nodeflow": FORMAT_VERSION, "nodes": {k: n.to_dict() for k, n in self.nodes.items()}}
        if self.params:
            data["params"] = {k: p.to_dict() for k, p in self.params.items()}
        if self.meta:
            data["meta"] = self.meta
        return data

    @classmethod
    def load(cls, path: str | Path) -> Workflow:
        """Read a workflow file: OSError when it cannot be read, ProblemList when it is not a JSON workflow."""
        return cls.from_dict(read_json_file(path))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    def param_values(self) -> dict[str, Any]:
        """The current value of every param (its node's literal input, if set)."""
        return {
            name: self.nodes[p.node].inputs.get(p.input) if p.node in self.nodes else None
            for name, p in self.params.items()
        }

    def with_params(self, values: dict[str, Any]) -> Workflow:
        """A copy with params set (only the changed nodes are copied); raises ProblemList for unknown params."""
        problems = []
        nodes = dict(self.nodes)
        for name, value in values.items():
            param = self.params.get(name)
            if param is None:
                known = ", ".join(sorted(self.params)) or "none"
                problems.append(Problem("unknown_param", f"unknown param {name!r} (known: {known})", input=name))
            elif param.node not in self.nodes:
                message = f"param {name!r} points to missing node {param.node!r}"
                problems.append(Problem("bad_param", message, param.node, param.input))
            else:
                node = nodes[param.node]
                nodes[param.node] = NodeSpec(node.type, {**node.inputs, param.input: value}, node.title, node.pos)
        if problems:
            raise ProblemList(problems)
        return Workflow(nodes, dict(self.params), dict(self.meta))

    def digest(self) -> str:
        """A hash of what affects execution (node types and inputs), to memoise plans."""
        text = json.dumps(
            [(node_id, node.type, node.inputs) for node_id, node in self.nodes.items()],
            default=_link_json, check_circular=False, separators=(",", ":"),
        )
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def read_json_file(path: str | Path) -> Any:
    """A workflow file's JSON: OSError when it cannot be read, ProblemList when it is not JSON text."""
    raw = Path(path).read_bytes()
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProblemList([Problem("format", f"{path} is not UTF-8 text (a binary file?): {exc}")]) from exc
    except (ValueError, RecursionError) as exc:  # bad JSON, a number too long to convert, nesting too deep
        raise ProblemList([Problem("format", f"{path} is not valid JSON: {exc}")]) from exc


def _link_json(value: Any) -> Any:
    return value.to_dict() if isinstance(value, Link) else repr(value)


def parse_param_value(text: str) -> Any:
    """CLI param values: JSON when they parse as JSON, else the plain string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def is_comfy_prompt(data: Any) -> bool:
    """ComfyUI's API format: node id → node, with no format version and at least one node with a class_type."""
    return (
        isinstance(data, dict) and "nodeflow" not in data
        and any(isinstance(v, dict) and "class_type" in v for v in data.values())
    )


def from_comfy(prompt: dict[str, Any]) -> Workflow:
    """Convert ComfyUI's API prompt (`{"3": {"class_type", "inputs": {"x": ["4", 0]}}}`) to format 1.

    Raises ProblemList naming every malformed node."""
    problems: list[Problem] = []
    nodes = {}
    for node_id, raw in prompt.items():
        if not _is_node_id(node_id, problems):
            continue
        if not isinstance(raw, dict) or not isinstance(raw.get("class_type"), str):
            problems.append(Problem("format", "a node must be an object with a string 'class_type'", node_id))
            continue
        inputs = {name: _comfy_value(value) for name, value in _inputs(raw, node_id, problems).items()}
        title = _title(_object(raw.get("_meta"), "'_meta'", node_id, problems).get("title"), node_id, problems)
        nodes[node_id] = NodeSpec(raw["class_type"], inputs, title)
    if problems:
        raise ProblemList(problems)
    return Workflow(nodes)


def _comfy_value(value: Any) -> Any:
    """ComfyUI writes a link as `[node id, output index]`; anything else is a literal."""
    is_link = (isinstance(value, list) and len(value) == 2
               and isinstance(value[0], (str, int)) and isinstance(value[1], int))
    return Link(str(value[0]), value[1]) if is_link else value


_JSON_KINDS = {list: "a list", str: "a string", bool: "true/false", int: "a number", float: "a number"}
_SHOWN_CHARS = 40


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _object(value: Any, what: str, node_id: str | None, problems: list[Problem]) -> dict[Any, Any]:
    """`value` when it is an object (absent or null count as empty), else {} and a problem naming `what`."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    kind = _JSON_KINDS.get(type(value), type(value).__name__)
    problems.append(Problem("format", f"{what} must be an object, got {kind}", node_id))
    return {}


def _is_node_id(node_id: Any, problems: list[Problem]) -> bool:
    if isinstance(node_id, str):
        return True
    problems.append(Problem("format", f"node id {node_id!r} must be a string"))
    return False


def _inputs(raw: dict[str, Any], node_id: str, problems: list[Problem]) -> dict[str, Any]:
    inputs = _object(raw.get("inputs"), "'inputs'", node_id, problems)
    for name in inputs:
        if not isinstance(name, str):
            problems.append(Problem("format", f"input name {name!r} must be a string", node_id))
    return {name: value for name, value in inputs.items() if isinstance(name, str)}


def _title(value: Any, node_id: str, problems: list[Problem]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    problems.append(Problem("format", f"'title' must be a string, got {_shown(value)}", node_id))
    return None


def _position(value: Any, node_id: str, problems: list[Problem]) -> list[float] | None:
    if value is None or (isinstance(value, list) and len(value) == 2 and all(map(_is_number, value))):
        return value
    problems.append(Problem("format", f"'pos' must be a list of two numbers, got {_shown(value)}", node_id))
    return None


def _format_one_node(node_id: str, raw: Any, problems: list[Problem]) -> NodeSpec | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        problems.append(Problem("format", "a node must be an object with a string 'type'", node_id))
        return None
    return NodeSpec(raw["type"], _inputs(raw, node_id, problems), _title(raw.get("title"), node_id, problems),
                    _position(raw.get("pos"), node_id, problems))


def _param(name: str, raw: Any, problems: list[Problem]) -> Param | None:
    if not (isinstance(raw, dict) and isinstance(raw.get("node"), str) and isinstance(raw.get("input"), str)):
        problems.append(Problem("format", f"param {name!r} must be an object with string 'node' and 'input'"))
        return None
    description = raw.get("description", "")
    if not isinstance(description, str):
        problems.append(Problem("format", f"param {name!r}: 'description' must be a string"))
        return None
    return Param(raw["node"], raw["input"], description)
