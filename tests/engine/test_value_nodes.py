"""Value nodes feed widget inputs through links, in Python as in the editor."""

from nodeflow import Graph, Registry, validate
from nodes import values

from .pack import math_nodes


def test_one_value_node_feeds_two_widget_inputs():
    registry = Registry()
    registry.add_module(values)
    registry.add_module(math_nodes)
    g = Graph(registry)
    shared = g.add("value.int", value=20)
    total = g.add("math.add", x=shared, y=shared.out.value)
    g.add("io.show", value=total)
    assert g.run().value(total.id, "int") == 40


def test_seed_value_refuses_negative_seeds():
    registry = Registry()
    registry.add_module(values)
    registry.add_module(math_nodes)
    g = Graph(registry)
    seed = g.add("value.seed", seed=-1)
    g.add("io.show", value=seed)
    problems = validate(g.workflow, registry)
    assert [(p.node_id, p.input, p.code) for p in problems] == [(seed.id, "seed", "invalid_value")]
