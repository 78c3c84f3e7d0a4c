"""The editor's panels and pop-ups in real headless Chromium at a laptop's 1440×900, against a real `nodeflow
serve`: the Params tab, node search, the history list, the first visit, and the dropdown of model folders."""

from __future__ import annotations

import signal
from collections import Counter

import pytest
from server_support import ServerProcess
from web_support import Editor, browser, editor  # noqa: F401 (fixtures)

from nodeflow.registry import default_registry

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("web_panels")
    process = ServerProcess(root)
    process.start()
    yield process
    process.kill(signal.SIGTERM)


def test_shipped_nodes_have_distinct_display_names():
    schema = default_registry(entry_points_enabled=False).schema()
    names = Counter(node["display_name"] for node in schema["nodes"].values())
    assert [name for name, count in names.items() if count > 1] == []


def search_results(editor: Editor, query: str, x: float = 500, y: float = 300) -> list[str]:
    editor.page.dblclick("#editor", position={"x": x, "y": y})
    editor.page.keyboard.type(query)
    return editor.page.locator(".search-item").evaluate_all("items => items.map(i => i.dataset.type)")


def test_search_ranks_display_names_starting_with_the_word_first(editor):
    assert set(search_results(editor, "vae")[:2]) == {"vae.decode", "vae.encode"}
