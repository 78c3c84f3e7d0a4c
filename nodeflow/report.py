"""What a run reports: which nodes executed or came from the cache, their outputs and UI results, failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class NodeFailure:
    node_id: str
    node_type: str
    message: str
    exception_type: str
    traceback: str
    inputs: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class RunReport:
    run_id: str
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    ui: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[NodeFailure] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False
    total_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures and not self.interrupted

    def value(self, node_id: str, output: str) -> Any:
        return self.outputs[node_id][output]

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "executed": self.executed, "cached": self.cached, "skipped": self.skipped,
            "failures": [f.to_dict() for f in self.failures], "seconds": self.seconds,
            "interrupted": self.interrupted, "total_seconds": self.total_seconds,
        }
