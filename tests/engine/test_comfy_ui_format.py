"""ComfyUI's UI format (nodes/links arrays, widgets_values) and API format, converted with the node schemas."""

from __future__ import annotations

import pytest

from nodeflow import default_registry
from nodeflow.comfy_formats import api_prompt, load_any
from nodeflow.problems import ProblemList
from nodeflow.workflow import Link, Workflow
from tests.comfy_ui_support import load_and_save, ui_input, ui_node, ui_output, ui_workflow


@pytest.fixture(scope="module")
def registry():
    return default_registry()


def _loader_and_latents(latent_widgets):
    return ui_workflow([
        ui_node(1, "sd.load_model", ["my-sd", "float32", "auto"],
                outputs=[ui_output("unet", "UNet", [1]), ui_output("vae", "VAE", [2])]),
        ui_node(2, "latents.empty", latent_widgets, inputs=[ui_input("unet", "UNet", 1), ui_input("vae", "VAE", 2)]),
    ], [[1, 1, 0, 2, 0, "UNet"], [2, 1, 3, 2, 1, "VAE"]])


def test_widget_values_fill_the_widget_inputs_in_schema_order_past_a_seeds_control_value(registry):
    workflow = load_any(_loader_and_latents([0, 512, 2, 42, "randomize"]), registry).workflow
    assert workflow.nodes["2"].inputs == {
        "width": None, "height": 512, "batch_size": 2, "seed": 42, "unet": Link("1", 0), "vae": Link("1", 3)}
    assert workflow.nodes["1"].inputs == {"model": "my-sd", "dtype": "float32", "device": "auto"}


def test_the_upload_buttons_value_is_skipped_reroutes_are_followed_and_notes_dropped(registry):
    workflow = load_any(load_and_save(), registry).workflow
    assert {k: (n.type, n.inputs) for k, n in workflow.nodes.items()} == {
        "1": ("image.load", {"image": "cat.png"}),
        "3": ("image.save", {"filename_prefix": "ui", "image": Link("1", 0)}),
    }


def test_a_widget_converted_to_an_input_takes_its_link_and_a_primitive_gives_its_value(registry):
    ui = load_and_save()
    ui["nodes"][2]["inputs"].append(ui_input("filename_prefix", "STRING", 3, widget=True))
    ui["nodes"].append(ui_node(5, "value.string", ["linked"], outputs=[ui_output("value", "STRING", [3])]))
    ui["links"].append([3, 5, 0, 3, 1, "STRING"])
    assert load_any(ui, registry).workflow.nodes["3"].inputs["filename_prefix"] == Link("5", 0)
    ui["nodes"][-1] = ui_node(5, "PrimitiveNode", ["from-primitive", "fixed"], outputs=[ui_output("STRING", "STRING", [3])])
    workflow = load_any(ui, registry).workflow
    assert workflow.nodes["3"].inputs["filename_prefix"] == "from-primitive" and "5" not in workflow.nodes


def test_a_muted_node_is_left_out_with_the_links_it_fed(registry):
    ui = load_and_save()
    ui["nodes"][0]["mode"] = 2
    workflow = load_any(ui, registry).workflow
    assert list(workflow.nodes) == ["3"] and "image" not in workflow.nodes["3"].inputs


def test_a_bypassed_node_passes_its_input_of_the_outputs_type_through(registry):
    ui = load_and_save()
    ui["nodes"][1] = ui_node(2, "preprocessors.canny", [100, 200], mode=4, inputs=[ui_input("image", "Image", 1)],
                             outputs=[ui_output("image", "Image", [2])])
    workflow = load_any(ui, registry).workflow
    assert sorted(workflow.nodes) == ["1", "3"] and workflow.nodes["3"].inputs["image"] == Link("1", 0)


def test_a_node_type_nodeflow_lacks_is_refused_naming_the_comfyui_type_and_the_node(registry):
    ui = load_and_save()
    ui["nodes"][0]["type"] = "UpscaleModelLoader"
    with pytest.raises(ProblemList) as raised:
        load_any(ui, registry)
    [problem] = raised.value.problems
    assert problem.node_id == "1" and "ComfyUI node type 'UpscaleModelLoader'" in problem.message


def test_a_node_without_a_type_is_a_clear_error_not_a_format_version_complaint(registry):
    ui = load_and_save()
    del ui["nodes"][0]["type"]
    with pytest.raises(ProblemList, match="must be an object with an 'id' and a string 'type'") as raised:
        load_any(ui, registry)
    assert "'nodeflow' must be" not in str(raised.value)


def test_subgraphs_are_refused_clearly(registry):
    ui = load_and_save()
    ui["definitions"] = {"subgraphs": [{"id": "a-b-c", "nodes": []}]}
    with pytest.raises(ProblemList, match="subgraphs"):
        load_any(ui, registry)


def test_without_the_schemas_a_ui_workflow_is_named_for_what_it_is():
    with pytest.raises(ProblemList, match="ComfyUI UI-format workflow"):
        Workflow.from_dict(load_and_save())


def test_an_api_prompt_carries_the_values_its_frontend_edits_and_maps_them_back(registry):
    prompt = {"1": {"class_type": "dit.load_model", "inputs": {"model": "dit"}},
              "2": {"class_type": "dit.class_labels", "inputs": {"transformer": ["1", 0], "labels": "[207, 360]"}},
              "3": {"class_type": "latents.empty", "inputs": {"unet": ["4", 0], "vae": ["4", 1], "width": 0,
                                                               "height": 640}}}
    loaded = load_any(prompt, registry)
    assert loaded.workflow.nodes["2"].inputs["labels"] == [207, 360]
    assert (loaded.workflow.nodes["3"].inputs["width"], loaded.workflow.nodes["3"].inputs["height"]) == (None, 640)
    assert loaded.pnginfo == {"prompt": prompt}


def test_text_widget_values_round_trip_between_python_and_the_frontend(registry):
    for labels in ("golden retriever", 207, [1, "tabby"], "207"):
        workflow = Workflow.from_dict({"nodeflow": 1, "nodes": {
            "l": {"type": "dit.class_labels", "inputs": {"transformer": {"node": "m", "output": "transformer"},
                                                         "labels": labels}},
            "m": {"type": "dit.load_model", "inputs": {"model": "dit"}}}})
        prompt = api_prompt(workflow, registry)
        assert prompt["l"]["inputs"]["transformer"] == ["m", 0]
        assert load_any(prompt, registry).workflow.nodes["l"].inputs["labels"] == labels


def test_widget_inputs_listed_by_a_newer_frontend_give_the_order_of_the_values(registry):
    ui = _loader_and_latents([2, 42, "fixed", 0, 512])
    ui["nodes"][1]["inputs"] += [ui_input(name, "INT", None, widget=True)
                                 for name in ("batch_size", "seed", "width", "height")]
    inputs = load_any(ui, registry).workflow.nodes["2"].inputs
    assert (inputs["batch_size"], inputs["seed"], inputs["width"], inputs["height"]) == (2, 42, None, 512)
