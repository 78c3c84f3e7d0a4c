"""A tqdm progress display fed by run events: one bar for nodes, one for the steps of the running node."""

from __future__ import annotations

from tqdm import tqdm

from .events import Event, NodeFinished, NodeProgress, NodeStarted, NodesCached, RunFinished, RunStarted


class ProgressBar:
    def __init__(self) -> None:
        self.nodes: tqdm | None = None
        self.steps: tqdm | None = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.nodes = tqdm(total=len(event.node_ids), unit="node", desc="nodes", leave=False)
        elif isinstance(event, NodesCached) and self.nodes is not None:
            self.nodes.update(len(event.node_ids))
        elif isinstance(event, NodeStarted) and self.nodes is not None:
            self.nodes.set_postfix_str(f"{event.node_id} ({event.node_type})")
        elif isinstance(event, NodeProgress):
            if self.steps is None or self.steps.total != event.total or event.value < self.steps.n:
                self._close_steps()
                self.steps = tqdm(total=event.total, unit="step", desc=event.node_id, leave=False)
            self.steps.update(event.value - self.steps.n)
        elif isinstance(event, NodeFinished) and not event.cached and self.nodes is not None:
            self._close_steps()
            self.nodes.update(1)
        elif isinstance(event, RunFinished):
            self._close()

    def _close_steps(self) -> None:
        if self.steps is not None:
            self.steps.close()
            self.steps = None

    def _close(self) -> None:
        self._close_steps()
        if self.nodes is not None:
            self.nodes.close()
            self.nodes = None
