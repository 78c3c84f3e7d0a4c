"""Build workflows in Python: `g = Graph(); s = g.add("math.add", x=1, y=2); g.add("io.show", value=s.out.sum)`."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from .executor import Executor
from .report import RunReport
from .node import NodeDef
from .registry import Registry, default_registry
from .workflow import Link, NodeSpec, Param, Workflow


class OutputRef(Link):
    """One output of a node in a Graph; pass it as an input value to link."""


class Outputs:
    """Outputs of a node by name: `ref.out.latents` or `ref.out["latents"]`."""

    def __init__(self, node_id: str, definition: NodeDef) -> None:
        self._node_id = node_id
        self._definition = definition

    def __getitem__(self, name: str | int) -> OutputRef:
        resolved = self._definition.output_name(name)
        if resolved is None:
            names = ", ".join(self._definition.output_names) or "none"
            raise KeyError(f"{self._definition.type_id} has no output {name!r} (outputs: {names})")
        return OutputRef(self._node_id, resolved)

    def __getattr__(self, name: str) -> OutputRef:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(str(exc)) from None

    def __dir__(self) -> list[str]:
        return list(self._definition.output_names)


class NodeRef:
    def __init__(self, graph: Graph, node_id: str, definition: NodeDef) -> None:
        self.graph = graph
        self.id = node_id
        self.definition = definition
        self.out = Outputs(node_id, definition)

    def set(self, **inputs: Any) -> NodeRef:
        self.graph._set_inputs(self, inputs)
        return self

    def __repr__(self) -> str:
        return f"NodeRef({self.id!r}, {self.definition.type_id!r})"


class Graph:
    """A workflow under construction; checks type ids and input names as nodes are added."""

    def __init__(self, registry: Registry | None = None, workflow: Workflow | None = None) -> None:
        self.registry = registry if registry is not None else default_registry()
        self.workflow = workflow or Workflow()
        self._executor: Executor | None = None

    def add(self, type_id: str, *, id: str | None = None, title: str | None = None,
            pos: list[float] | None = None, **inputs: Any) -> NodeRef:
        definition = self.registry.get(type_id)
        if definition is None:
            close = self.registry.close_matches(type_id)
            raise KeyError(f"unknown node type {type_id!r}" + (f"; did you mean {close}?" if close else ""))
        node_id = id or self._next_id()
        if node_id in self.workflow.nodes:
            raise ValueError(f"node id {node_id!r} is already used")
        self.workflow.nodes[node_id] = NodeSpec(type_id, {}, title, pos)
        ref = NodeRef(self, node_id, definition)
        self._set_inputs(ref, inputs)
        return ref

    def node(self, node_id: str) -> NodeRef:
        spec = self.workflow.nodes[node_id]
        return NodeRef(self, node_id, self.registry[spec.type])

    def param(self, name: str, node: NodeRef, input: str, description: str = "") -> None:
        if input not in node.definition.inputs:
            raise KeyError(f"{node.definition.type_id} has no input {input!r}")
        self.workflow.params[name] = Param(node.id, input, description)

    def run(self, params: dict[str, Any] | None = None, executor: Executor | None = None, **kwargs: Any) -> RunReport:
        """Run with this graph's own executor (its cache lives as long as the graph) or a given one."""
        if executor is None:
            if self._executor is None:
                self._executor = Executor(self.registry)
            executor = self._executor
        return executor.run(self.workflow, params=params, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return self.workflow.to_dict()

    def save(self, path: str | Path) -> None:
        self.workflow.save(path)

    @classmethod
    def load(cls, path: str | Path, registry: Registry | None = None) -> Graph:
        return cls(registry, Workflow.load(path))

    def _set_inputs(self, ref: NodeRef, inputs: dict[str, Any]) -> None:
        spec = self.workflow.nodes[ref.id]
        for name, value in inputs.items():
            if name not in ref.definition.inputs:
                close = difflib.get_close_matches(name, list(ref.definition.inputs), n=3)
                hint = f"; did you mean {close}?" if close else ""
                raise KeyError(f"{ref.definition.type_id} has no input {name!r}{hint}")
            if isinstance(value, NodeRef):
                value = value.out[0]
            spec.inputs[name] = Link(value.node, value.output) if isinstance(value, Link) else value

    def _next_id(self) -> str:
        taken = set(self.workflow.nodes)
        number = len(taken) + 1
        while str(number) in taken:
            number += 1
        return str(number)
