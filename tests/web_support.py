"""Shared by the browser tests: Debian's Chromium driven by Playwright, and an `Editor` that works the page
the way a user does (drag from the palette, drag between sockets, type into widgets)."""

from __future__ import annotations

import json
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from server_support import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
# Headless and off the network: no updates, no sync, no QUIC probes.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1800, "height": 1000}
# On a first visit the editor opens a shipped workflow; tests start from an empty canvas unless they ask for one.
SEEN_BEFORE = "try { localStorage.setItem('nodeflow.visited', '1'); } catch {}"


@contextmanager
def serving(root: Path) -> Iterator[ServerProcess]:
    """`nodeflow serve` on the folders under `root`, for a module's browser tests; stopped at the end."""
    process = ServerProcess(root)
    process.start()
    try:
        yield process
    finally:
        process.kill(signal.SIGTERM)


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium; a clear failure (never a skip) when it or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install it with `make browser` (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def sync_playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright as start
    except ImportError:
        pytest.fail("Playwright is missing: pip install -e '.[test]' (the test extras include playwright)")
    return start()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (import this fixture into the module)."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def editor(browser, server, tmp_path):
    """A fresh editor page on the module's `server`; its last look is kept as editor.png in the test's tmp folder,
    and any JavaScript error it threw fails the test."""
    page = browser.new_page(viewport=VIEWPORT)
    editor = Editor(page, server.url + "/").open()
    yield editor
    page.screenshot(path=str(tmp_path / "editor.png"))
    page.close()
    assert editor.errors == [], f"the page threw JavaScript errors: {editor.errors}"


class Editor:
    """The editor page at `url`, with the moves a user makes."""

    def __init__(self, page: Any, url: str, first_visit: bool = False) -> None:
        self.page = page
        self.url = url
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        if not first_visit:
            page.add_init_script(SEEN_BEFORE)

    def open(self) -> Editor:
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready=true]", timeout=10_000)
        return self

    def node(self, node_id: str) -> Any:
        return self.page.locator(f'.node[data-id="{node_id}"]')

    def add(self, node_type: str, x: float, y: float) -> str:
        """Drag `node_type` from the palette to (x, y) in the canvas; returns the new node's id."""
        self.page.drag_and_drop(f'.palette-item[data-type="{node_type}"]', "#editor", target_position={"x": x, "y": y})
        return self.page.evaluate("[...window.nodeflow.selection.ids][0]")

    def wire(self, source: str, output: str, target: str, input_name: str) -> None:
        self.page.drag_and_drop(f'.node[data-id="{source}"] .socket.out[data-output="{output}"]',
                                f'.node[data-id="{target}"] .socket.in[data-input="{input_name}"]')

    def field(self, node_id: str, input_name: str, selector: str = "input.num, input.text, textarea, select") -> Any:
        return self.node(node_id).locator(f'[data-input="{input_name}"]').locator(selector).first

    def type_into(self, node_id: str, input_name: str, value: Any) -> None:
        field = self.field(node_id, input_name)
        field.fill(str(value))
        field.press("Tab")

    def workflow(self) -> dict[str, Any]:
        return self.page.evaluate("window.nodeflow.graph.toWorkflow()")

    def links(self) -> dict[str, dict[str, Any]]:
        """Target "node.input" → source link, from the editor's model."""
        found = {}
        for node_id, node in self.workflow()["nodes"].items():
            for name, value in node["inputs"].items():
                if isinstance(value, dict) and set(value) == {"node", "output"}:
                    found[f"{node_id}.{name}"] = value
        return found

    def toast(self) -> str:
        self.page.wait_for_selector("#toast.visible", timeout=5_000)
        return self.page.text_content("#toast") or ""

    def drop_file(self, name: str, data: bytes, mime: str) -> None:
        """Drop a file from the desktop onto the canvas at (400, 300) in the window."""
        self.page.evaluate("""([name, bytes, mime]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, { type: mime }));
            document.querySelector("#editor").dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true,
              cancelable: true, clientX: 400, clientY: 300 }));
        }""", [name, list(data), mime])


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
