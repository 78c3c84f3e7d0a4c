"""The CLI's progress display names the running node, and draws only on a terminal."""

from __future__ import annotations

import io

from nodeflow import Graph
from nodeflow.events import NodeProgress, NodeStarted, RunStarted
from nodeflow.progress import ProgressBar

from .pack import math_nodes


def shown(bar: ProgressBar) -> None:
    bar(RunStarted("run", ["decoder"]))
    bar(NodeStarted("run", "decoder", "kandinsky.denoise"))
    bar(NodeProgress("run", "decoder", 3, 100))


def test_bars_name_the_running_node_by_its_label():
    screen = io.StringIO()
    with ProgressBar({"decoder": "Kandinsky Denoise"}, file=screen, enabled=True) as bar:
        shown(bar)
    assert "nodes:   0%" in screen.getvalue() and "decoder: Kandinsky Denoise" in screen.getvalue()
    assert "decoder: Kandinsky Denoise:   0%|" in screen.getvalue()  # the step bar too


def test_a_node_without_a_label_is_named_by_its_type():
    screen = io.StringIO()
    with ProgressBar(file=screen, enabled=True) as bar:
        shown(bar)
    assert "decoder: kandinsky.denoise" in screen.getvalue()


def test_labels_of_a_workflow_are_titles_else_display_names(registry):
    graph = Graph(registry)
    first = graph.add("math.add", x=1)
    graph.add("io.show", value=first.out.int, title="Print the sum")
    bar = ProgressBar.for_workflow(graph.workflow, registry)
    assert sorted(bar.labels.values()) == ["Add", "Print the sum"]


def test_nothing_is_drawn_off_a_terminal():
    screen = io.StringIO()
    with ProgressBar({"decoder": "Kandinsky Denoise"}, file=screen) as bar:
        shown(bar)
    assert screen.getvalue() == ""
