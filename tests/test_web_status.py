"""The editor's status area in real headless Chromium against a real `nodeflow serve`: the memory the models of
each device take against its budget (or the device's total), with the loaded models in the tooltip."""

from __future__ import annotations

import pytest
from web_support import Editor, browser, editor, serving  # noqa: F401 (fixtures)

pytestmark = pytest.mark.timeout(60)
BLOB_WORKFLOW = {"nodeflow": 1, "nodes": {
    "load": {"type": "statetest.load_blob", "inputs": {"name": "my-blob", "megabytes": 3}, "pos": [40, 60]},
    "use": {"type": "statetest.use_blob", "inputs": {"blob": {"node": "load", "output": "blob"}}, "pos": [420, 60]},
}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("web_status")) as process:
        yield process


def _cpu_memory(editor: Editor):
    return editor.page.locator('#memory .device-memory[data-device="cpu"]')


def test_status_shows_no_model_memory_before_a_run_against_the_devices_total(editor):
    status = _cpu_memory(editor)
    status.wait_for(timeout=5_000)
    text = status.text_content()
    assert text.startswith("cpu 0 B / ") and text.endswith("GB"), text
    assert "no models loaded" in status.get_attribute("title")


def test_status_shows_the_memory_a_run_s_model_takes_and_names_it_in_the_tooltip(editor):
    editor.page.evaluate("workflow => window.nodeflow.load(workflow)", BLOB_WORKFLOW)
    editor.page.click("#queue-button")
    editor.page.wait_for_function(
        "() => document.querySelector('#memory .device-memory')?.textContent.startsWith('cpu 3.0 MB / ')",
        timeout=10_000)
    title = _cpu_memory(editor).get_attribute("title")
    assert "my-blob — cpu, 3.0 MB" in title, title
