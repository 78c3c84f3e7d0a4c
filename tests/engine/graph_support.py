"""What the engine tests read back from a built graph's run."""

from __future__ import annotations

from nodeflow import Executor, Graph


def shown_value(g: Graph, shown: str, executor: Executor, seed: int) -> int:
    """The first value the node `shown` showed when `g` ran on `executor` with the param `seed`."""
    report = g.run(params={"seed": seed}, executor=executor)
    assert report.ok, report.failures
    return report.ui[shown]["values"][0]
