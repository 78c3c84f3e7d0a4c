"""The queue and history against hostile requests: nothing lost on a refused edit, bounded pages, no frozen loop."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from nodeflow import default_registry
from nodeflow.server.keys import STORE
from tests.pipeline_support import WORKFLOWS
from tests.server_support import (
    assert_still_serving, counting_workflow, served_state, start_client, ws_until_done,
)

pytestmark = pytest.mark.asyncio


async def _queued(client, *seeds: int) -> list[str]:
    replies = [await client.post("/prompt", json={"prompt": counting_workflow(seed=s)}) for s in seeds]
    return [(await reply.json())["prompt_id"] for reply in replies]


async def _finished(client, count: int) -> list[str]:
    """`count` prompts run to the end, oldest first."""
    ws = await client.ws_connect("/ws?clientId=me")
    ids = [(await (await client.post("/prompt", json={"prompt": counting_workflow(seed=s), "client_id": "me"})).json())
           ["prompt_id"] for s in range(count)]
    await ws_until_done(ws, *ids)
    await ws.close()
    return ids


@pytest.mark.parametrize("path", ["/queue", "/history"])
async def test_a_refused_edit_drops_nothing(aiohttp_client, tmp_path, path):
    client = await start_client(aiohttp_client, tmp_path, devices=[])  # no worker: queued prompts stay queued
    await _queued(client, 1, 2)
    store = client.server.app[STORE]
    store.finish(store.in_state("pending")[0].id, "success", {}, [])
    before = await served_state(client)
    assert len(before["queue"]["queue_pending"]) == 1 and len(before["history"]) == 1
    for body in ({"clear": True, "delete": "oops"}, {"clear": "yes"}, {"delete": [1]}):
        response = await client.post(path, json=body)
        assert response.status == 400, body
    await assert_still_serving(client, before)


async def test_history_answers_a_page_by_default(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, history_page_size=2)
    ids = await _finished(client, 3)
    assert list(await (await client.get("/history")).json()) == ids[1:]
    assert list(await (await client.get("/history?max_items=1000")).json()) == ids[1:]  # clamped to the page
    assert list(await (await client.get("/history?max_items=2&offset=2")).json()) == ids[:1]


@pytest.mark.parametrize("query", ["max_items=99999999999999999999", "offset=1e9",
                                   pytest.param("max_items=" + "9" * 5000, id="max_items=5000 digits")])
async def test_an_absurd_history_query_is_refused_by_name(aiohttp_client, tmp_path, query):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.get(f"/history?{query}")
    assert response.status == 400 and query.split("=")[0] in (await response.json())["error"]["message"]
    await assert_still_serving(client)


async def test_a_prompt_beyond_the_node_cap_is_refused_before_validation(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, max_nodes=10)
    nodes = {f"n{i}": {"type": "servertest.count", "inputs": {}} for i in range(11)}
    before = await served_state(client)
    response = await client.post("/prompt", json={"prompt": {"nodeflow": 1, "nodes": nodes}})
    message = (await response.json())["error"]["message"]
    assert response.status == 400 and "11 nodes" in message and "--max-nodes" in message
    await assert_still_serving(client, before)


@pytest.mark.parametrize("width, height, batch", [(4096, 4096, 8), (16384, 16384, 64)])
async def test_a_prompt_beyond_the_pixel_budget_is_refused_before_it_runs(aiohttp_client, tmp_path, width, height,
                                                                          batch):
    client = await start_client(aiohttp_client, tmp_path, registry=default_registry())
    workflow = json.loads((WORKFLOWS / "sd_txt2img.json").read_text())
    workflow["nodes"]["noise"]["inputs"].update(width=width, height=height, batch_size=batch)
    before = await served_state(client)
    response = await client.post("/prompt", json={"prompt": workflow})
    assert response.status == 400
    [error] = (await response.json())["node_errors"]["noise"]["errors"]
    assert error["code"] == "too_many_pixels" and "--max-pixels" in error["message"]
    await assert_still_serving(client, before)


async def test_the_pixel_budget_is_set_by_the_server_config(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, registry=default_registry(), max_pixels=64 * 64)
    workflow = json.loads((WORKFLOWS / "sd_txt2img.json").read_text())
    workflow["nodes"]["noise"]["inputs"].update(width=128, height=64)
    response = await client.post("/prompt", json={"prompt": workflow})
    assert response.status == 400 and "over the limit of 4,096 pixels" in (await response.json())["error"]["message"]


async def test_validating_a_large_broken_prompt_does_not_hold_up_other_clients(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    nodes = {f"n{i}": {"type": "servertest.save_png", "inputs": {"tally": {"node": f"gone{i}", "output": "tally"}}}
             for i in range(3000)}
    before = await served_state(client)
    started = time.perf_counter()  # the test shares the server's loop: a blocked loop delays the sleep too
    posted = asyncio.create_task(client.post("/prompt", json={"prompt": {"nodeflow": 1, "nodes": nodes}}))
    await asyncio.sleep(0.3)  # the body is in, validation has begun
    await assert_still_serving(client, before)
    assert time.perf_counter() - started < 2.5
    response = await posted
    assert response.status == 400 and len((await response.json())["node_errors"]) == 3000


async def test_front_must_be_true_or_false(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    before = await served_state(client)
    response = await client.post("/prompt", json={"prompt": counting_workflow(), "front": "no"})
    assert response.status == 400 and "'front'" in (await response.json())["error"]["message"]
    await assert_still_serving(client, before)


async def test_mistyped_optional_prompt_fields_are_ignored(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, devices=[])
    response = await client.post("/prompt", json={"prompt": counting_workflow(), "prompt_id": 5, "client_id": {},
                                                  "extra_data": [1]})
    assert response.status == 200
    [entry] = (await (await client.get("/queue")).json())["queue_pending"]
    assert entry[1] == (await response.json())["prompt_id"] != 5 and entry[3] == {}


async def test_interrupt_with_a_mistyped_prompt_id_is_refused(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.post("/interrupt", json={"prompt_id": ["x"]})
    assert response.status == 400 and "'prompt_id'" in (await response.json())["error"]["message"]
