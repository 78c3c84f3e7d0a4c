"""A malformed workflow is refused with format problems naming the field, never with a crash."""

import pytest

from nodeflow import ProblemList, Workflow


def format_problems(data):
    with pytest.raises(ProblemList) as caught:
        Workflow.from_dict(data)
    problems = caught.value.problems
    assert {p.code for p in problems} == {"format"}
    return problems


def format_one(**fields):
    return {"nodeflow": 1, "nodes": {"a": {"type": "math.add", "inputs": {"x": 1}}}, **fields}


def comfy(**node_fields):
    return {"1": {"class_type": "math.add", "inputs": {"x": 1}, **node_fields}}


@pytest.mark.parametrize("params", [["seed"], "seed", 5])
def test_params_that_are_not_an_object_are_a_format_problem(params):
    [problem] = format_problems(format_one(params=params))
    assert "'params' must be an object" in problem.message


@pytest.mark.parametrize("meta", [["author"], "author"])
def test_meta_that_is_not_an_object_is_a_format_problem(meta):
    [problem] = format_problems(format_one(meta=meta))
    assert "'meta' must be an object" in problem.message


def test_param_with_a_description_that_is_not_text_is_named():
    [problem] = format_problems(format_one(params={"x": {"node": "a", "input": "x", "description": 5}}))
    assert "param 'x'" in problem.message and "'description'" in problem.message


@pytest.mark.parametrize("pos", [5, [1], [1, "2"], "1,2", [True, 2]])
def test_node_position_must_be_two_numbers(pos):
    data = format_one()
    data["nodes"]["a"]["pos"] = pos
    [problem] = format_problems(data)
    assert problem.node_id == "a" and "'pos' must be a list of two numbers" in problem.message


def test_node_title_must_be_text():
    data = format_one()
    data["nodes"]["a"]["title"] = ["x"]
    [problem] = format_problems(data)
    assert problem.node_id == "a" and "'title' must be a string" in problem.message


def test_position_and_title_of_the_right_shape_are_kept():
    data = format_one()
    data["nodes"]["a"].update(pos=[10, 20.5], title="Adder")
    node = Workflow.from_dict(data).nodes["a"]
    assert (node.pos, node.title) == ([10, 20.5], "Adder")


def test_node_ids_must_be_strings_in_format_one():
    [problem] = format_problems({"nodeflow": 1, "nodes": {5: {"type": "math.add", "inputs": {}}}})
    assert "node id 5 must be a string" in problem.message


def test_input_names_must_be_strings():
    [problem] = format_problems({"nodeflow": 1, "nodes": {"a": {"type": "math.add", "inputs": {5: 1}}}})
    assert problem.node_id == "a" and "input name 5 must be a string" in problem.message


def test_comfy_inputs_as_a_list_is_named():
    [problem] = format_problems(comfy(inputs=[1, 2]))
    assert problem.node_id == "1" and "'inputs' must be an object, got a list" in problem.message


def test_comfy_meta_as_a_list_is_named():
    [problem] = format_problems(comfy(_meta=["title"]))
    assert problem.node_id == "1" and "'_meta' must be an object, got a list" in problem.message


def test_comfy_title_must_be_text():
    [problem] = format_problems(comfy(_meta={"title": 5}))
    assert problem.node_id == "1" and "'title' must be a string" in problem.message


@pytest.mark.parametrize("class_type", [5, {}, None, ["math.add"]])
def test_comfy_class_type_must_be_a_string(class_type):
    [problem] = format_problems(comfy(class_type=class_type))
    assert problem.node_id == "1" and "string 'class_type'" in problem.message


def test_comfy_node_that_is_not_an_object_is_named_beside_valid_nodes():
    [problem] = format_problems({**comfy(), "2": 5})
    assert problem.node_id == "2" and "'class_type'" in problem.message


def test_node_ids_must_be_strings_in_comfy_format():
    [problem] = format_problems({7: {"class_type": "math.add", "inputs": {}}})
    assert "node id 7 must be a string" in problem.message


def test_every_malformed_node_is_reported_at_once():
    problems = format_problems({"1": {"class_type": 5}, "2": {"class_type": "math.add", "inputs": "x"}})
    assert [p.node_id for p in problems] == ["1", "2"]
