"""The editor's panels and pop-ups in real headless Chromium at a laptop's 1440×900, against a real `nodeflow
serve`: the Params tab, node search, the history list, the first visit, and the dropdown of model folders."""

from __future__ import annotations

from collections import Counter

import pytest

from nodeflow.registry import default_registry

pytestmark = pytest.mark.timeout(60)


def test_shipped_nodes_have_distinct_display_names():
    schema = default_registry(entry_points_enabled=False).schema()
    names = Counter(node["display_name"] for node in schema["nodes"].values())
    assert [name for name, count in names.items() if count > 1] == []
