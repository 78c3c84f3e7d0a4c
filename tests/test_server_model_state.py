"""Visible model state: /system_stats lists each worker's models and budgets; /free drops models on request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nodeflow.budgets import Budgets
from nodeflow.registry import load_module_file
from tests.server_support import TEST_NODES, servertest_registry, start_client, ws_until_done

pytestmark = pytest.mark.asyncio


def _registry() -> Any:
    registry = servertest_registry()
    registry.add_module(load_module_file(TEST_NODES / "statetest.py"))
    return registry


def _blob_workflow(megabytes: int = 2, seed: int = 0) -> dict[str, Any]:
    return {"nodeflow": 1, "nodes": {
        "load": {"type": "statetest.load_blob", "inputs": {"name": "my-blob", "megabytes": megabytes}},
        "use": {"type": "statetest.use_blob", "inputs": {"blob": {"node": "load", "output": "blob"}, "seed": seed}},
    }}


async def _run(client: Any, workflow: dict[str, Any]) -> dict[str, Any]:
    ws = await client.ws_connect("/ws?clientId=me")
    prompt = await (await client.post("/prompt", json={"prompt": workflow, "client_id": "me"})).json()
    await ws_until_done(ws, prompt["prompt_id"])
    await ws.close()
    return (await (await client.get(f"/history/{prompt['prompt_id']}")).json())[prompt["prompt_id"]]


async def _device(client: Any) -> dict[str, Any]:
    return (await (await client.get("/system_stats")).json())["devices"][0]


async def _device_once(client: Any, settled: Any) -> dict[str, Any]:
    """The device entry once `settled(entry)` holds: the worker frees between prompts, asynchronously."""
    for _ in range(200):
        device = await _device(client)
        if settled(device):
            return device
        await asyncio.sleep(0.01)
    return device


async def test_system_stats_list_each_loaded_model_with_its_device_bytes_and_the_budgets(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, _registry(), budgets=Budgets(ram=64_000_000))
    await _run(client, _blob_workflow(megabytes=2))
    device = await _device(client)
    [model] = device["models"]
    assert (model["source"], model["device"], model["bytes"]) == ("my-blob", "cpu", 2_000_000)
    assert model["loaded"] is True and model["in_use"] is False and model["key"]
    assert device["budgets"] == {"vram": None, "ram": 64_000_000, "vram_used": 0, "ram_used": 2_000_000}
    assert device["vram_total"] > 0 and "vram_free" in device  # ComfyUI's shape is kept


async def test_free_with_unload_models_drops_the_models_and_the_next_prompt_makes_them_again(aiohttp_client,
                                                                                               tmp_path):
    client = await start_client(aiohttp_client, tmp_path, _registry())
    await _run(client, _blob_workflow())
    assert (await client.post("/free", json={"unload_models": True})).status == 200
    device = await _device_once(client, lambda d: not d["models"][0]["loaded"])
    [model] = device["models"]
    assert model["loaded"] is False and model["device"] is None and device["budgets"]["ram_used"] == 0
    again = await _run(client, _blob_workflow(seed=1))  # the loader's output is cached: its module is made again
    assert again["status"]["status_str"] == "success" and again["outputs"]["use"]["sizes"] == [2_000_000]
    assert (await _device(client))["models"][0]["loaded"] is True


async def test_free_memory_empties_the_outputs_cache_and_the_models_go_with_it(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, _registry())
    await _run(client, _blob_workflow())
    assert (await client.post("/free", json={"free_memory": True, "unload_models": False})).status == 200
    device = await _device_once(client, lambda d: d["cache_entries"] == 0)
    assert device["cache_entries"] == 0 and device["models"] == [] and device["budgets"]["ram_used"] == 0


async def test_free_with_unload_models_alone_keeps_the_outputs_cache(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, _registry())
    await _run(client, _blob_workflow())
    entries = (await _device(client))["cache_entries"]
    assert (await client.post("/free", json={"unload_models": True})).status == 200
    device = await _device_once(client, lambda d: not d["models"][0]["loaded"])
    assert device["cache_entries"] == entries > 0


async def test_free_refuses_a_flag_that_is_not_a_boolean_naming_it(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, _registry())
    response = await client.post("/free", json={"unload_models": "yes"})
    assert response.status == 400 and "unload_models" in (await response.json())["error"]["message"]
