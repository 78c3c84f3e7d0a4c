"""/object_info in forms ComfyUI's frontend can edit and wire, for every registered node."""

from __future__ import annotations

import re
from collections import Counter
from typing import Annotated, Any

import pytest
from pydantic import Field

from nodeflow import Registry, default_registry, node
from nodeflow.server.object_info import comfy_node
from tests.server_support import start_client

pytestmark = pytest.mark.asyncio

_SOCKET_TYPES = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)*$")
_VALUE_KINDS = {"INT": int, "FLOAT": (int, float), "STRING": str, "BOOLEAN": bool}


class Cat:
    """A test socket type."""


class Tabby(Cat):
    """A subclass of Cat."""


class Dog:
    """Another test socket type."""


@node("formtest.pet", category="test")
def _pet(animal: Cat | Dog, other: Cat | None = None,
         size: Annotated[int, Field(ge=8, le=64, description="the size in pixels")] | None = None,
         labels: int | list[int] | str = "tabby") -> None:
    """Takes either animal."""


@node("formtest.tabby", category="test")
def _tabby() -> Tabby:
    """Makes a tabby."""
    return Tabby()


def _problem(name: str, form: list[Any]) -> str | None:
    """Why `form` is not one of the input forms ComfyUI's frontend edits or wires, or None."""
    if len(form) == 1:
        return None if isinstance(form[0], str) and _SOCKET_TYPES.match(form[0]) else f"{name}: socket {form}"
    kind, options = form
    default = options.get("default")
    if isinstance(kind, list):
        if not all(isinstance(choice, (str, int, float)) for choice in kind):
            return f"{name}: choices {kind}"
        return None if default is None or default in kind else f"{name}: default {default!r} not among {kind}"
    if kind not in _VALUE_KINDS:
        return f"{name}: kind {kind!r}"
    if default is not None and not isinstance(default, _VALUE_KINDS[kind]):
        return f"{name}: {kind} default {default!r}"
    if kind in ("INT", "FLOAT") and default is not None:
        if not options.get("min", default) <= default <= options.get("max", default):
            return f"{name}: default {default} outside [{options.get('min')}, {options.get('max')}]"
    return None


def _every_input_form(registry: Registry) -> dict[str, list[Any]]:
    schema = registry.schema()
    forms = {}
    for type_id, node_schema in schema["nodes"].items():
        info = comfy_node(node_schema, "test", {}, schema["types"])
        for group in info["input"].values():
            forms.update({f"{type_id}.{name}": form for name, form in group.items()})
    return forms


async def test_every_registered_node_input_is_a_form_the_comfyui_frontend_edits_or_wires():
    problems = [p for name, form in _every_input_form(default_registry()).items() if (p := _problem(name, form))]
    assert problems == []


async def test_every_registered_node_has_a_display_name_of_its_own():
    names = Counter(definition.display_name for definition in default_registry())
    assert [name for name, count in names.items() if count > 1] == []


async def test_an_optional_socket_is_its_bare_type_and_a_union_socket_lists_each(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, Registry([_pet, _tabby]))
    inputs = (await (await client.get("/object_info/formtest.pet")).json())["formtest.pet"]["input"]
    assert inputs["required"]["animal"] == ["Cat,Dog,Tabby"]
    assert inputs["optional"]["other"] == ["Cat,Tabby"]


async def test_a_nullable_size_is_an_int_where_0_means_auto(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, Registry([_pet]))
    inputs = (await (await client.get("/object_info/formtest.pet")).json())["formtest.pet"]["input"]
    assert inputs["required"]["size"] == [
        "INT", {"default": 0, "min": 0, "max": 64, "step": 1, "tooltip": "the size in pixels; 0 = auto"}]


async def test_a_union_widget_is_text_holding_json_or_plain_text(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, Registry([_pet]))
    inputs = (await (await client.get("/object_info/formtest.pet")).json())["formtest.pet"]["input"]
    assert inputs["required"]["labels"] == ["STRING", {"default": "tabby", "tooltip": "a JSON value, or plain text"}]


async def test_seeds_have_comfyuis_range_and_control_after_generate(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, default_registry())
    seed = (await (await client.get("/object_info/latents.empty")).json())["latents.empty"]["input"]["required"]["seed"]
    assert seed == ["INT", {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF, "step": 1, "control_after_generate": True}]


async def test_floats_are_not_rounded_to_a_coarse_step_by_the_frontend(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, default_registry())
    info = (await (await client.get("/object_info/sampling.denoise")).json())["sampling.denoise"]
    assert info["input"]["required"]["guidance_rescale"] == [
        "FLOAT", {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.01, "round": False}]


async def test_prompt_texts_are_multiline_as_in_comfyui(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, default_registry())
    info = await (await client.get("/object_info/CLIPTextEncode")).json()
    assert info["CLIPTextEncode"]["input"]["required"]["text"] == ["STRING", {"multiline": True}]
