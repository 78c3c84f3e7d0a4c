"""Events a run publishes to its subscribers (the CLI's progress bar, the server's WebSocket)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Union


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    node_ids: list[str]


@dataclass(frozen=True)
class NodesCached:
    run_id: str
    node_ids: list[str]


@dataclass(frozen=True)
class NodeStarted:
    run_id: str
    node_id: str
    node_type: str


@dataclass(frozen=True)
class NodeProgress:
    run_id: str
    node_id: str
    value: int
    total: int
    preview: Any = None


@dataclass(frozen=True)
class NodeFinished:
    run_id: str
    node_id: str
    node_type: str
    seconds: float
    cached: bool = False
    ui: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeFailed:
    run_id: str
    failure: Any  # NodeFailure


@dataclass(frozen=True)
class RunInterrupted:
    run_id: str
    node_id: str | None
    node_type: str | None


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    report: Any  # RunReport


Event = Union[RunStarted, NodesCached, NodeStarted, NodeProgress, NodeFinished, NodeFailed, RunInterrupted, RunFinished]
Subscriber = Callable[[Event], None]
