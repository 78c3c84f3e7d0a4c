"""ComfyUI's UI format (what its editor saves: `nodes` and `links` arrays, `widgets_values`) → its API format.

The UI format names no input for a widget value: a node's `widgets_values` are in the order its widgets were
made, which is the order of its widget inputs in `/object_info` (all "required", as in ComfyUI). So the conversion
needs the node schemas, and does what ComfyUI's frontend does when it queues a graph: muted nodes (mode 2) are
left out, bypassed ones (mode 4) pass the input of the output's type through, `Reroute` nodes are followed,
a `PrimitiveNode`'s value is written into the inputs it feeds, and notes are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .node import NodeDef
from .problems import Problem, ProblemList
from .registry import Registry

MUTED, BYPASSED = 2, 4
NOTES = frozenset({"Note", "MarkdownNote"})
# The extra values the frontend saves after some widgets: the "control after generate" mode of a seed, and the
# upload button of an image input.
SEED_CONTROLS = frozenset({"fixed", "increment", "decrement", "randomize"})
UPLOAD_BUTTON = "image"


def is_ui_workflow(data: Any) -> bool:
    """ComfyUI's UI format: `nodes` is an array (ours is an object), and there is no format version."""
    return isinstance(data, dict) and "nodeflow" not in data and isinstance(data.get("nodes"), list)


@dataclass(frozen=True)
class _Link:
    node: str
    slot: int


class _Graph:
    """The UI-format nodes and links, by id, and how a link resolves through frontend-only and bypassed nodes."""

    def __init__(self, data: dict[str, Any], problems: list[Problem]) -> None:
        self.problems = problems
        self.nodes: dict[str, dict[str, Any]] = {}
        for raw in data["nodes"]:
            if isinstance(raw, dict) and isinstance(raw.get("id"), (int, str)) and isinstance(raw.get("type"), str):
                self.nodes[str(raw["id"])] = raw
            else:
                problems.append(Problem("format", f"a UI-format node must be an object with an 'id' and a string "
                                                  f"'type' (ComfyUI's class_type), got {str(raw)[:60]}"))
        self.links: dict[int, _Link] = {}
        for raw in data.get("links") or []:
            found = _link_of(raw)
            if found is None:
                problems.append(Problem("format", f"a link must be [id, from node, from slot, to node, to slot, "
                                                  f"type], got {str(raw)[:60]}"))
            else:
                self.links[found[0]] = found[1]

    def source(self, link_id: Any, seen: frozenset[str] = frozenset()) -> _Link | Any | None:
        """Where a link's value comes from: a real node's output, a literal (from a PrimitiveNode), or None
        (a dangling link, or one from a muted node)."""
        link = self.links.get(link_id) if isinstance(link_id, int) else None
        if link is None or link.node in seen or link.node not in self.nodes:
            return None
        raw, seen = self.nodes[link.node], seen | {link.node}
        if raw["type"] == "PrimitiveNode":
            values = raw.get("widgets_values") or [None]
            return _Literal(values[0])
        if raw["type"] == "Reroute":
            return self.source(_input_links(raw)[0] if _input_links(raw) else None, seen)
        if raw.get("mode") == MUTED:
            return None
        if raw.get("mode") == BYPASSED:
            return self.source(_passed_through(raw, link.slot), seen)
        return link


@dataclass(frozen=True)
class _Literal:
    value: Any


def _link_of(raw: Any) -> tuple[int, _Link] | None:
    """A link as `[id, from node, from slot, to node, to slot, type]` or as an object (the newer format)."""
    if isinstance(raw, dict):
        raw = [raw.get("id"), raw.get("origin_id"), raw.get("origin_slot")]
    if isinstance(raw, list) and len(raw) >= 3 and isinstance(raw[0], int) and isinstance(raw[2], int):
        if isinstance(raw[1], (int, str)):
            return raw[0], _Link(str(raw[1]), raw[2])
    return None


def _input_links(raw: dict[str, Any]) -> list[Any]:
    return [entry.get("link") for entry in raw.get("inputs") or [] if isinstance(entry, dict)]


def _passed_through(raw: dict[str, Any], slot: int) -> Any:
    """The link a bypassed node passes on to its output `slot`: its first linked input of that output's type."""
    outputs = raw.get("outputs") or []
    wanted = outputs[slot].get("type") if slot < len(outputs) and isinstance(outputs[slot], dict) else None
    for entry in raw.get("inputs") or []:
        if isinstance(entry, dict) and entry.get("link") is not None and entry.get("type") == wanted:
            return entry["link"]
    return None


def widget_order(definition: NodeDef) -> list[str]:
    """The node's widget inputs in the order ComfyUI's frontend makes their widgets: their order in `/object_info`,
    where every widget is "required" (it always has a value)."""
    return [spec.name for spec in definition.inputs.values() if spec.is_widget]


def _widget_values(raw: dict[str, Any], definition: NodeDef, node_id: str,
                   problems: list[Problem]) -> dict[str, Any]:
    values = raw.get("widgets_values") or []
    names = widget_order(definition)
    # Newer frontends list every widget among a node's inputs, in the order of its widgets: the order the file was
    # saved in, which wins should a node here split required and optional inputs unlike the one that saved it.
    listed = [e["widget"].get("name") for e in raw.get("inputs") or [] if isinstance(e, dict)
              and isinstance(e.get("widget"), dict)]
    if sorted(listed, key=str) == sorted(names):
        names = listed
    if isinstance(values, dict):
        return {name: values[name] for name in names if name in values}
    if not isinstance(values, list):
        problems.append(Problem("format", "'widgets_values' must be a list", node_id))
        return {}
    found: dict[str, Any] = {}
    position = 0
    for name in names:
        if position >= len(values):
            break
        found[name] = values[position]
        position += 1
        extra = values[position] if position < len(values) else None
        if (name in ("seed", "noise_seed") and extra in SEED_CONTROLS) or (
                definition.inputs[name].folder is not None and extra == UPLOAD_BUTTON):
            position += 1
    return found


def _api_node(graph: _Graph, node_id: str, raw: dict[str, Any], definition: NodeDef,
              problems: list[Problem]) -> dict[str, Any]:
    inputs = _widget_values(raw, definition, node_id, problems)
    for entry in raw.get("inputs") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(Problem("format", f"a node input must be an object with a 'name', got {entry!r}", node_id))
            continue
        if entry.get("link") is None:
            continue
        source = graph.source(entry["link"])
        if isinstance(source, _Literal):
            inputs[entry["name"]] = source.value
        elif isinstance(source, _Link):
            inputs[entry["name"]] = [source.node, source.slot]
        else:
            inputs.pop(entry["name"], None)
    api: dict[str, Any] = {"class_type": raw["type"], "inputs": inputs}
    if isinstance(raw.get("title"), str):
        api["_meta"] = {"title": raw["title"]}
    return api


def ui_to_api(data: dict[str, Any], registry: Registry) -> dict[str, Any]:
    """The API-format prompt of a UI-format workflow; raises ProblemList naming every node it cannot convert."""
    problems: list[Problem] = []
    if (data.get("definitions") or {}).get("subgraphs"):
        problems.append(Problem("format", "the workflow holds subgraphs, which nodeflow does not run; "
                                          "unpack them in ComfyUI's editor first"))
    graph = _Graph(data, problems)
    prompt: dict[str, Any] = {}
    for node_id, raw in graph.nodes.items():
        if raw["type"] in NOTES or raw["type"] in ("Reroute", "PrimitiveNode") or raw.get("mode") in (MUTED, BYPASSED):
            continue
        definition = registry.get(raw["type"])
        if definition is None:
            problems.append(Problem("unknown_type", f"ComfyUI node type {raw['type']!r} is not available in "
                                                    f"nodeflow (no node pack provides it)", node_id))
            continue
        prompt[node_id] = _api_node(graph, node_id, raw, definition, problems)
    if problems:
        raise ProblemList(problems)
    return prompt
