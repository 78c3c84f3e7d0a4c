"""Editing in the web editor, in real headless Chromium against a real `nodeflow serve` (no model needed):
widgets from the schema, sockets and links, selection, clipboard, undo, view, params, files."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image, PngImagePlugin
from web_support import browser, editor, serving  # noqa: F401 (fixtures)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("web_editing")) as process:
        yield process


def node_count(editor) -> int:
    return editor.page.evaluate("window.nodeflow.graph.nodes.size")


def test_widgets_follow_the_schema(editor):
    denoise = editor.add("sampling.denoise", 40, 40)
    scheduler = editor.add("schedulers.scheduler", 400, 40)
    noise = editor.add("latents.empty", 760, 40)
    tokenize = editor.add("text.clip_tokenize", 400, 420)
    steps = editor.field(denoise, "steps", "input.num")
    assert (steps.get_attribute("min"), steps.get_attribute("max"), steps.get_attribute("step")) == ("1", "1000", "1")
    assert editor.node(denoise).locator('[data-input="steps"] input.slider').count() == 1
    assert editor.node(denoise).locator('[data-input="stop_at_step"] input.slider').count() == 0  # no upper bound
    options = editor.field(scheduler, "name", "select").locator("option").all_text_contents()
    assert "euler_ancestral" in options and options[0] == "default"
    assert editor.node(scheduler).locator('[data-input="karras_sigmas"] input.toggle').count() == 1
    assert editor.node(noise).locator('[data-input="seed"] .randomize').count() == 1
    assert editor.node(tokenize).locator('[data-input="prompt"] textarea').count() == 1

    editor.type_into(denoise, "steps", 5000)  # clamped to the bound
    editor.field(scheduler, "name", "select").select_option(label="euler")
    editor.node(scheduler).locator('[data-input="karras_sigmas"] label.toggle').click()
    editor.type_into(noise, "width", 64)
    inputs = {node_id: node["inputs"] for node_id, node in editor.workflow()["nodes"].items()}
    assert inputs[denoise]["steps"] == 1000
    assert inputs[scheduler]["name"] == "euler" and inputs[scheduler]["karras_sigmas"] is True
    assert inputs[noise]["width"] == 64 and inputs[noise]["height"] is None


def test_an_image_input_uploads_a_file_and_shows_it(editor, server, tmp_path):
    picture = tmp_path / "pebble.png"
    Image.new("RGB", (8, 8), (200, 40, 40)).save(picture)
    load = editor.add("image.load", 40, 40)
    editor.node(load).locator('[data-input="image"] input[type=file]').set_input_files(str(picture))
    editor.page.wait_for_function(f"window.nodeflow.graph.toWorkflow().nodes['{load}'].inputs.image === 'pebble.png'")
    thumb = editor.node(load).locator("img.input-thumb")
    editor.page.wait_for_function("img => img.complete && img.naturalWidth === 8", arg=thumb.element_handle())
    assert (server.root / "input" / "pebble.png").read_bytes() == picture.read_bytes()


def test_dropping_a_plain_image_uploads_it_into_a_new_load_image_node(editor, server):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 40)).save(buffer, format="PNG")
    editor.drop_file("leaf.png", buffer.getvalue(), "image/png")
    editor.page.wait_for_function("window.nodeflow.graph.nodes.size === 1")
    [node] = editor.workflow()["nodes"].values()
    assert node["type"] == "image.load" and node["inputs"]["image"] == "leaf.png"
    assert (server.root / "input" / "leaf.png").read_bytes() == buffer.getvalue()


def test_seed_dice_picks_a_new_seed_within_bounds(editor):
    noise = editor.add("latents.empty", 40, 40)
    editor.node(noise).locator("button.dice").click()
    seed = editor.workflow()["nodes"][noise]["inputs"]["seed"]
    assert isinstance(seed, int) and seed >= 0 and seed != 0


def test_an_input_holds_one_link_and_an_output_feeds_many(editor):
    first = editor.add("sd.load_model", 40, 40)
    second = editor.add("sd.load_model", 40, 380)
    noise = editor.add("latents.empty", 420, 40)
    decode = editor.add("vae.decode", 420, 420)
    editor.wire(first, "vae", noise, "vae")
    editor.wire(first, "vae", decode, "vae")
    editor.wire(second, "vae", noise, "vae")
    links = editor.links()
    assert links[f"{noise}.vae"] == {"node": second, "output": "vae"}
    assert links[f"{decode}.vae"] == {"node": first, "output": "vae"}


def test_dragging_from_an_empty_input_to_an_output_links_them(editor):
    model = editor.add("sd.load_model", 40, 40)
    decode = editor.add("vae.decode", 420, 40)
    editor.page.drag_and_drop(f'.node[data-id="{decode}"] .socket.in[data-input="vae"]',
                              f'.node[data-id="{model}"] .socket.out[data-output="vae"]')
    editor.page.drag_and_drop(f'.node[data-id="{decode}"] .socket.in[data-input="latents"]',
                              f'.node[data-id="{model}"] .socket.out[data-output="unet"]')
    assert "UNet cannot feed Latents" in editor.toast()
    assert editor.links() == {f"{decode}.vae": {"node": model, "output": "vae"}}


def test_pulling_a_link_off_an_input_and_dropping_it_on_the_canvas_removes_it(editor):
    model = editor.add("sd.load_model", 40, 40)
    decode = editor.add("vae.decode", 420, 40)
    editor.wire(model, "vae", decode, "vae")
    editor.page.drag_and_drop(f'.node[data-id="{decode}"] .socket.in[data-input="vae"]', "#editor",
                              target_position={"x": 700, "y": 600})
    assert editor.links() == {}


def test_a_widget_converts_to_a_socket_and_back(editor):
    seed_node = editor.add("value.int", 40, 40)
    noise = editor.add("latents.empty", 420, 40)
    row = editor.node(noise).locator('[data-input="seed"]')
    row.locator("button.convert").click()
    assert editor.node(noise).locator('.row.input[data-input="seed"] .socket.in').count() == 1
    assert "seed" not in editor.workflow()["nodes"][noise]["inputs"]
    output = editor.page.evaluate(f"Object.keys(window.nodeflow.schema.nodes['value.int'].outputs)[0]")
    editor.wire(seed_node, output, noise, "seed")
    assert editor.links()[f"{noise}.seed"] == {"node": seed_node, "output": output}
    editor.node(noise).locator('.row.input[data-input="seed"] button.convert').click()
    assert f"{noise}.seed" not in editor.links()
    assert editor.workflow()["nodes"][noise]["inputs"]["seed"] == 0


def test_dropping_a_link_on_a_widget_turns_it_into_a_socket(editor):
    value = editor.add("value.int", 40, 40)
    noise = editor.add("latents.empty", 420, 40)
    output = editor.page.evaluate("Object.keys(window.nodeflow.schema.nodes['value.int'].outputs)[0]")
    editor.page.drag_and_drop(f'.node[data-id="{value}"] .socket.out[data-output="{output}"]',
                              f'.node[data-id="{noise}"] .widget-row[data-input="batch_size"] .label')
    assert editor.links()[f"{noise}.batch_size"] == {"node": value, "output": output}


def test_undo_and_redo_walk_through_adds_moves_and_deletes(editor):
    model = editor.add("sd.load_model", 40, 40)
    editor.add("vae.decode", 420, 40)
    editor.page.drag_and_drop(f'.node[data-id="{model}"] .node-header', "#editor", target_position={"x": 200, "y": 500})
    moved = editor.workflow()["nodes"][model]["pos"]
    assert moved != [40, 40]
    editor.page.keyboard.press("Delete")
    assert node_count(editor) == 1
    editor.page.keyboard.press("Control+z")
    assert editor.workflow()["nodes"][model]["pos"] == moved
    editor.page.keyboard.press("Control+z")
    assert editor.workflow()["nodes"][model]["pos"] == [40, 40]
    editor.page.click("#undo-button")
    editor.page.click("#undo-button")
    assert node_count(editor) == 0
    editor.page.keyboard.press("Control+Shift+z")
    editor.page.keyboard.press("Control+y")
    assert node_count(editor) == 2


def test_box_select_then_copy_paste_and_duplicate_keep_the_links_between_copies(editor):
    model = editor.add("sd.load_model", 40, 40)
    decode = editor.add("vae.decode", 420, 40)
    editor.add("image.save", 420, 500)
    editor.wire(model, "vae", decode, "vae")
    page = editor.page
    box = page.locator("#editor").bounding_box()
    page.keyboard.down("Shift")
    page.mouse.move(box["x"] + 10, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 760, box["y"] + 300, steps=4)
    page.mouse.up()
    page.keyboard.up("Shift")
    assert sorted(page.evaluate("[...window.nodeflow.selection.ids]")) == sorted([model, decode])
    page.keyboard.press("Control+c")
    page.mouse.move(box["x"] + 100, box["y"] + 600)
    page.keyboard.press("Control+v")
    assert node_count(editor) == 5
    pasted = page.evaluate("[...window.nodeflow.selection.ids]")
    copies = {editor.workflow()["nodes"][i]["type"]: i for i in pasted}
    assert editor.links()[f"{copies['vae.decode']}.vae"] == {"node": copies["sd.load_model"], "output": "vae"}
    page.keyboard.press("Control+d")
    assert node_count(editor) == 7
    page.keyboard.press("Delete")
    assert node_count(editor) == 5


def test_double_click_on_the_canvas_searches_and_adds_a_node_there(editor):
    editor.page.dblclick("#editor", position={"x": 500, "y": 300})
    editor.page.keyboard.type("vae decode latents")
    editor.page.keyboard.press("Enter")
    nodes = editor.workflow()["nodes"]
    assert [n["type"] for n in nodes.values()] == ["vae.decode"]
    assert next(iter(nodes.values()))["pos"] == [500, 300]


def test_palette_search_filters_node_types(editor):
    editor.page.fill(".palette-search", "clip encode")
    shown = editor.page.locator(".palette-item").evaluate_all("items => items.map(i => i.dataset.type)")
    assert "text.clip_encode" in shown and "image.save" not in shown and "text.clip_tokenize" not in shown


def test_wheel_zooms_at_the_pointer_and_fit_frames_every_node(editor):
    editor.add("sd.load_model", 40, 40)
    editor.add("image.save", 900, 700)
    page = editor.page
    box = page.locator("#editor").bounding_box()
    page.mouse.move(box["x"] + 300, box["y"] + 200)
    page.mouse.wheel(0, 400)
    assert page.evaluate("window.nodeflow.viewport.scale") < 1
    page.click("#fit-button")
    for node in page.locator(".node").all():
        rect = node.bounding_box()
        assert box["x"] <= rect["x"] and rect["x"] + rect["width"] <= box["x"] + box["width"]
        assert box["y"] <= rect["y"] and rect["y"] + rect["height"] <= box["y"] + box["height"]


def test_params_panel_exposes_an_input_under_a_name(editor):
    noise = editor.add("latents.empty", 40, 40)
    editor.page.click('.tabs button[data-panel="params-panel"]')
    editor.page.select_option(".param-input", "seed")
    editor.page.fill(".param-new-name", "seed")
    editor.page.click(".param-add button")
    assert editor.workflow()["params"] == {"seed": {"node": noise, "input": "seed"}}
    editor.page.fill('[data-param="seed"] .param-name', "noise_seed")
    editor.page.press('[data-param="seed"] .param-name', "Tab")
    assert editor.workflow()["params"] == {"noise_seed": {"node": noise, "input": "seed"}}


def test_save_file_downloads_format_1_that_open_file_loads_back(editor, tmp_path):
    model = editor.add("sd.load_model", 40, 40)
    decode = editor.add("vae.decode", 420, 40)
    editor.wire(model, "vae", decode, "vae")
    with editor.page.expect_download() as download:
        editor.page.click("#save-file-button")
    path = tmp_path / "saved.json"
    download.value.save_as(path)
    saved = json.loads(path.read_text())
    assert saved == editor.workflow() and saved["nodeflow"] == 1
    editor.page.click("#new-button")
    assert node_count(editor) == 0
    editor.page.set_input_files("#file-input", str(path))
    editor.page.wait_for_function("window.nodeflow.graph.nodes.size === 2")
    assert editor.workflow() == saved


@pytest.mark.parametrize("chunk", ["tEXt", "zTXt", "iTXt"])
def test_dropping_a_nodeflow_png_loads_the_workflow_inside_it(editor, chunk):
    workflow = {"nodeflow": 1, "nodes": {"a": {"type": "text.clip_tokenize", "inputs": {"prompt": "一只猫 on a mat"},
                                               "pos": [10, 20]}}, "meta": {"title": "from a png"}}
    text = json.dumps(workflow, ensure_ascii=chunk != "iTXt")
    info = PngImagePlugin.PngInfo()
    if chunk == "iTXt":
        info.add_itxt("nodeflow", text, zip=True)
    else:
        info.add_text("nodeflow", text, zip=chunk == "zTXt")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG", pnginfo=info)
    editor.drop_file("cat.png", buffer.getvalue(), "image/png")
    editor.page.wait_for_function("window.nodeflow.graph.nodes.size === 1")
    assert editor.workflow() == workflow


def test_unknown_node_types_and_inputs_are_kept_as_loaded_for_the_server_to_report(editor):
    workflow = {"nodeflow": 1, "nodes": {
        "9": {"type": "pack.missing", "inputs": {"x": 1}, "pos": [0, 0]},
        "10": {"type": "vae.decode", "inputs": {"memroy": "full"}, "pos": [400, 0]},
    }}
    editor.page.evaluate("wf => window.nodeflow.load(wf)", workflow)
    assert "unknown node type pack.missing" in editor.node("9").text_content()
    assert editor.workflow() == workflow


def test_double_click_on_a_header_retitles_the_node(editor):
    model = editor.add("sd.load_model", 40, 40)
    editor.node(model).locator(".node-header").dblclick()
    editor.page.keyboard.press("Control+a")
    editor.page.keyboard.type("Base model")
    editor.page.keyboard.press("Enter")
    assert editor.node(model).locator(".node-title").text_content() == "Base model"
    assert editor.workflow()["nodes"][model]["title"] == "Base model"


def test_undo_reverts_a_widget_edit(editor):
    denoise = editor.add("sampling.denoise", 40, 40)
    editor.type_into(denoise, "steps", 12)
    assert editor.workflow()["nodes"][denoise]["inputs"]["steps"] == 12
    editor.page.click("#undo-button")
    assert editor.workflow()["nodes"][denoise]["inputs"]["steps"] == 50
    assert editor.field(denoise, "steps", "input.num").input_value() == "50"


def test_a_shipped_workflow_loads_from_the_server_list_with_every_node_known(editor, server):
    status, listing = server.get("/workflows")
    shipped = next(w for w in listing["workflows"] if w["name"] == "sd_txt2img.json")
    editor.page.click('.tabs button[data-panel="workflows-panel"]')
    editor.page.click(f'.workflow-item[data-name="{shipped["name"]}"] button.load')
    status, original = server.get(f"/workflows/{shipped['name']}")
    editor.page.wait_for_function(f"window.nodeflow.graph.nodes.size === {len(original['nodes'])}")
    assert editor.workflow() == original
    assert editor.page.locator(".node-unknown").count() == 0


def test_a_node_warning_from_the_run_shows_on_the_node(editor):
    count = editor.add("servertest.count", 40, 60)
    save = editor.add("servertest.save_png", 420, 60)
    editor.wire(count, "tally", save, "tally")
    editor.type_into(count, "warn", "prompt cut at 77 tokens")
    editor.page.click("#queue-button")
    warning = editor.node(count).locator(".node-warning")
    warning.wait_for(timeout=15_000)
    assert warning.text_content() == "prompt cut at 77 tokens"
    assert editor.node(save).locator(".node-warning").text_content() == ""


def test_live_previews_show_on_the_running_node(editor):
    count = editor.add("servertest.count", 40, 60)
    save = editor.add("servertest.save_png", 420, 60)
    editor.wire(count, "tally", save, "tally")
    editor.type_into(count, "steps", 3)
    editor.type_into(count, "delay", 0.2)
    editor.node(count).locator('[data-input="preview"] label.toggle').click()
    editor.page.click("#queue-button")
    selector = f'.node[data-id="{count}"] .node-images img.live-preview'
    editor.page.wait_for_function(f"document.querySelector('{selector}')?.naturalWidth === 4", timeout=15_000)
    assert editor.page.get_attribute(selector, "src").startswith("blob:")
    assert editor.node(save).locator("img.live-preview").count() == 0
