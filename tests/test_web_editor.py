"""The web editor end to end in real headless Chromium against a real `nodeflow serve` with the tiny SD model:
build a txt2img graph by mouse, run it, watch it, save and load it, and see refusals and errors where they belong."""

from __future__ import annotations

import pytest
import websocket
from web_support import Editor, VIEWPORT, browser, editor, serving  # noqa: F401 (fixtures)

from tiny_models.sd import make_tiny_sd

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("web_e2e")
    make_tiny_sd(root / "models" / "tiny_sd")
    (root / "models" / "empty_folder").mkdir()  # a "model" that fails to load, quickly and offline
    with serving(root) as process:
        yield process


def build_txt2img(editor: Editor) -> dict[str, str]:
    """Seven nodes from the palette and twelve links, all by mouse; returns role → node id."""
    ids = {
        "model": editor.add("sd.load_model", 20, 40),
        "tokenize": editor.add("text.clip_tokenize", 300, 20),
        "encode": editor.add("text.clip_encode", 580, 20),
        "noise": editor.add("latents.empty", 300, 330),
        "denoise": editor.add("sampling.denoise", 580, 220),
        "decode": editor.add("vae.decode", 860, 20),
        "save": editor.add("image.save", 860, 200),
    }
    for source, output, target, name in [
        ("model", "tokenizer", "tokenize", "tokenizer"), ("model", "text_encoder", "encode", "text_encoder"),
        ("tokenize", "tokens", "encode", "tokens"), ("model", "unet", "noise", "unet"), ("model", "vae", "noise", "vae"),
        ("model", "unet", "denoise", "unet"), ("model", "scheduler", "denoise", "scheduler"),
        ("noise", "latents", "denoise", "noise"), ("encode", "conditioning", "denoise", "positive"),
        ("model", "vae", "decode", "vae"), ("denoise", "latents", "decode", "latents"), ("decode", "image", "save", "image"),
    ]:
        editor.wire(ids[source], output, ids[target], name)
    return ids


def test_txt2img_built_by_mouse_runs_shows_its_image_and_round_trips_through_the_server(editor, server, tmp_path):
    ids = build_txt2img(editor)
    assert len(editor.links()) == 12
    editor.type_into(ids["model"], "model", "tiny_sd")
    editor.type_into(ids["tokenize"], "prompt", "a tiny red cube")
    editor.type_into(ids["noise"], "seed", 1234)
    editor.type_into(ids["denoise"], "steps", 2)
    editor.type_into(ids["denoise"], "guidance_scale", 1)  # no guidance: the graph has no negative prompt
    nodes = editor.workflow()["nodes"]
    assert nodes[ids["noise"]]["inputs"]["seed"] == 1234
    assert nodes[ids["tokenize"]]["inputs"]["prompt"] == "a tiny red cube"

    queued = editor.workflow()
    editor.page.click("#queue-button")
    image = editor.node(ids["save"]).locator(".node-images img")
    image.wait_for(timeout=60_000)
    editor.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert "state-done" in editor.node(ids["save"]).get_attribute("class")
    assert "state-done" in editor.node(ids["denoise"]).get_attribute("class")
    assert editor.page.locator("#gallery img").count() == 1
    status, png = server.get(editor.page.evaluate("document.querySelector('#gallery a').getAttribute('href')"))
    assert status == 200 and png[:8] == b"\x89PNG\r\n\x1a\n"  # it carries `queued`: dropped back in at the end
    editor.page.screenshot(path=str(tmp_path / "after_run.png"))

    editor.node(ids["noise"]).locator(".randomize").check()  # re-queue: a new seed, the text side comes from cache
    editor.page.click("#queue-button")
    editor.page.wait_for_function("n => n.classList.contains('state-cached')", arg=editor.node(ids["encode"]).element_handle())
    assert editor.workflow()["nodes"][ids["noise"]]["inputs"]["seed"] != 1234
    editor.page.wait_for_function("() => document.querySelectorAll('#gallery img').length === 2", timeout=60_000)
    editor.node(ids["noise"]).locator(".randomize").uncheck()

    editor.page.click('.tabs button[data-panel="workflows-panel"]')
    editor.page.fill(".workflow-name", "made_in_the_editor")
    editor.page.click("button.save-server")
    editor.page.locator('.workflow-item[data-name="made_in_the_editor.json"]').wait_for()
    status, saved = server.get("/workflows/made_in_the_editor.json")
    assert status == 200 and saved == editor.workflow()
    assert saved["nodes"][ids["save"]]["pos"] == [860, 200]

    editor.page.reload()
    editor.page.wait_for_selector("body[data-ready=true]")
    assert editor.workflow()["nodes"] == {}
    editor.page.click('.tabs button[data-panel="workflows-panel"]')
    editor.page.click('.workflow-item[data-name="made_in_the_editor.json"] button.load')
    editor.page.wait_for_function("window.nodeflow.graph.nodes.size === 7")
    assert editor.workflow() == saved

    editor.drop_file("from_the_run.png", png, "image/png")
    editor.page.wait_for_function("wf => window.nodeflow.graph.nodes.size === 7 && "
                                  "JSON.stringify(window.nodeflow.graph.toWorkflow()) !== JSON.stringify(wf)", arg=saved)
    assert editor.workflow() == queued


def test_running_denoise_shows_step_progress_and_interrupt_stops_it(editor, server):
    ids = build_txt2img(editor)
    editor.type_into(ids["model"], "model", "tiny_sd")
    editor.type_into(ids["denoise"], "steps", 900)  # long enough to catch it running
    editor.type_into(ids["denoise"], "guidance_scale", 1)
    editor.page.click("#queue-button")
    denoise = editor.node(ids["denoise"])
    editor.page.wait_for_function("n => /^[1-9][0-9]* ?\\/ ?[0-9]+$/.test(n.querySelector('.node-state').textContent)",
                                  arg=denoise.element_handle(), timeout=60_000)
    assert "state-running" in denoise.get_attribute("class")
    assert float(denoise.locator(".node-progress .bar").evaluate("b => parseFloat(b.style.width)")) > 0

    editor.page.click("#queue-button")  # a second prompt waits behind the running one; remove it from the panel
    pending = editor.page.locator(".queue-item.pending")
    pending.wait_for()
    pending.locator("button.cancel").click()
    pending.wait_for(state="detached")
    assert server.get("/queue")[1]["queue_pending"] == []

    editor.page.click("#interrupt-button")
    editor.page.wait_for_function("n => n.classList.contains('state-interrupted')", arg=denoise.element_handle(),
                                  timeout=30_000)
    assert editor.node(ids["save"]).locator(".node-images img").count() == 0


def test_history_panel_lists_the_finished_run(editor, server):
    editor.page.wait_for_selector(".history-item")
    status, history = server.get("/history")
    first = next(iter(history))
    assert editor.page.locator(f'.history-item[data-prompt="{first}"]').count() == 1
    editor.page.click(f'.history-item[data-prompt="{first}"] button')
    assert editor.workflow() == history[first]["prompt"][2]


def test_incompatible_link_is_refused_at_drop_with_the_reason(editor):
    model = editor.add("sd.load_model", 40, 60)
    save = editor.add("image.save", 420, 60)
    editor.wire(model, "vae", save, "image")
    assert "VAE cannot feed Image" in editor.toast()
    assert editor.links() == {}


def test_validation_error_from_the_server_is_shown_on_the_node_and_its_input(editor):
    model = editor.add("sd.load_model", 40, 60)
    decode = editor.add("vae.decode", 420, 60)
    save = editor.add("image.save", 760, 60)
    editor.wire(model, "vae", decode, "vae")
    editor.wire(decode, "image", save, "image")
    editor.type_into(model, "model", "tiny_sd")
    editor.page.click("#queue-button")
    row = editor.node(decode).locator('.row[data-input="latents"]')
    row.locator(".input-error").wait_for(timeout=5_000)
    assert "invalid" in editor.node(decode).get_attribute("class")
    assert "latents" in row.locator(".input-error").text_content().lower()
    assert "invalid" not in editor.node(save).get_attribute("class")


def queue_graph_whose_loader_fails(editor: Editor) -> str:
    """Load model → noise → decode → save, on a model folder that fails to load at run time; returns the loader's id."""
    model = editor.add("sd.load_model", 40, 60)
    empty = editor.add("latents.empty", 40, 420)
    decode = editor.add("vae.decode", 420, 60)
    save = editor.add("image.save", 760, 60)
    for source, output, target, name in [(model, "unet", empty, "unet"), (model, "vae", empty, "vae"),
                                         (model, "vae", decode, "vae"), (empty, "latents", decode, "latents"),
                                         (decode, "image", save, "image")]:
        editor.wire(source, output, target, name)
    editor.type_into(model, "model", "empty_folder")  # valid as a string; loading it fails at run time
    editor.page.click("#queue-button")
    return model


def test_node_that_fails_while_running_shows_its_message(editor):
    model = queue_graph_whose_loader_fails(editor)
    error = editor.node(model).locator(".node-error")
    error.wait_for(timeout=30_000)
    assert "state-error" in editor.node(model).get_attribute("class")
    assert error.text_content().strip()


def test_editor_whose_client_id_is_held_by_another_socket_adopts_the_id_it_is_given(browser, server, tmp_path):
    """The server gives a second socket asking for a connected id a fresh one; the editor must queue under it."""
    holder = server.watch("held-id")
    page = browser.new_page(viewport=VIEWPORT)
    page.add_init_script("crypto.randomUUID = () => 'held-id';")
    editor = Editor(page, server.url + "/").open()
    try:
        model = queue_graph_whose_loader_fails(editor)
        editor.node(model).locator(".node-error").wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "editor.png"))
    finally:
        page.close()
    holder.ws.settimeout(0.5)
    with pytest.raises(websocket.WebSocketTimeoutException):
        while True:
            assert holder.receive()["type"] == "status", "the held id received another client's run"
    assert editor.errors == []
