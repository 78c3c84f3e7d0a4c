"""The editor's panels and pop-ups in real headless Chromium at a laptop's 1440×900, against a real `nodeflow
serve`: the Params tab, node search, the history list, the first visit, and the dropdown of model folders."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from server_support import comfy_workflow, counting_workflow
from web_support import Editor, browser, editor, serving  # noqa: F401 (fixtures)

from nodeflow.registry import default_registry

pytestmark = pytest.mark.timeout(60)
LAPTOP = {"width": 1440, "height": 900}


def make_model_folder(models: Path, name: str) -> None:
    (models / name).mkdir(parents=True)
    (models / name / "model_index.json").write_text("{}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("web_panels")
    make_model_folder(root / "models", "tiny_sd")
    make_model_folder(root / "models", "org/tiny_dit")
    (root / "input").mkdir()
    Image.new("RGB", (8, 8), "red").save(root / "input" / "cat.png")
    with serving(root) as process:
        yield process


@pytest.fixture
def laptop(editor):
    editor.page.set_viewport_size(LAPTOP)
    return editor


def box(locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return found


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (outer["x"] - 0.5 <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
            and outer["y"] - 0.5 <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5)


def test_shipped_nodes_have_distinct_display_names():
    schema = default_registry(entry_points_enabled=False).schema()
    names = Counter(node["display_name"] for node in schema["nodes"].values())
    assert [name for name, count in names.items() if count > 1] == []


def search_results(editor: Editor, query: str, x: float = 500, y: float = 300) -> list[str]:
    editor.page.dblclick("#editor", position={"x": x, "y": y})
    editor.page.keyboard.type(query)
    return editor.page.locator(".search-item").evaluate_all("items => items.map(i => i.dataset.type)")


def test_search_ranks_display_names_starting_with_the_word_first(editor):
    starting_with_vae = {"vae.decode", "vae.encode", "inpaint.encode", "VAEDecode", "VAEEncode", "VAEEncodeForInpaint"}
    assert set(search_results(editor, "vae")[:6]) == starting_with_vae


def test_search_popup_near_the_bottom_right_corner_stays_inside_the_window(laptop):
    canvas = box(laptop.page.locator("#editor"))
    search_results(laptop, "", canvas["width"] - 6, canvas["height"] - 6)
    popup = box(laptop.page.locator(".search-popup"))
    assert inside(popup, {"x": 0, "y": 0, **LAPTOP})
    assert inside(popup, canvas)
    assert laptop.page.evaluate("[editor.scrollLeft, editor.scrollTop]") == [0, 0]  # not by scrolling the canvas away


def open_shipped(editor: Editor, name: str) -> None:
    editor.page.evaluate("""async (name) => window.nodeflow.load(
        await (await fetch(`/workflows/${name}`)).json(), name)""", name)


def test_params_rows_give_the_name_and_description_room_inside_the_panel(laptop):
    open_shipped(laptop, "sd_txt2img.json")
    laptop.page.click('.tabs button[data-panel="params-panel"]')
    panel = box(laptop.page.locator("#params-panel"))
    rows = laptop.page.locator("[data-param]").all()
    assert len(rows) == len(laptop.workflow()["params"]) > 3
    for row in rows:
        for field in (row.locator(".param-name"), row.locator(".param-description")):
            field.scroll_into_view_if_needed()
            shown = box(field)
            assert shown["width"] >= 120, f"{row.get_attribute('data-param')}: a {shown['width']:.0f} px wide box"
            assert inside(shown, panel)


def test_history_status_cells_line_up_with_and_without_a_load_button(laptop, server):
    watcher = server.watch("panels-history")
    prompts = [server.queue(counting_workflow(), client_id="panels-history"),
               server.queue(comfy_workflow(), client_id="panels-history"),
               server.queue(counting_workflow(fail=True), client_id="panels-history")]
    watcher.until_done(*prompts)
    watcher.close()
    laptop.open()
    rows = laptop.page.locator(".history-item")
    rows.nth(2).wait_for()
    with_button = [row.locator("button").count() for row in rows.all()]
    assert 0 in with_button and 1 in with_button
    lefts = [box(badge)["x"] for badge in laptop.page.locator(".queue-item .badge, .history-item .badge").all()]
    assert max(lefts) - min(lefts) <= 1


def test_a_first_visit_opens_the_txt2img_workflow(browser, server):
    page = browser.new_page(viewport=LAPTOP)
    try:
        first = Editor(page, server.url + "/", first_visit=True).open()
        status, shipped = server.get("/workflows/sd_txt2img.json")
        assert first.workflow() == shipped
        assert first.errors == []
    finally:
        page.close()


def test_an_empty_canvas_says_how_to_add_a_node(laptop):
    hint = laptop.page.locator(".canvas-hint")
    assert hint.is_visible()
    laptop.add("image.save", 300, 200)
    assert hint.is_hidden()
    laptop.page.click("#new-button")
    assert hint.is_visible() and "add a node" in hint.text_content()


def choices_shown(editor: Editor) -> list[str]:
    menu = editor.page.locator(".choices-menu")
    menu.wait_for(timeout=5_000)
    return menu.locator(".choice").evaluate_all("items => items.map(i => i.textContent)")


def test_the_model_input_offers_the_model_folders_and_saves_the_one_picked(laptop):
    model = laptop.add("sd.load_model", 300, 100)
    laptop.field(model, "model").click()
    assert choices_shown(laptop) == ["org/tiny_dit", "tiny_sd"]
    laptop.page.locator(".choices-menu .choice", has_text="tiny_sd").click()
    assert laptop.workflow()["nodes"][model]["inputs"]["model"] == "tiny_sd"
    assert laptop.page.locator(".choices-menu").count() == 0


def test_typing_in_the_model_input_narrows_the_choices_and_a_hub_id_is_kept(laptop):
    model = laptop.add("sd.load_model", 300, 100)
    laptop.field(model, "model").fill("dit")
    assert choices_shown(laptop) == ["org/tiny_dit"]
    laptop.type_into(model, "model", "someone/some-model")
    assert laptop.workflow()["nodes"][model]["inputs"]["model"] == "someone/some-model"
    assert laptop.page.locator(".choices-menu").count() == 0


def test_a_model_folder_added_while_the_editor_is_open_is_offered_on_the_next_open(laptop, server):
    model = laptop.add("sd.load_model", 300, 100)
    field = laptop.field(model, "model")
    field.click()
    assert "added_later" not in choices_shown(laptop)
    field.press("Escape")
    make_model_folder(server.root / "models", "added_later")
    field.click()
    laptop.page.wait_for_function("() => document.querySelector('.choices-menu')?.textContent.includes('added_later')")


def test_the_image_input_offers_the_images_of_the_input_folder(laptop):
    load = laptop.add("image.load", 300, 100)
    laptop.field(load, "image").click()
    assert choices_shown(laptop) == ["cat.png"]
