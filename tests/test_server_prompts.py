"""The prompt lifecycle through aiohttp's test client: queue, watch, history, cache, failures, interrupts."""

from __future__ import annotations

import asyncio

import pytest

from tests.server_support import comfy_workflow, counting_workflow, of_type, start_client, ws_until_done

pytestmark = pytest.mark.asyncio


async def _queue(client, prompt, **fields) -> str:
    response = await client.post("/prompt", json={"prompt": prompt, **fields})
    assert response.status == 200, await response.text()
    return (await response.json())["prompt_id"]


async def test_queued_prompt_streams_progress_and_lands_in_history(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    response = await client.post("/prompt", json={"prompt": counting_workflow(seed=2, steps=4), "client_id": "me"})
    reply = await response.json()
    assert set(reply) == {"prompt_id", "number", "node_errors"} and reply["node_errors"] == {}
    prompt_id = reply["prompt_id"]
    messages = await ws_until_done(ws, prompt_id)

    kinds = [m["type"] for m in messages if m["type"] != "status"]
    assert kinds[0] == "execution_start" and kinds[-2:] == ["execution_success", "executing"]
    assert [(p["value"], p["max"], p["node"]) for p in of_type(messages, "progress")] == [(i, 4, "count") for i in range(1, 5)]
    [executed] = of_type(messages, "executed", prompt_id)
    [image] = executed["output"]["images"]
    assert executed["node"] == "save" and image["type"] == "output"

    history = await (await client.get(f"/history/{prompt_id}")).json()
    assert history[prompt_id]["outputs"] == {"save": {"images": [image]}}
    assert history[prompt_id]["status"]["completed"] is True
    view = await client.get("/view", params={"filename": image["filename"], "type": "output"})
    assert view.status == 200 and view.content_type == "image/png"
    assert await view.read() == (tmp_path / "output" / image["filename"]).read_bytes()


async def test_status_counts_pending_and_running_prompts(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    first = await ws.receive_json()
    assert first == {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": "me"}}
    slow = counting_workflow(seed=0, steps=20, delay=0.05)  # still running while the others are queued
    ids = [await _queue(client, workflow, client_id="me") for workflow in (slow, counting_workflow(1), counting_workflow(2))]
    messages = await ws_until_done(ws, *ids)
    remaining = [m["data"]["status"]["exec_info"]["queue_remaining"] for m in messages if m["type"] == "status"]
    assert max(remaining) == 3 and remaining[-1] == 0
    info = await (await client.get("/prompt")).json()
    assert info == {"exec_info": {"queue_remaining": 0}}


async def test_comfy_api_format_and_params_are_accepted(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    comfy_id = await _queue(client, comfy_workflow(seed=7, steps=2), client_id="me")
    param_id = await _queue(client, counting_workflow(seed=1), params={"seed": 9, "steps": 2}, client_id="me")
    messages = await ws_until_done(ws, comfy_id, param_id)
    [comfy_image] = of_type(messages, "executed", comfy_id)[0]["output"]["images"]
    [param_image] = of_type(messages, "executed", param_id)[0]["output"]["images"]
    assert comfy_image["filename"].startswith("test_7002_")  # tally = seed * 1000 + steps
    assert param_image["filename"].startswith("test_9002_")


async def test_history_shows_the_workflow_as_run_with_its_params_applied(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    prompt_id = await _queue(client, counting_workflow(seed=1), params={"seed": 7}, client_id="me")
    await ws_until_done(ws, prompt_id)
    [entry] = (await (await client.get(f"/history/{prompt_id}")).json()).values()
    [image] = entry["outputs"]["save"]["images"]
    assert image["filename"].startswith("test_7003_")
    ran = entry["prompt"][2]
    assert ran["nodes"]["count"]["inputs"]["seed"] == 7 and ran["params"] == counting_workflow()["params"]


async def test_invalid_prompt_reports_every_problem_by_node_and_input(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    workflow = counting_workflow()
    workflow["nodes"]["count"]["inputs"].update(steps=0, colour="red")
    workflow["nodes"]["save"]["inputs"]["tally"] = {"node": "nowhere", "output": "tally"}
    workflow["nodes"]["ghost"] = {"type": "servertest.countt", "inputs": {}}
    response = await client.post("/prompt", json={"prompt": workflow})
    assert response.status == 400
    body = await response.json()
    assert "error" in body
    errors = body["node_errors"]
    assert {(e["input"], e["code"]) for e in errors["count"]["errors"]} == {("steps", "invalid_value"), ("colour", "unknown_input")}
    assert [(e["input"], e["code"]) for e in errors["save"]["errors"]] == [("tally", "missing_node")]
    assert errors["ghost"]["errors"][0]["code"] == "unknown_type" and "servertest.count" in errors["ghost"]["errors"][0]["message"]
    assert errors["count"]["class_type"] == "servertest.count"
    assert (await (await client.get("/queue")).json())["queue_pending"] == []


async def test_unknown_param_and_malformed_bodies_are_refused(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.post("/prompt", json={"prompt": counting_workflow(), "params": {"sead": 1}})
    assert response.status == 400 and "sead" in str((await response.json())["node_errors"])
    assert (await client.post("/prompt", data=b"{not json")).status == 400
    assert (await client.post("/prompt", json={"nothing": 1})).status == 400
    assert (await client.post("/prompt", json=[1, 2])).status == 400


async def test_requeued_prompt_reuses_the_cache_across_prompts(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    first = await _queue(client, counting_workflow(seed=3), client_id="me")
    await ws_until_done(ws, first)
    changed = counting_workflow(seed=3)
    changed["nodes"]["save"]["inputs"]["size"] = 4
    second = await _queue(client, changed, client_id="me")
    messages = await ws_until_done(ws, second)
    assert of_type(messages, "execution_cached", second)[0]["nodes"] == ["count"]
    assert [m["node"] for m in of_type(messages, "executing", second)] == ["save", None]


async def test_failing_node_reports_error_caches_nothing_and_next_prompt_runs(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    failing = await _queue(client, counting_workflow(seed=4, fail=True), client_id="me")
    again = await _queue(client, counting_workflow(seed=4, fail=True), client_id="me")
    healthy = await _queue(client, counting_workflow(seed=5), client_id="me")
    messages = await ws_until_done(ws, failing, again, healthy)

    [error] = of_type(messages, "execution_error", failing)
    assert (error["node_id"], error["node_type"], error["exception_message"]) == ("fail", "servertest.fail", "boom")
    assert error["exception_type"] == "RuntimeError" and "raise RuntimeError" in "".join(error["traceback"])
    assert of_type(messages, "execution_cached", again)[0]["nodes"] == ["count"]
    assert "fail" in [m["node"] for m in of_type(messages, "executing", again)]
    assert len(of_type(messages, "execution_error", again)) == 1
    assert of_type(messages, "execution_success", healthy)
    history = await (await client.get("/history")).json()
    assert [history[i]["status"]["status_str"] for i in (failing, again, healthy)] == ["error", "error", "success"]


async def test_interrupt_stops_the_running_prompt_only_when_named(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    slow = await _queue(client, counting_workflow(seed=6, steps=500, delay=0.01), client_id="me")
    after = await _queue(client, counting_workflow(seed=7), client_id="me")
    while (await ws.receive_json())["type"] != "progress":
        pass
    other = await client.post("/interrupt", json={"prompt_id": after})
    assert (await other.json()) == {"interrupted": False}
    named = await client.post("/interrupt", json={"prompt_id": slow})
    assert (await named.json()) == {"interrupted": True}
    messages = await ws_until_done(ws, slow, after)
    [stopped] = of_type(messages, "execution_interrupted", slow)
    assert stopped["node_id"] == "count" and stopped["node_type"] == "servertest.count"
    assert of_type(messages, "execution_success", after)


async def test_queue_lists_deletes_and_clears_pending_prompts(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    blocker = await _queue(client, counting_workflow(seed=1, steps=500, delay=0.01), client_id="me")
    ids = [await _queue(client, counting_workflow(seed=s), client_id="me") for s in (2, 3, 4)]
    front = await _queue(client, counting_workflow(seed=5), client_id="me", front=True)
    while (await ws.receive_json())["type"] != "progress":
        pass
    queue = await (await client.get("/queue")).json()
    assert [item[1] for item in queue["queue_running"]] == [blocker]
    assert [item[1] for item in queue["queue_pending"]] == [front, *ids]
    await client.post("/queue", json={"delete": [ids[0]]})
    queue = await (await client.get("/queue")).json()
    assert [item[1] for item in queue["queue_pending"]] == [front, *ids[1:]]
    await client.post("/queue", json={"clear": True})
    assert (await (await client.get("/queue")).json())["queue_pending"] == []
    await client.post("/interrupt")
    await ws_until_done(ws, blocker)
    assert list(await (await client.get("/history")).json()) == [blocker]


async def test_history_is_limited_deleted_and_cleared(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    ids = [await _queue(client, counting_workflow(seed=s), client_id="me") for s in range(3)]
    await ws_until_done(ws, *ids)
    assert list(await (await client.get("/history?max_items=2")).json()) == ids[1:]
    await client.post("/history", json={"delete": [ids[1]]})
    assert list(await (await client.get("/history")).json()) == [ids[0], ids[2]]
    await client.post("/history", json={"clear": True})
    assert await (await client.get("/history")).json() == {}
    assert await (await client.get(f"/history/{ids[0]}")).json() == {}
    await asyncio.sleep(0)


async def test_binary_previews_go_only_to_clients_that_asked_for_them(aiohttp_client, tmp_path):
    from aiohttp import WSMsgType

    client = await start_client(aiohttp_client, tmp_path)
    wants = await client.ws_connect("/ws?clientId=wants&previews=1")
    plain = await client.ws_connect("/ws?clientId=plain")
    workflow = counting_workflow(seed=8, steps=2)
    workflow["nodes"]["count"]["inputs"]["preview"] = True
    prompt_id = await _queue(client, workflow)  # no client_id: messages go to everyone

    async def frames(ws) -> list:
        received = []
        async with asyncio.timeout(20):
            while True:
                message = await ws.receive()
                received.append(message)
                if message.type == WSMsgType.TEXT and '"node": null' in message.data and prompt_id in message.data:
                    return received

    previews = [m.data for m in await frames(wants) if m.type == WSMsgType.BINARY]
    assert len(previews) == 2 and all(p[:8] == b"\0\0\0\1\0\0\0\1" and p[8:10] == b"\xff\xd8" for p in previews)
    assert all(m.type == WSMsgType.TEXT for m in await frames(plain))


async def test_routes_answer_under_the_api_prefix_too(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/api/ws?clientId=me")
    prompt_id = (await (await client.post("/api/prompt", json={"prompt": counting_workflow(), "client_id": "me"})).json())["prompt_id"]
    await ws_until_done(ws, prompt_id)
    assert prompt_id in await (await client.get("/api/history")).json()
    assert "servertest.count" in await (await client.get("/api/object_info")).json()
