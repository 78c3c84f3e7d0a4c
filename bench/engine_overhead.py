"""Engine overhead: validate + plan + run of trivial-node graphs, and fully cached re-runs.

    .venv/bin/python bench/engine_overhead.py

Builds chains and fan-outs of 100, 1,000 and 2,000 trivial nodes and prints, for
each, the median end-to-end time (fresh cache), time per node, and the median
time of a fully cached re-run. Targets (2 cores): 2,000 nodes ≤ 50 ms end to end,
cached re-run ≤ 10 ms, growing linearly.
"""

from __future__ import annotations

import statistics
import time

from nodeflow import Executor, Registry, Workflow, node


@node("bench.inc", category="bench", output="value")
def inc(value: int = 0, step: int = 1) -> int:
    return value + step


@node("bench.sink", category="bench", output_node=True)
def sink(value: int) -> None:
    pass


def chain(size: int) -> Workflow:
    nodes = {"0": {"type": "bench.inc", "inputs": {"value": 0}}}
    for i in range(1, size - 1):
        nodes[str(i)] = {"type": "bench.inc", "inputs": {"value": {"node": str(i - 1), "output": "value"}}}
    nodes["sink"] = {"type": "bench.sink", "inputs": {"value": {"node": str(size - 2), "output": "value"}}}
    return Workflow.from_dict({"nodeflow": 1, "nodes": nodes})


def fan_out(size: int) -> Workflow:
    """One source, (size-1)/2 incrementers reading it, each with its own sink."""
    nodes = {"src": {"type": "bench.inc", "inputs": {"value": 1}}}
    for i in range((size - 1) // 2):
        nodes[f"i{i}"] = {"type": "bench.inc", "inputs": {"value": {"node": "src", "output": "value"}, "step": i}}
        nodes[f"s{i}"] = {"type": "bench.sink", "inputs": {"value": {"node": f"i{i}", "output": "value"}}}
    return Workflow.from_dict({"nodeflow": 1, "nodes": nodes})


def median_ms(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    registry = Registry([inc, sink])
    print(f"{'graph':<10}{'nodes':>7}{'run ms':>10}{'µs/node':>10}{'cached ms':>11}{'µs/node':>10}")
    for shape, build in (("chain", chain), ("fan-out", fan_out)):
        for size in (100, 1000, 2000):
            workflow = build(size)
            count = len(workflow.nodes)
            fresh = median_ms(lambda: Executor(registry, device="cpu").run(workflow), repeats=7)
            warm = Executor(registry, device="cpu")
            report = warm.run(workflow)
            assert len(report.executed) == count, report.failures
            cached = median_ms(lambda: warm.run(workflow), repeats=7)
            assert warm.run(workflow).executed == []
            print(f"{shape:<10}{count:>7}{fresh:>10.2f}{fresh * 1000 / count:>10.1f}{cached:>11.2f}{cached * 1000 / count:>10.1f}")


if __name__ == "__main__":
    main()
