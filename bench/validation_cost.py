"""Validation cost of a hostile workflow: every node links to a node that does not exist.

    .venv/bin/python bench/validation_cost.py

Prints, for growing workflows, the time to validate with a "did you mean" hint
for every broken link (as validation did before hints had a budget: quadratic,
so only the small sizes are measured) and with today's budget. Target: 3,000
nodes well under a second, and the node cap (5,000 by default) refusing more
before any node is looked at.
"""

from __future__ import annotations

import importlib
import time
from unittest import mock

from nodeflow import Limits, Registry, Workflow, node, validate

plan_module = importlib.import_module("nodeflow.plan")  # the module: `nodeflow.plan` is also the function

UNBOUNDED_SIZES = (300, 1000)


@node("bench.sink", category="bench", output_node=True)
def sink(value: int) -> None:
    pass


def broken_links(size: int) -> Workflow:
    nodes = {f"node-{i}": {"type": "bench.sink", "inputs": {"value": {"node": f"node-{i}x", "output": "value"}}}
             for i in range(size)}
    return Workflow.from_dict({"nodeflow": 1, "nodes": nodes})


def seconds(workflow: Workflow, registry: Registry, limits: Limits = Limits()) -> float:
    started = time.perf_counter()
    validate(workflow, registry, limits)
    return time.perf_counter() - started


def main() -> None:
    registry = Registry([sink])
    print(f"{'nodes':>7}{'hint every link s':>20}{'hint budget s':>16}{'ratio':>10}")
    for size in (300, 1000, 3000, 5000):
        workflow = broken_links(size)
        budgeted = seconds(workflow, registry)
        unbounded = ratio = "-"
        if size in UNBOUNDED_SIZES:
            with mock.patch.multiple(plan_module, HINT_BUDGET=size, HINT_MAX_CANDIDATES=size):
                every = seconds(workflow, registry)
            unbounded, ratio = f"{every:.3f}", f"{every / budgeted:.0f}x"
        print(f"{size:>7}{unbounded:>20}{budgeted:>16.3f}{ratio:>10}")
    over = broken_links(20_000)
    print(f"20,000 nodes refused by the node cap in {seconds(over, registry):.4f} s")


if __name__ == "__main__":
    main()
