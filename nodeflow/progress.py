"""A tqdm progress display fed by run events: one bar for nodes, naming the running node, and one for its steps."""

from __future__ import annotations

from typing import TextIO

from tqdm import tqdm

from .events import Event, NodeFinished, NodeProgress, NodeStarted, NodesCached, RunFinished, RunStarted
from .registry import Registry
from .workflow import Workflow


class ProgressBar:
    """`labels` name nodes by id (their title, or their type's display name); a node without one shows its type.
    The bars go to `file` (stderr by default), and only when it is a terminal unless `enabled` says otherwise."""

    def __init__(self, labels: dict[str, str] | None = None, file: TextIO | None = None,
                 enabled: bool | None = None) -> None:
        self.labels = labels or {}
        self.file = file
        self.disable = None if enabled is None else not enabled
        self.nodes: tqdm | None = None
        self.steps: tqdm | None = None

    @classmethod
    def for_workflow(cls, workflow: Workflow, registry: Registry) -> ProgressBar:
        """Labels each node by its title, else its type's display name."""
        labels = {}
        for node_id, node in workflow.nodes.items():
            definition = registry.get(node.type)
            labels[node_id] = node.title or (definition.display_name if definition is not None else node.type)
        return cls(labels)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.nodes = self._bar(len(event.node_ids), "node", "nodes")
        elif isinstance(event, NodesCached) and self.nodes is not None:
            self.nodes.update(len(event.node_ids))
        elif isinstance(event, NodeStarted) and self.nodes is not None:
            self.nodes.set_postfix_str(self._name(event.node_id, event.node_type))
        elif isinstance(event, NodeProgress):
            if self.steps is None or self.steps.total != event.total or event.value < self.steps.n:
                self._close_steps()
                self.steps = self._bar(event.total, "step", self._name(event.node_id))
            self.steps.update(event.value - self.steps.n)
        elif isinstance(event, NodeFinished) and not event.cached and self.nodes is not None:
            self._close_steps()
            self.nodes.update(1)
        elif isinstance(event, RunFinished):
            self._close()

    def _name(self, node_id: str, node_type: str = "") -> str:
        label = self.labels.get(node_id) or node_type
        return f"{node_id}: {label}" if label else node_id

    def _bar(self, total: int, unit: str, description: str) -> tqdm:
        return tqdm(total=total, unit=unit, desc=description, leave=False, file=self.file, disable=self.disable)

    def _close_steps(self) -> None:
        if self.steps is not None:
            self.steps.close()
            self.steps = None

    def _close(self) -> None:
        self._close_steps()
        if self.nodes is not None:
            self.nodes.close()
            self.nodes = None
