"""Validation reports every problem at once, each naming node, input and what is wrong."""

import pytest

from nodeflow import ProblemList, Workflow, plan, validate


def wf(nodes, params=None):
    return Workflow.from_dict({"nodeflow": 1, "nodes": nodes, "params": params or {}})


def link(node, output):
    return {"node": node, "output": output}


def codes(problems):
    return sorted((p.code, p.node_id, p.input) for p in problems)


def test_valid_workflow_has_no_problems(registry):
    workflow = wf({"a": {"type": "math.add", "inputs": {"x": 1}},
                   "s": {"type": "io.show", "inputs": {"value": link("a", "int")}}})
    assert validate(workflow, registry) == []


def test_unknown_node_type_suggests_close_names(registry):
    [problem] = validate(wf({"s": {"type": "io.shwo", "inputs": {}}}), registry)
    assert problem.code == "unknown_type" and problem.node_id == "s"
    assert "'io.show'" in problem.message


def test_missing_required_input_is_named(registry):
    problems = validate(wf({"s": {"type": "io.show", "inputs": {}}}), registry)
    assert codes(problems) == [("missing_input", "s", "value")]


def test_unknown_input_name_suggests_close_names(registry):
    problems = validate(wf({"s": {"type": "io.show", "inputs": {"value": 1, "valeu": 2}}}), registry)
    assert codes(problems) == [("unknown_input", "s", "valeu")]
    assert "'value'" in problems[0].message


def test_link_to_missing_node_and_missing_output(registry):
    problems = validate(wf({
        "a": {"type": "math.add", "inputs": {"x": 1}},
        "s": {"type": "io.show", "inputs": {"value": link("nope", "int")}},
        "t": {"type": "io.show", "inputs": {"value": link("a", "sum")}},
    }), registry)
    assert codes(problems) == [("missing_node", "s", "value"), ("missing_output", "t", "value")]
    assert "has outputs: int" in problems[1].message


def test_link_type_mismatch_shows_both_types(registry):
    problems = validate(wf({
        "b": {"type": "math.box", "inputs": {"value": 1}},
        "s": {"type": "io.show", "inputs": {"value": link("b", "integer")}},
    }), registry)
    assert codes(problems) == [("type_mismatch", "s", "value")]
    assert "Integer" in problems[0].message and "float | str" in problems[0].message


def test_subclass_output_feeds_base_class_input_and_int_feeds_float(registry):
    workflow = wf({
        "b": {"type": "math.box", "inputs": {"value": 1}},
        "u": {"type": "math.unbox", "inputs": {"number": link("b", "integer")}},
        "a": {"type": "math.add", "inputs": {"x": 1}},
        "m": {"type": "math.scale", "inputs": {"value": link("a", 0)}},
        "s": {"type": "io.show", "inputs": {"value": link("u", "value")}},
        "t": {"type": "io.show", "inputs": {"value": link("m", "scaled")}},
    })
    assert validate(workflow, registry) == []


def test_literal_out_of_range_shows_the_bound(registry):
    problems = validate(wf({"a": {"type": "math.add", "inputs": {"x": 1, "y": 5000}},
                            "s": {"type": "io.show", "inputs": {"value": link("a", "int")}}}), registry)
    assert codes(problems) == [("invalid_value", "a", "y")]
    assert "1000" in problems[0].message and "5000" in problems[0].message


def test_literal_of_wrong_kind_and_bad_enum(registry):
    problems = validate(wf({"m": {"type": "math.scale", "inputs": {"value": "abc", "mode": "pow"}},
                            "s": {"type": "io.show", "inputs": {"value": link("m", "scaled")}}}), registry)
    assert codes(problems) == [("invalid_value", "m", "mode"), ("invalid_value", "m", "value")]
    assert "'mul'" in problems[0].message


def test_literal_given_to_a_socket_input(registry):
    problems = validate(wf({"u": {"type": "math.unbox", "inputs": {"number": 3}},
                            "s": {"type": "io.show", "inputs": {"value": link("u", "value")}}}), registry)
    assert codes(problems) == [("literal_for_socket", "u", "number")]
    assert "Number" in problems[0].message


def test_cycle_names_the_nodes_on_it(registry):
    problems = validate(wf({
        "a": {"type": "math.add", "inputs": {"x": link("b", "int")}},
        "b": {"type": "math.add", "inputs": {"x": link("a", "int")}},
        "s": {"type": "io.show", "inputs": {"value": link("b", "int")}},
    }), registry)
    assert codes(problems) == [("cycle", "a", None)]
    assert "a → b → a" in problems[0].message


def test_no_output_node(registry):
    problems = validate(wf({"a": {"type": "math.add", "inputs": {"x": 1}}}), registry)
    assert codes(problems) == [("no_output", None, None)]


def test_param_pointing_nowhere(registry):
    problems = validate(wf({"a": {"type": "math.add", "inputs": {"x": 1}},
                            "s": {"type": "io.show", "inputs": {"value": link("a", "int")}}},
                           params={"gone": {"node": "zz", "input": "x"}, "bad": {"node": "a", "input": "z"}}), registry)
    assert codes(problems) == [("bad_param", "a", "z"), ("bad_param", "zz", "x")]


def test_unknown_param_is_refused_when_set():
    workflow = wf({}, params={"seed": {"node": "a", "input": "x"}})
    with pytest.raises(ProblemList) as caught:
        workflow.with_params({"sede": 1})
    assert caught.value.problems[0].code == "unknown_param"
    assert "seed" in caught.value.problems[0].message


def test_every_problem_is_reported_at_once_sorted(registry):
    workflow = wf({
        "a": {"type": "math.add", "inputs": {"x": link("b", "int"), "y": 9999}},
        "b": {"type": "math.add", "inputs": {"x": link("a", "int")}},
        "c": {"type": "math.box", "inputs": {"value": 1}},
        "s": {"type": "io.show", "inputs": {"value": link("c", "integer")}},
    })
    with pytest.raises(ProblemList) as caught:
        plan(workflow, registry)
    assert codes(caught.value.problems) == [("cycle", "a", None), ("invalid_value", "a", "y"), ("type_mismatch", "s", "value")]
    assert [p.node_id for p in caught.value.problems] == ["a", "a", "s"]


def test_malformed_workflow_file_reports_format_problems():
    with pytest.raises(ProblemList) as caught:
        Workflow.from_dict({"nodeflow": 2, "nodes": {"a": {"inputs": {}}}})
    assert [p.code for p in caught.value.problems] == ["format", "format"]
