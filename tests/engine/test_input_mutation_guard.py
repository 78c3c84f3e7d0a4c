"""A node that changes an input value in place fails, naming itself and the input, and the cache never serves
the changed value: torch tensors' version counters are compared before and after every node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from nodeflow import Executor, Graph, ModelHandle, Registry, node, plan

CALLS: list[str] = []


@dataclass(eq=False)
class Samples:
    """A value holding a tensor, as latents do."""

    tensor: Any


class Weights(ModelHandle):
    """A model handle: its module belongs to the model service, which may change it."""


@node("guard.zeros", category="test", output="samples")
def zeros() -> Samples:
    CALLS.append("guard.zeros")
    return Samples(torch.zeros(3))


@node("guard.add_one_in_place", category="test", output="samples")
def add_one_in_place(samples: Samples) -> Samples:
    samples.tensor.add_(1)
    return samples


@node("guard.add_one", category="test", output="samples")
def add_one(samples: Samples) -> Samples:
    return Samples(samples.tensor + 1)


@node("guard.weights", category="test", output="weights")
def weights() -> Weights:
    return Weights(torch.nn.Linear(2, 2))


@node("guard.tune_in_place", category="test", output="samples")
def tune_in_place(weights: Weights, samples: Samples) -> Samples:
    with torch.no_grad():
        weights.module.weight.mul_(2)
    return Samples(samples.tensor + 1)


@node("guard.show", category="test", output_node=True)
def show(samples: Samples) -> None:
    pass


def executor() -> Executor:
    return Executor(Registry([zeros, add_one_in_place, add_one, weights, tune_in_place, show]), device="cpu")


def zeros_then(graph: Graph, type_id: str, **inputs: Any):
    source = graph.add("guard.zeros")
    changer = graph.add(type_id, samples=source, **inputs)
    graph.add("guard.show", samples=changer)
    return source, changer


def test_a_node_that_changes_its_input_in_place_fails_naming_itself_and_the_input():
    graph = Graph(executor().registry)
    _, changer = zeros_then(graph, "guard.add_one_in_place")
    report = graph.run(executor=executor())
    [failure] = report.failures
    assert failure.node_id == changer.id and failure.exception_type == "InputChangedInPlace"
    assert f"node {changer.id!r} (guard.add_one_in_place) changed its input 'samples' in place" in failure.message
    assert "clone()" in failure.message


def test_the_changed_value_is_not_served_from_the_cache_again():
    runner = executor()
    changing = Graph(runner.registry)
    zeros_then(changing, "guard.add_one_in_place")
    runner.run(changing.workflow)
    CALLS.clear()
    reading = Graph(runner.registry)
    source, _ = zeros_then(reading, "guard.add_one")
    report = runner.run(reading.workflow)
    assert report.ok, report.failures
    assert CALLS == ["guard.zeros"], "the source ran again"
    assert torch.equal(report.value(source.id, "samples").tensor, torch.zeros(3))


def test_a_node_that_copies_before_changing_runs_fine():
    graph = Graph(executor().registry)
    zeros_then(graph, "guard.add_one")
    assert graph.run(executor=executor()).ok


def test_model_modules_are_left_to_the_model_service():
    graph = Graph(executor().registry)
    zeros_then(graph, "guard.tune_in_place", weights=graph.add("guard.weights"))
    assert graph.run(executor=executor()).ok



def test_nodes_that_would_read_the_changed_value_later_in_the_run_are_skipped():
    graph = Graph(executor().registry)
    source, changer = zeros_then(graph, "guard.add_one_in_place")
    reader = graph.add("guard.add_one", samples=source)
    graph.add("guard.show", samples=reader)
    order = [step.node_id for step in plan(graph.workflow, graph.registry).steps]
    assert order.index(changer.id) < order.index(reader.id)
    report = graph.run(executor=executor())
    assert [f.node_id for f in report.failures] == [changer.id] and reader.id in report.skipped
