"""Validation stays cheap and bounded: a node cap, and "did you mean" hints only where cheap."""

import pytest

from nodeflow import Executor, Limits, ProblemList, Workflow, validate
from nodeflow.plan import HINT_BUDGET, HINT_MAX_CANDIDATES


def wf(nodes):
    return Workflow.from_dict({"nodeflow": 1, "nodes": nodes})


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


@pytest.mark.parametrize("field", ["max_nodes"])
def test_limits_must_be_positive(field):
    with pytest.raises(ValueError, match=field):
        Limits(**{field: 0})
