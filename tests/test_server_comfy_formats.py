"""POST /prompt takes ComfyUI's UI format, and saved PNGs carry ComfyUI's `prompt` and `workflow` chunks."""

from __future__ import annotations

import json

import PIL.Image
import pytest

from nodeflow import default_registry
from tests.comfy_ui_support import load_and_save
from tests.server_support import start_client, ws_until_done

pytestmark = pytest.mark.asyncio

API_PROMPT = {"1": {"class_type": "image.load", "inputs": {"image": "cat.png"}},
              "3": {"class_type": "image.save", "inputs": {"filename_prefix": "ui", "image": ["1", 0]}}}


@pytest.fixture(scope="module")
def registry():
    return default_registry()


async def _client(aiohttp_client, tmp_path, registry):
    client = await start_client(aiohttp_client, tmp_path, registry)
    PIL.Image.new("RGB", (8, 8), (10, 200, 30)).save(tmp_path / "input" / "cat.png")
    return client


async def _saved_chunks(client, tmp_path, body) -> dict[str, object]:
    """Queue `body`, wait for the run; the text chunks of the PNG it saved."""
    ws = await client.ws_connect("/ws?clientId=me")
    response = await client.post("/prompt", json={**body, "client_id": "me"})
    assert response.status == 200, await response.text()
    await ws_until_done(ws, (await response.json())["prompt_id"])
    [png] = (tmp_path / "output").glob("*.png")
    with PIL.Image.open(png) as image:
        return {key: json.loads(value) for key, value in image.text.items()}


async def test_a_ui_format_prompt_runs_and_its_png_carries_it_and_its_api_form(aiohttp_client, tmp_path, registry):
    client = await _client(aiohttp_client, tmp_path, registry)
    ui = load_and_save()
    chunks = await _saved_chunks(client, tmp_path, {"prompt": ui})
    assert chunks["workflow"] == ui and chunks["prompt"] == API_PROMPT


async def test_a_ui_format_file_is_taken_as_the_whole_body(aiohttp_client, tmp_path, registry):
    client = await _client(aiohttp_client, tmp_path, registry)
    response = await client.post("/prompt", json=load_and_save())
    assert response.status == 200, await response.text()


async def test_a_comfyui_clients_prompt_and_extra_pnginfo_workflow_go_into_the_png(aiohttp_client, tmp_path, registry):
    client = await _client(aiohttp_client, tmp_path, registry)
    ui = load_and_save()
    body = {"prompt": API_PROMPT, "extra_data": {"extra_pnginfo": {"workflow": ui}}}
    chunks = await _saved_chunks(client, tmp_path, body)
    assert chunks["prompt"] == API_PROMPT and chunks["workflow"] == ui


async def test_a_ui_format_node_of_a_missing_type_is_refused_naming_it(aiohttp_client, tmp_path, registry):
    client = await _client(aiohttp_client, tmp_path, registry)
    ui = load_and_save()
    ui["nodes"][0]["type"] = "LoadImageMask"
    response = await client.post("/prompt", json={"prompt": ui})
    assert response.status == 400
    reply = await response.json()
    [error] = reply["node_errors"]["1"]["errors"]
    assert "ComfyUI node type 'LoadImageMask'" in error["message"]
    assert reply["node_errors"]["1"]["class_type"] == "LoadImageMask"
