"""The canvas and its nodes as a user sees them, measured in real headless Chromium against a real `nodeflow serve`:
socket dots on their labels' rows at the node's edge, readable text at "fit", labels with their full names, live
previews that go away when the run ends, and a gentle wheel zoom."""

from __future__ import annotations

import pytest
from server_support import REPO, counting_workflow
from web_support import browser, editor, load_json, serving  # noqa: F401 (fixtures)

pytestmark = pytest.mark.timeout(60)

SHIPPED = sorted(REPO.glob("workflows/*.json"))
READABLE_PX = 11  # the smallest rendered size of node text that reads comfortably on a laptop screen
LAPTOP = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("web_canvas")) as process:
        yield process


def load(editor, workflow) -> None:
    editor.page.evaluate("wf => window.nodeflow.load(wf)", workflow)
    editor.page.wait_for_function(f"window.nodeflow.graph.nodes.size === {len(workflow['nodes'])}")


def every_node_type(editor) -> dict:
    types = editor.page.evaluate("Object.keys(window.nodeflow.schema.nodes).sort()")
    return {"nodeflow": 1, "nodes": {str(i): {"type": t, "pos": [300 * (i % 8), 600 * (i // 8)]}
                                     for i, t in enumerate(types)}}


def scale_one(editor) -> None:
    """The view at scale 1, so that screen pixels are world pixels."""
    editor.page.evaluate("() => { const v = window.nodeflow.viewport; v.scale = 1; v.x = 0; v.y = 0; v.apply(); }")


# For each socket dot: its node, label text, how far its centre is from its label's vertical centre, and from the
# node's edge (left for inputs, right for outputs); for each label: whether its box leaves the node's box.
MEASURE_SOCKETS = """() => [...document.querySelectorAll('.node .socket')].map((dot) => {
  const node = dot.closest('.node').getBoundingClientRect();
  const label = dot.closest('.row').querySelector('.label').getBoundingClientRect();
  const box = dot.getBoundingClientRect();
  const [cx, cy] = [(box.left + box.right) / 2, (box.top + box.bottom) / 2];
  return {
    node: dot.closest('.node').dataset.type, label: dot.closest('.row').querySelector('.label').textContent,
    fromRow: cy - (label.top + label.bottom) / 2,
    fromEdge: cx - (dot.classList.contains('out') ? node.right : node.left),
    labelOutside: label.left < node.left || label.right > node.right || label.bottom > node.bottom,
  };
})"""


def test_socket_dots_sit_on_their_labels_row_at_the_node_edge(editor):
    misplaced = []
    for name, workflow in [*((path.stem, load_json(path)) for path in SHIPPED), ("every type", every_node_type(editor))]:
        load(editor, workflow)
        scale_one(editor)
        sockets = editor.page.evaluate(MEASURE_SOCKETS)
        assert sockets
        misplaced += [(name, s["node"], s["label"], round(s["fromRow"]), round(s["fromEdge"]), s["labelOutside"])
                      for s in sockets if abs(s["fromRow"]) > 2 or abs(s["fromEdge"]) > 2 or s["labelOutside"]]
    assert misplaced == []


def test_fit_keeps_node_text_readable_on_a_laptop_screen_and_the_first_node_in_view(editor):
    editor.page.set_viewport_size(LAPTOP)
    canvas = editor.page.locator("#editor").bounding_box()
    for path in SHIPPED:
        workflow = load_json(path)
        load(editor, workflow)
        editor.page.click("#fit-button")
        sizes = editor.page.evaluate("""() => {
          const scale = new DOMMatrix(getComputedStyle(document.querySelector('#world')).transform).a;
          return [...document.querySelectorAll('.node-title, .node .label')]
            .map((el) => parseFloat(getComputedStyle(el).fontSize) * scale);
        }""")
        assert min(sizes) >= READABLE_PX, path.stem
        first = min(workflow["nodes"], key=lambda node_id: workflow["nodes"][node_id]["pos"])
        box = editor.node(first).bounding_box()
        assert canvas["x"] < box["x"] and box["x"] + box["width"] < canvas["x"] + canvas["width"], path.stem
        assert canvas["y"] < box["y"] and box["y"] + box["height"] < canvas["y"] + canvas["height"], path.stem


def test_every_label_and_title_tells_its_full_name_on_hover(editor):
    load(editor, every_node_type(editor))
    labels = editor.page.evaluate("""() => [...document.querySelectorAll('.node .label, .node-title')]
      .map((el) => [el.textContent, el.title])""")
    assert [text for text, title in labels if not title.startswith(text)] == []


def test_widget_label_tooltip_gives_the_input_type(editor):
    load(editor, {"nodeflow": 1, "nodes": {"denoise": {"type": "sampling.denoise", "pos": [0, 0]}}})
    title = editor.node("denoise").locator('.widget-row[data-input="guidance_scale"] .label').get_attribute("title")
    assert title.splitlines()[0] == "guidance_scale (float)"


def test_common_widget_names_fit_on_the_denoise_and_scheduler_nodes(editor):
    load(editor, {"nodeflow": 1, "nodes": {"denoise": {"type": "sampling.denoise", "pos": [0, 0]},
                                           "scheduler": {"type": "schedulers.scheduler", "pos": [300, 0]}}})
    cut = editor.page.evaluate("""() => [...document.querySelectorAll('.widget-row .label')]
      .filter((label) => label.scrollWidth > label.clientWidth).map((label) => label.textContent)""")
    assert cut == []


def test_live_preview_leaves_the_node_when_the_run_ends(editor):
    workflow = counting_workflow(steps=4, delay=0.15)
    workflow["nodes"]["count"]["inputs"]["preview"] = True
    load(editor, workflow)
    editor.page.click("#queue-button")
    editor.node("count").locator("img.live-preview").wait_for(timeout=20_000)
    editor.node("save").locator(".node-images img").wait_for(timeout=20_000)
    editor.page.wait_for_function("() => !document.querySelector('.node.state-running')")
    assert editor.node("count").locator(".node-images img").count() == 0


def wheel(editor, delta_y: float, delta_mode: int = 0) -> float:
    """The factor by which one wheel event over the canvas scales the view."""
    return editor.page.evaluate("""([deltaY, deltaMode]) => {
      const viewport = window.nodeflow.viewport;
      const before = viewport.scale;
      const box = viewport.wrap.getBoundingClientRect();
      viewport.wrap.dispatchEvent(new WheelEvent('wheel', { deltaY, deltaMode, bubbles: true, cancelable: true,
        clientX: box.left + 200, clientY: box.top + 200 }));
      return viewport.scale / before;
    }""", [delta_y, delta_mode])


def test_one_wheel_notch_zooms_a_gentle_step_and_smaller_deltas_zoom_in_proportion(editor):
    notch = wheel(editor, -100)
    assert 1.05 <= notch <= 1.12 and 1.05 <= 1 / wheel(editor, 100) <= 1.12
    assert 1.05 <= 1 / wheel(editor, 3, delta_mode=1) <= 1.12  # a notch counted in lines (Firefox)
    assert wheel(editor, -10) == pytest.approx(notch ** 0.1, rel=1e-3)  # a trackpad's small steps


def test_a_fast_wheel_spin_still_zooms_one_step_per_event(editor):
    assert 1.05 <= wheel(editor, -600) <= 1.12


# Each node's box at scale 1, in world pixels (screen pixels with the view at the origin).
NODE_BOXES = """() => [...document.querySelectorAll('.node')].map((node) => {
  const box = node.getBoundingClientRect();
  return { id: node.dataset.id, left: box.left, top: box.top, right: box.right, bottom: box.bottom };
})"""


def test_no_two_nodes_of_a_shipped_workflow_overlap(editor):
    overlapping = []
    for path in SHIPPED:
        load(editor, load_json(path))
        scale_one(editor)
        boxes = editor.page.evaluate(NODE_BOXES)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                if a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]:
                    overlapping.append(f"{path.stem}: {a['id']} and {b['id']}")
    assert overlapping == []
