"""`Executor.run_batch`: prompts that differ in what a batch node can stack run it once, and each prompt still
gets the report, events and cache entries of its solo run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nodeflow import Context, Executor, Registry, Workflow, node
from nodeflow.events import NodeFinished, NodeProgress, NodeStarted
from nodeflow.executor import BatchItem
from nodeflow.problems import ProblemList

CALLS: list[tuple[str, int]] = []  # (node, how many prompts the call served)


@dataclass(eq=False)
class Vector:
    """Numbers of one prompt, or of several stacked (one row each)."""

    rows: list[list[float]]

    @classmethod
    def stacked(cls, values: list[Vector]) -> Vector | None:
        if len({len(row) for value in values for row in value.rows}) > 1:
            return None
        return cls([row for value in values for row in value.rows])

    def unstacked(self, count: int) -> list[Vector]:
        size = len(self.rows) // count
        return [Vector(self.rows[i * size:(i + 1) * size]) for i in range(count)]


@node("batchtest.source", category="test", output="vector")
def source(seed: int = 0, length: int = 2) -> Vector:
    CALLS.append(("source", 1))
    return Vector([[float(seed + i) for i in range(length)]])


@node("batchtest.weights", category="test", output="vector")
def weights(value: float = 1.0) -> Vector:
    CALLS.append(("weights", 1))
    return Vector([[value, value]])


@node("batchtest.scale", category="test", output="vector", batch=True)
def scale(ctx: Context, vector: Vector, weights: Vector, factor: float = 2.0) -> Vector:
    """Each row times the weights and `factor`; refuses negative numbers."""
    CALLS.append(("scale", len(vector.rows)))
    if any(x < 0 for row in vector.rows for x in row):
        raise ValueError("negative")
    for step in (1, 2):
        ctx.progress(step, 2, f"picture of {vector.rows}" if ctx.wants_previews else None)
        ctx.check_interrupt()
    return Vector([[x * w * factor for x, w in zip(row, weights.rows[0])] for row in vector.rows])


@node("batchtest.show", category="test", output_node=True)
def show(ctx: Context, vector: Vector) -> None:
    CALLS.append(("show", 1))
    ctx.show(values=vector.rows[0])


def _workflow(seed: int, factor: float = 2.0, length: int = 2) -> Workflow:
    return Workflow.from_dict({"nodeflow": 1, "nodes": {
        "src": {"type": "batchtest.source", "inputs": {"seed": seed, "length": length}},
        "w": {"type": "batchtest.weights", "inputs": {"value": 0.5}},
        "scale": {"type": "batchtest.scale", "inputs": {"vector": {"node": "src", "output": "vector"},
                                                        "weights": {"node": "w", "output": "vector"},
                                                        "factor": factor}},
        "show": {"type": "batchtest.show", "inputs": {"vector": {"node": "scale", "output": "vector"}}},
    }})


def _executor() -> Executor:
    return Executor(Registry([source, weights, scale, show]), device="cpu")


def _batch(executor: Executor, workflows: list[Workflow], events: dict[str, list] | None = None,
           previews: bool = False) -> list:
    items = [BatchItem(workflow, f"run{i}", None if events is None else events.setdefault(f"run{i}", []).append)
             for i, workflow in enumerate(workflows)]
    return executor.run_batch(items, previews=previews)


def test_a_batch_node_runs_once_for_all_and_each_prompt_gets_its_solo_result():
    CALLS.clear()
    reports = _batch(_executor(), [_workflow(seed) for seed in (1, 5, 9)])
    assert sorted(CALLS) == sorted([("source", 1)] * 3 + [("weights", 1), ("scale", 3)] + [("show", 1)] * 3)
    solo = [_executor().run(_workflow(seed)) for seed in (1, 5, 9)]
    assert [r.ui["show"] for r in reports] == [r.ui["show"] for r in solo] == [
        {"values": [1.0, 2.0]}, {"values": [5.0, 6.0]}, {"values": [9.0, 10.0]}]
    assert all(report.ok for report in reports)
    assert reports[1].cached == ["w"] and reports[0].executed == ["src", "w", "scale", "show"]


def test_each_prompt_of_a_batch_has_its_own_cache_entries():
    executor = _executor()
    _batch(executor, [_workflow(seed) for seed in (1, 5)])
    CALLS.clear()
    again = [executor.run(_workflow(seed)) for seed in (1, 5)]
    assert CALLS == [] and [sorted(r.cached) for r in again] == [["scale", "show", "src", "w"]] * 2


def test_each_prompt_gets_its_own_events_and_no_picture_of_another_prompt():
    events: dict[str, list] = {}
    _batch(_executor(), [_workflow(seed) for seed in (1, 5)], events, previews=True)
    for run_id in ("run0", "run1"):
        mine = events[run_id]
        assert {event.run_id for event in mine} == {run_id}
        started = ["src", "w", "scale", "show"] if run_id == "run0" else ["src", "scale", "show"]  # w: shared
        assert [e.node_id for e in mine if isinstance(e, NodeStarted)] == started
        assert [(e.value, e.preview) for e in mine if isinstance(e, NodeProgress)] == [(1, None), (2, None)]
        assert [e.node_id for e in mine if isinstance(e, NodeFinished) and e.ui] == ["show"]


def test_prompts_that_differ_in_a_literal_of_the_batch_node_run_it_each():
    CALLS.clear()
    reports = _batch(_executor(), [_workflow(1, factor=2.0), _workflow(5, factor=3.0)])
    assert [call for call in CALLS if call[0] == "scale"] == [("scale", 1), ("scale", 1)]
    assert [r.ui["show"] for r in reports] == [{"values": [1.0, 2.0]}, {"values": [7.5, 9.0]}]


def test_values_that_do_not_stack_run_the_batch_node_each():
    CALLS.clear()
    reports = _batch(_executor(), [_workflow(1, length=2), _workflow(5, length=3)])
    assert [call for call in CALLS if call[0] == "scale"] == [("scale", 1), ("scale", 1)]
    assert all(report.ok for report in reports)


def test_a_failure_in_a_batch_stays_with_the_prompt_that_caused_it():
    CALLS.clear()
    reports = _batch(_executor(), [_workflow(1), _workflow(-5), _workflow(9)])
    assert [call for call in CALLS if call[0] == "scale"] == [("scale", 3), ("scale", 1), ("scale", 1), ("scale", 1)]
    assert [report.ok for report in reports] == [True, False, True]
    assert [f.node_id for f in reports[1].failures] == ["scale"] and reports[1].skipped == ["show"]
    assert reports[2].ui["show"] == {"values": [9.0, 10.0]}


def test_a_workflow_that_cannot_run_gets_its_problems_and_the_others_run():
    broken = Workflow.from_dict({"nodeflow": 1, "nodes": {"x": {"type": "batchtest.nope", "inputs": {}}}})
    first, problems, last = _batch(_executor(), [_workflow(1), broken, _workflow(2)])
    assert isinstance(problems, ProblemList) and first.ok and last.ok


def _interrupting(executor: Executor, events: dict[str, list], run_id: str, node_id: str):
    """A subscriber for `run_id` that asks to interrupt it when its node `node_id` reports progress or starts."""
    def on_event(event) -> None:
        events.setdefault(run_id, []).append(event)
        if isinstance(event, (NodeProgress, NodeStarted)) and event.node_id == node_id:
            executor.interrupt(run_id)
    return on_event


def test_an_interrupt_of_one_prompt_in_a_batch_stops_only_that_prompt():
    executor, events = _executor(), {}
    items = [BatchItem(_workflow(seed), f"run{seed}") for seed in (1, 5, 9)]
    items[1] = BatchItem(_workflow(5), "run5", _interrupting(executor, events, "run5", "scale"))
    CALLS.clear()
    first, stopped, last = executor.run_batch(items)
    assert stopped.interrupted and "show" not in stopped.ui
    assert first.ok and last.ok and [first.ui["show"], last.ui["show"]] == [{"values": [1.0, 2.0]},
                                                                          {"values": [9.0, 10.0]}]
    assert [call for call in CALLS if call[0] == "scale"] == [("scale", 3), ("scale", 2)]  # again, without it


def test_an_interrupt_of_one_prompt_met_by_another_prompts_node_lets_that_one_go_on():
    executor = _executor()

    def interrupt_the_other(event) -> None:
        if isinstance(event, NodeProgress) and event.node_id == "scale" and event.value == 1:
            executor.interrupt("run5")

    items = [BatchItem(_workflow(1, factor=2.0), "run1", interrupt_the_other),  # factors differ: scale runs each
             BatchItem(_workflow(5, factor=3.0), "run5")]
    CALLS.clear()
    first, stopped = executor.run_batch(items)
    assert first.ok and first.ui["show"] == {"values": [1.0, 2.0]}
    assert stopped.interrupted and "show" not in stopped.ui
    assert [call for call in CALLS if call[0] == "scale"] == [("scale", 1), ("scale", 1)]  # run1's, twice


def test_an_interrupt_of_the_whole_batch_stops_every_prompt():
    executor = _executor()
    items = [BatchItem(_workflow(seed), f"run{seed}") for seed in (1, 5)]
    items[0] = BatchItem(_workflow(1), "run1", lambda event: isinstance(event, NodeProgress) and executor.interrupt())
    reports = executor.run_batch(items)
    assert all(report.interrupted for report in reports)


@dataclass(eq=False)
class Rows:
    """A tensor of rows, one per prompt when stacked."""

    values: Any

    @classmethod
    def stacked(cls, values: list[Rows]) -> Rows:
        import torch

        return cls(torch.cat([value.values for value in values]))

    def unstacked(self, count: int) -> list[Rows]:
        return [Rows(part.clone()) for part in self.values.chunk(count)]


@node("batchtest.rows", category="test", output="rows")
def rows(seed: int = 0) -> Rows:
    import torch

    return Rows(torch.full((1, 2), float(seed)))


@dataclass(eq=False)
class Offset:
    """A tensor that does not stack: the prompts of a batch share it."""

    value: Any


@node("batchtest.offset", category="test", output="offset")
def offset() -> Offset:
    import torch

    return Offset(torch.ones(2))


@node("batchtest.add_in_place", category="test", output="rows", batch=True, output_node=True)
def add_in_place(rows: Rows, offset: Offset) -> Rows:
    """Adds the offset, changing the shared offset tensor in place (what the guard forbids)."""
    offset.value.add_(1.0)
    return Rows(rows.values + offset.value)


def test_a_batch_node_that_changes_a_shared_input_in_place_fails_in_each_prompts_name():
    executor = Executor(Registry([rows, offset, add_in_place]), device="cpu")
    workflows = [Workflow.from_dict({"nodeflow": 1, "nodes": {
        "rows": {"type": "batchtest.rows", "inputs": {"seed": seed}},
        "offset": {"type": "batchtest.offset", "inputs": {}},
        "add": {"type": "batchtest.add_in_place", "inputs": {"rows": {"node": "rows", "output": "rows"},
                                                             "offset": {"node": "offset", "output": "offset"}}},
    }}) for seed in (1, 2)]
    reports = executor.run_batch([BatchItem(workflow, f"run{i}") for i, workflow in enumerate(workflows)])
    assert [[(f.node_id, f.exception_type) for f in r.failures] for r in reports] == [
        [("add", "InputChangedInPlace")]] * 2
