"""The official ComfyUI frontend (PyPI `comfyui-frontend-package`) on `nodeflow serve --frontend comfyui`, in
headless Chromium: it boots past its splash screen without console errors, its node library lists our nodes,
ComfyUI's default SD 1.5 workflow (our UI-format fixture, on a tiny checkpoint under the name it asks for) runs
from the Run button and shows its image on the Save node, a validation error is shown on its node, and a prompt
queued through the API shows as an active job.

Console errors allowed, because ComfyUI itself gives them on a fresh install without extras:
- 404s for `user.css` and `/api/userdata/user.css` (the user has no custom stylesheet) and for
  `/api/userdata/comfy.templates.json` (no saved templates);
- 404s for `/templates/index*.json` and the "Error loading core workflow templates" that follows: ComfyUI serves
  its template gallery from the separate `comfyui-workflow-templates` package, which nodeflow does not ship;
- `net::ERR_NAME_NOT_RESOLVED`: the frontend reaches for Comfy's cloud services; the tests run offline.
"""

from __future__ import annotations

import json
import signal
import urllib.request
from pathlib import Path

import pytest

from server_support import ServerProcess, counting_workflow
from web_support import VIEWPORT, browser  # noqa: F401 - the fixture

BENIGN_404S = ("/user.css", "/api/userdata/user.css", "/api/userdata/comfy.templates.json", "/templates/index")
BENIGN_ERRORS = ("Error loading core workflow templates", "net::ERR_NAME_NOT_RESOLVED")


DEFAULT_WORKFLOW = Path(__file__).parent / "comfy" / "default_sd15_ui.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tiny_models.clip import write_tiny_clip_tokenizer
    from tiny_models.sd import make_tiny_sd
    from tiny_models.sd_single_file import write_single_file_checkpoint

    root = tmp_path_factory.mktemp("comfy")
    checkpoint = json.loads(DEFAULT_WORKFLOW.read_text())["nodes"][0]["widgets_values"][0]
    write_single_file_checkpoint(make_tiny_sd(root / "scratch" / "tiny_sd"), root / "models" / "checkpoints" / checkpoint)
    write_tiny_clip_tokenizer(root / "models" / "tokenizers" / "tiny-clip")
    process = ServerProcess(root, "--frontend", "comfyui")
    process.start(timeout=60)
    yield process
    process.kill(signal.SIGTERM)


class ComfyPage:
    """The frontend's page, with every console error and failed request it met."""

    def __init__(self, page, url: str) -> None:
        self.page, self.errors, self.failed = page, [], []
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("response", lambda response: self.failed.append(response.url) if response.status >= 400 else None)
        page.goto(url)
        page.wait_for_selector("#splash-loader", state="detached", timeout=60_000)
        page.wait_for_timeout(1_000)
        page.keyboard.press("Escape")  # the template gallery a first visit opens

    def unexpected_errors(self) -> list[str]:
        unexpected_404s = [url for url in self.failed if not any(part in url for part in BENIGN_404S)]
        loads = [text for text in self.errors if text.startswith("Failed to load resource: the server responded")]
        return unexpected_404s + [text for text in self.errors if text not in loads
                                  and not any(part in text for part in BENIGN_ERRORS)]


@pytest.fixture
def comfy(browser, server, tmp_path):  # noqa: F811 - the fixture
    page = browser.new_page(viewport=VIEWPORT)
    comfy = ComfyPage(page, server.url + "/")
    yield comfy
    page.screenshot(path=str(tmp_path / "comfy.png"))
    page.close()


def test_the_frontend_boots_past_its_splash_without_console_errors(comfy):
    comfy.page.wait_for_timeout(1_000)
    assert comfy.page.get_by_role("button", name="Run").first.is_visible()
    assert comfy.unexpected_errors() == []


def test_the_node_library_lists_our_nodes(comfy):
    comfy.page.get_by_text("Nodes", exact=True).first.click()
    comfy.page.get_by_placeholder("Search", exact=False).first.fill("Save Image")
    comfy.page.get_by_text("Save Image", exact=True).first.wait_for(timeout=10_000)
    assert comfy.unexpected_errors() == []


def _load_graph(comfy: ComfyPage, workflow: dict) -> None:
    comfy.page.evaluate("workflow => window.app.loadGraphData(workflow)", workflow)
    comfy.page.wait_for_timeout(500)


def test_the_default_comfyui_workflow_runs_and_shows_its_image_on_the_save_node(comfy):
    _load_graph(comfy, json.loads(DEFAULT_WORKFLOW.read_text()))
    comfy.page.get_by_role("button", name="Run").first.click()
    comfy.page.wait_for_function("() => (window.app.graph.getNodeById(9).imgs || []).length > 0", timeout=120_000)
    source = comfy.page.evaluate("() => window.app.graph.getNodeById(9).imgs[0].src")
    assert "filename=ComfyUI_" in source and "type=output" in source
    comfy.page.screenshot(path="/tmp/comfy_default_run.png")
    assert comfy.unexpected_errors() == []


def test_a_validation_error_is_shown_on_its_node(comfy):
    workflow = json.loads(DEFAULT_WORKFLOW.read_text())
    [sampler] = [node for node in workflow["nodes"] if node["type"] == "KSampler"]
    sampler["widgets_values"][4] = "no_such_sampler"
    _load_graph(comfy, workflow)
    comfy.page.get_by_role("button", name="Run").first.click()
    comfy.page.wait_for_function("() => window.app.lastNodeErrors && window.app.lastNodeErrors['3']",
                                 timeout=20_000)
    errors = comfy.page.evaluate("() => window.app.lastNodeErrors['3'].errors")
    assert errors[0]["extra_info"]["input_name"] == "sampler_name" and "no_such_sampler" in errors[0]["message"]
    comfy.page.get_by_text("sampler_name", exact=False).first.wait_for(timeout=10_000)
    comfy.page.screenshot(path="/tmp/comfy_validation_error.png")


def test_a_prompt_queued_through_the_api_shows_as_an_active_job(comfy, server):
    body = json.dumps({"prompt": counting_workflow(seed=7, steps=100, delay=0.05)}).encode()
    request = urllib.request.Request(server.url + "/api/prompt", data=body, headers={"Content-Type": "application/json"})
    prompt_id = json.loads(urllib.request.urlopen(request).read())["prompt_id"]
    try:
        comfy.page.get_by_text("1 active").first.wait_for(timeout=10_000)
        comfy.page.get_by_role("button", name="Expand job queue").first.click()
        comfy.page.get_by_text("1 running").first.wait_for(timeout=10_000)
        assert comfy.unexpected_errors() == []
    finally:
        urllib.request.urlopen(urllib.request.Request(server.url + f"/api/jobs/{prompt_id}/cancel", method="POST"))
