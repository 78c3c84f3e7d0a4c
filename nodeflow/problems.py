"""Errors as values: every problem names its code, node, input and a message for people."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    code: str
    message: str
    node_id: str | None = None
    input: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = ""
        if self.node_id is not None:
            where = f"node {self.node_id!r}"
            if self.input is not None:
                where += f", input {self.input!r}"
            where += ": "
        elif self.input is not None:
            where = f"{self.input!r}: "
        return f"{where}{self.message} [{self.code}]"


class ProblemList(ValueError):
    """Raised when a workflow cannot run; carries every problem found, sorted."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.node_id or "", p.input or "", p.code, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))

    def by_node(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.node_id or "", []).append(problem.to_dict())
        return grouped
