"""What the server tells about itself: /object_info (ComfyUI's shape), /nodeflow/schema, /system_stats, /free."""

from __future__ import annotations

import asyncio
from typing import Annotated

import pytest

from nodeflow import InFolder, Registry, node
from tests.server_support import counting_workflow, start_client, ws_until_done

pytestmark = pytest.mark.asyncio


async def test_object_info_describes_nodes_the_comfyui_way(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    info = await (await client.get("/object_info")).json()
    assert sorted(info) == ["servertest.count", "servertest.die", "servertest.fail", "servertest.save_png"]
    count = info["servertest.count"]
    assert count["input"]["optional"] == {}, "widgets with defaults are 'required' in ComfyUI: they always hold a value"
    assert count["input"]["required"]["steps"] == ["INT", {"default": 3, "min": 1, "max": 10000, "step": 1}]
    assert count["input"]["required"]["delay"] == ["FLOAT", {"default": 0.0, "min": 0.0, "max": 5.0, "step": 0.01, "round": False}]
    assert (count["output"], count["output_name"], count["output_node"]) == (["Tally"], ["tally"], False)
    save = info["servertest.save_png"]
    assert save["input"]["required"]["tally"] == ["Tally"] and save["output_node"] is True
    one = await (await client.get("/object_info/servertest.fail")).json()
    assert one == {"servertest.fail": info["servertest.fail"]}
    assert (await client.get("/object_info/servertest.nothing")).status == 404


async def test_nodeflow_schema_carries_json_schemas_and_the_socket_type_table(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    schema = await (await client.get("/nodeflow/schema")).json()
    steps = schema["nodes"]["servertest.count"]["inputs"]["steps"]
    assert steps["widget"] is True and steps["schema"] == {"type": "integer", "minimum": 1, "maximum": 10000}
    assert schema["types"]["Tally"]["description"] == "A number produced by counting steps."


async def test_system_stats_report_device_and_cache_and_free_memory_empties_it(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    prompt = await (await client.post("/prompt", json={"prompt": counting_workflow(), "client_id": "me"})).json()
    await ws_until_done(ws, prompt["prompt_id"])
    stats = await (await client.get("/system_stats")).json()
    [device] = stats["devices"]
    assert device["name"] == "cpu" and device["cache_entries"] == 2 and device["running"] is None
    assert stats["system"]["ram_total"] > 0
    assert (await client.post("/free", json={"free_memory": True})).status == 200
    for _ in range(200):  # the worker frees between prompts, asynchronously
        stats = await (await client.get("/system_stats")).json()
        if stats["devices"][0]["cache_entries"] == 0:
            break
        await asyncio.sleep(0.01)
    assert stats["devices"][0]["cache_entries"] == 0 and stats["devices"][0]["cache_bytes"] == 0


async def test_choices_list_what_the_folders_hold_now_for_inputs_that_name_entries(aiohttp_client, tmp_path):
    from nodeflow import default_registry

    client = await start_client(aiohttp_client, tmp_path, default_registry())
    before = await (await client.get("/nodeflow/choices")).json()
    assert before["sd.load_model"] == {"model": []} and before["image.load"] == {"image": []}
    (tmp_path / "models" / "my-sd").mkdir(parents=True)
    (tmp_path / "models" / "my-sd" / "model_index.json").write_text("{}")
    (tmp_path / "input" / "cat.png").write_bytes(b"")
    after = await (await client.get("/nodeflow/choices")).json()
    assert after["sd.load_model"] == {"model": ["my-sd"]} and after["dit.load_model"] == {"model": ["my-sd"]}
    assert after["sd.load_checkpoint"] == {"checkpoint": [], "config": ["my-sd"]}
    assert after["image.load"] == {"image": ["cat.png"]}
    assert "sampling.denoise" not in after


def _model_folder(root, name: str) -> None:
    (root / "models" / name).mkdir(parents=True)
    (root / "models" / name / "model_index.json").write_text("{}")


async def test_object_info_lists_the_models_in_the_folders_as_comfyui_lists_checkpoints(aiohttp_client, tmp_path):
    from nodeflow import default_registry

    client = await start_client(aiohttp_client, tmp_path, default_registry())
    _model_folder(tmp_path, "my-sd")
    info = await (await client.get("/object_info")).json()
    assert info["sd.load_model"]["input"]["required"]["model"] == [["my-sd"], {}]
    assert info["sd.load_checkpoint"]["input"]["required"]["checkpoint"] == [[], {}]
    _model_folder(tmp_path, "other-sd")  # listed again on every request
    one = await (await client.get("/object_info/sd.load_model")).json()
    assert one["sd.load_model"]["input"]["required"]["model"] == [["my-sd", "other-sd"], {}]


async def test_object_info_offers_an_upload_for_input_images_only(aiohttp_client, tmp_path):
    from nodeflow import default_registry

    client = await start_client(aiohttp_client, tmp_path, default_registry())
    (tmp_path / "input" / "cat.png").write_bytes(b"")
    info = await (await client.get("/object_info")).json()
    assert info["image.load"]["input"]["required"]["image"] == [["cat.png"], {"image_upload": True}]
    assert info["prior.load_embeds"]["input"]["required"]["file"] == [[], {}]


@node("infotest.load", category="test")
def _load_with_a_hub_default(model: Annotated[str, InFolder("models", other="hub id")] = "org/hub-model") -> str:
    """A loader whose default is a hub id."""
    return model


async def test_object_info_lists_a_default_the_folders_lack_so_that_it_validates(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, Registry([_load_with_a_hub_default]))
    _model_folder(tmp_path, "my-sd")
    info = await (await client.get("/object_info/infotest.load")).json()
    assert info["infotest.load"]["input"]["required"]["model"] == [["org/hub-model", "my-sd"], {"default": "org/hub-model"}]
