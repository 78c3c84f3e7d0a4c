"""The Python builder makes the same format-1 workflows the CLI and the editor use."""

import json

import pytest

from nodeflow import Graph, Workflow


def test_links_by_output_attribute_and_run(registry):
    g = Graph(registry)
    q = g.add("math.divmod", a=17, b=5)
    total = g.add("math.add", x=q.out.quotient, y=q.out["remainder"])
    g.add("io.show", value=total)
    report = g.run()
    assert report.value(total.id, "int") == 5
    assert report.ui[list(g.workflow.nodes)[-1]] == {"values": [5]}


def test_outputs_are_discoverable_for_autocompletion(registry):
    q = Graph(registry).add("math.divmod", a=1, b=1)
    assert dir(q.out) == ["quotient", "remainder"]
    with pytest.raises(AttributeError, match="outputs: quotient, remainder"):
        q.out.sum


def test_unknown_type_or_input_is_refused_at_add(registry):
    g = Graph(registry)
    with pytest.raises(KeyError, match="math.add"):
        g.add("math.ad", x=1)
    with pytest.raises(KeyError, match=r"\['x'\]"):
        g.add("math.add", xx=1)


def test_save_and_load_round_trip(registry, tmp_path):
    g = Graph(registry)
    a = g.add("math.add", x=1, y=2, pos=[10, 20], title="first")
    s = g.add("math.scale", value=a.out.int, factor=3.0)
    g.add("io.show", value=s.out.scaled)
    g.param("y", a, "y", description="second addend")
    path = tmp_path / "wf.json"
    g.save(path)
    data = json.loads(path.read_text())
    assert data["nodes"]["2"]["inputs"]["value"] == {"node": "1", "output": "int"}
    assert data["nodes"]["1"]["pos"] == [10, 20] and data["params"]["y"]["description"] == "second addend"
    loaded = Graph.load(path, registry)
    assert loaded.to_dict() == data
    assert loaded.run(params={"y": 4}).value("2", "scaled") == 15.0


def test_graph_reuses_its_cache_between_runs(registry, calls):
    g = Graph(registry)
    a = g.add("math.add", x=1)
    g.add("io.show", value=a)
    g.run()
    assert g.run().executed == []


def test_comfy_prompt_converts_to_format_one(registry):
    comfy = {
        "3": {"class_type": "math.add", "inputs": {"x": 2, "y": 3}, "_meta": {"title": "Adder"}},
        "4": {"class_type": "io.show", "inputs": {"value": ["3", 0]}},
    }
    workflow = Workflow.from_dict(comfy)
    assert workflow.to_dict()["nodes"]["4"]["inputs"]["value"] == {"node": "3", "output": 0}
    assert workflow.nodes["3"].title == "Adder"
    assert Graph(registry, workflow).run().ui["4"] == {"values": [5]}


def test_params_list_current_values():
    workflow = Workflow.from_dict({"nodeflow": 1, "nodes": {"a": {"type": "math.add", "inputs": {"x": 1}}},
                                   "params": {"x": {"node": "a", "input": "x"}, "y": {"node": "a", "input": "y"}}})
    assert workflow.param_values() == {"x": 1, "y": None}
    assert workflow.with_params({"x": 9}).param_values()["x"] == 9
    assert workflow.param_values()["x"] == 1, "with_params returns a copy"
