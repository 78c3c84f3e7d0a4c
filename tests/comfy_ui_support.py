"""Small ComfyUI UI-format workflows (what ComfyUI's editor saves) over nodeflow's own nodes, for the tests."""

from __future__ import annotations

from typing import Any


def ui_node(node_id: int, node_type: str, widgets: list[Any] | None = None, inputs: list[dict[str, Any]] | None = None,
            outputs: list[dict[str, Any]] | None = None, mode: int = 0) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "pos": [0, 0], "size": [300, 100], "flags": {}, "order": node_id,
            "mode": mode, "inputs": inputs or [], "outputs": outputs or [], "properties": {},
            "widgets_values": widgets or []}


def ui_input(name: str, socket_type: str, link: int | None, widget: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "type": socket_type, "link": link}
    if widget:
        entry["widget"] = {"name": name}
    return entry


def ui_output(name: str, socket_type: str, links: list[int]) -> dict[str, Any]:
    return {"name": name, "type": socket_type, "links": links, "slot_index": 0}


def ui_workflow(nodes: list[dict[str, Any]], links: list[list[Any]]) -> dict[str, Any]:
    return {"last_node_id": max(n["id"] for n in nodes), "last_link_id": max([l[0] for l in links] or [0]),
            "nodes": nodes, "links": links, "groups": [], "config": {}, "extra": {"ds": {"scale": 1}},
            "version": 0.4}


def load_and_save(image: str = "cat.png", prefix: str = "ui") -> dict[str, Any]:
    """Load Image (with its upload button's value) → Reroute → Save Image, and a note."""
    return ui_workflow([
        ui_node(1, "image.load", [image, "image"], outputs=[ui_output("image", "Image", [1])]),
        ui_node(2, "Reroute", inputs=[ui_input("", "*", 1)], outputs=[ui_output("", "Image", [2])]),
        ui_node(3, "image.save", [prefix], inputs=[ui_input("image", "Image", 2)]),
        ui_node(4, "Note", ["saves the loaded picture"]),
    ], [[1, 1, 0, 2, 0, "Image"], [2, 2, 0, 3, 0, "Image"]])
