"""Validation stays cheap and bounded: a node cap, a pixel budget, and "did you mean" hints only where cheap."""

import pytest

from nodeflow import Executor, Limits, NodeDefinitionError, ProblemList, Registry, Workflow, node, plan, validate
from nodeflow.plan import HINT_BUDGET, HINT_MAX_CANDIDATES

from .pack import math_nodes


@node("canvas.blank", category="test", pixels=("width", "height", "batch"))
def blank(width: int | None = None, height: int | None = None, batch: int = 1) -> int:
    return (width or 1) * (height or 1) * batch


@node("canvas.show", category="test", output_node=True)
def show(pixels: int) -> None:
    pass


@pytest.fixture
def canvas_registry() -> Registry:
    registry = Registry([blank, show])
    registry.add_module(math_nodes)
    return registry


def wf(nodes):
    return Workflow.from_dict({"nodeflow": 1, "nodes": nodes})


def canvas(**sizes):
    return {"type": "canvas.blank", "inputs": sizes}


def shown(node_id):
    return {"type": "canvas.show", "inputs": {"pixels": {"node": node_id, "output": "int"}}}


def hinted(problems):
    return [p for p in problems if "did you mean" in p.message]


def test_workflow_over_the_node_cap_is_refused_with_one_problem_before_any_node_is_checked(registry):
    workflow = wf({f"n{i}": {"type": "no.such_type", "inputs": {}} for i in range(11)})
    [problem] = validate(workflow, registry, Limits(max_nodes=10))
    assert problem.code == "too_many_nodes"
    assert "11 nodes" in problem.message and "limit of 10" in problem.message


def test_workflow_at_the_node_cap_is_checked_as_usual(registry):
    workflow = wf({f"n{i}": {"type": "io.show", "inputs": {"value": i}} for i in range(10)})
    assert validate(workflow, registry, Limits(max_nodes=10)) == []


def test_broken_links_get_a_few_hints_per_validation_not_one_each(registry):
    nodes = {f"node{i}": {"type": "io.show", "inputs": {"value": {"node": f"node{i}x", "output": "int"}}}
             for i in range(HINT_BUDGET * 3)}
    problems = validate(wf(nodes), registry)
    assert [p.code for p in problems] == ["missing_node"] * len(nodes)
    assert len(hinted(problems)) == HINT_BUDGET


def test_no_hint_is_computed_from_a_long_list_of_node_ids(registry):
    nodes = {f"node{i}": {"type": "io.show", "inputs": {"value": {"node": f"node{i}x", "output": "int"}}}
             for i in range(HINT_MAX_CANDIDATES + 1)}
    problems = validate(wf(nodes), registry)
    assert len(problems) == len(nodes) and hinted(problems) == []


def test_no_hint_is_computed_for_a_very_long_name(registry):
    [problem] = validate(wf({"s": {"type": "io.show" + "w" * 1000, "inputs": {}}}), registry)
    assert problem.code == "unknown_type" and not hinted([problem])


def test_executor_validates_against_its_limits(registry):
    workflow = wf({"a": {"type": "math.add", "inputs": {"x": 1}},
                   "s": {"type": "io.show", "inputs": {"value": {"node": "a", "output": "int"}}}})
    assert Executor(registry, device="cpu").limits == Limits()
    with pytest.raises(ProblemList) as caught:
        Executor(registry, device="cpu", limits=Limits(max_nodes=1)).run(workflow)
    assert [p.code for p in caught.value.problems] == ["too_many_nodes"]


def test_node_over_the_pixel_budget_is_named_with_its_figures_and_the_limit(canvas_registry):
    workflow = wf({"big": canvas(width=4096, height=4096, batch=8), "s": shown("big")})
    [problem] = validate(workflow, canvas_registry)
    assert (problem.code, problem.node_id, problem.input) == ("too_many_pixels", "big", "width")
    assert "width × height × batch = 4096 × 4096 × 8 = 134,217,728 pixels" in problem.message
    assert "limit of 16,777,216 pixels" in problem.message


def test_pixel_budget_is_for_the_whole_prompt(canvas_registry):
    workflow = wf({"a": canvas(width=3000, height=3000), "b": canvas(width=3000, height=2800),
                   "sa": shown("a"), "sb": shown("b")})
    [problem] = validate(workflow, canvas_registry)
    assert problem.node_id == "a" and "17,400,000 with the 1 other node(s)" in problem.message
    assert validate(workflow, canvas_registry, Limits(max_pixels=17_400_000)) == []


def test_sizes_left_unset_are_not_counted(canvas_registry):
    workflow = wf({"a": canvas(width=100_000), "s": shown("a")})
    assert validate(workflow, canvas_registry, Limits(max_pixels=100)) == []


def test_a_negative_size_does_not_offset_the_pixels_of_other_nodes(canvas_registry):
    workflow = wf({"big": canvas(width=5000, height=5000), "odd": canvas(width=-5000, height=5000),
                   "s": shown("big"), "t": shown("odd")})
    assert [p.code for p in validate(workflow, canvas_registry)] == ["too_many_pixels"]


def test_nodes_that_will_not_run_are_not_counted(canvas_registry):
    workflow = wf({"big": canvas(width=5000, height=5000), "small": canvas(width=8, height=8), "s": shown("small")})
    assert validate(workflow, canvas_registry) == []
    with pytest.raises(ProblemList):
        plan(workflow, canvas_registry, targets=["big"])


def test_pixels_must_name_literal_inputs_of_the_node():
    with pytest.raises(NodeDefinitionError, match=r"test_limits\..*sized.*pixels names 'depth'"):
        @node("t.sized", category="t", pixels=("width", "depth"))
        def sized(width: int) -> int:
            return width


@pytest.mark.parametrize("field", ["max_nodes", "max_pixels"])
def test_limits_must_be_positive(field):
    with pytest.raises(ValueError, match=field):
        Limits(**{field: 0})
