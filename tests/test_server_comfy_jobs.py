"""`/jobs`: the queue and history as ComfyUI's jobs (numeric create_time, pagination), one job, and cancelling."""

from __future__ import annotations

import asyncio

import pytest

from tests.server_support import counting_workflow, start_client, ws_until_done

pytestmark = pytest.mark.asyncio


async def _queue(client, prompt, **fields) -> str:
    response = await client.post("/prompt", json={"prompt": prompt, **fields})
    assert response.status == 200, await response.text()
    return (await response.json())["prompt_id"]


async def _running(client, prompt_id: str) -> None:
    async with asyncio.timeout(10):
        while (await (await client.get(f"/api/jobs/{prompt_id}")).json())["status"] != "in_progress":
            await asyncio.sleep(0.02)


async def test_finished_jobs_list_newest_first_with_times_and_a_preview(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    first = await _queue(client, counting_workflow(1), client_id="me",
                         extra_data={"extra_pnginfo": {"workflow": {"id": "wf-1"}}})
    second = await _queue(client, counting_workflow(2), client_id="me")
    await ws_until_done(ws, first, second)
    body = await (await client.get("/api/jobs?status=completed,failed,cancelled&limit=10&offset=0")).json()
    assert [job["id"] for job in body["jobs"]] == [second, first]
    assert body["pagination"] == {"offset": 0, "limit": 10, "total": 2, "has_more": False}
    job = body["jobs"][1]
    assert job["status"] == "completed" and job["workflow_id"] == "wf-1" and job["outputs_count"] == 1
    assert isinstance(job["create_time"], int) and job["create_time"] <= job["execution_start_time"]
    assert job["execution_start_time"] <= job["execution_end_time"]
    assert job["preview_output"]["nodeId"] == "save" and job["preview_output"]["mediaType"] == "images"


async def test_a_page_says_whether_more_follow(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    ids = [await _queue(client, counting_workflow(seed), client_id="me") for seed in range(3)]
    await ws_until_done(ws, *ids)
    body = await (await client.get("/api/jobs?limit=2&offset=0&sort_order=asc")).json()
    assert [job["id"] for job in body["jobs"]] == ids[:2] and body["pagination"]["has_more"] is True


async def test_a_failed_prompt_is_a_failed_job_with_its_error(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    prompt_id = await _queue(client, counting_workflow(fail=True), client_id="me")
    await ws_until_done(ws, prompt_id)
    [job] = (await (await client.get("/api/jobs?status=failed")).json())["jobs"]
    assert job["status"] == "failed" and job["execution_error"]["node_id"] == "fail"


async def test_one_job_has_its_outputs_and_the_prompt_as_run(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    prompt_id = await _queue(client, counting_workflow(3), client_id="me")
    await ws_until_done(ws, prompt_id)
    job = await (await client.get(f"/api/jobs/{prompt_id}")).json()
    assert job["outputs"]["save"]["images"][0]["type"] == "output"
    assert job["workflow"]["prompt"]["nodes"]["count"]["inputs"]["seed"] == 3
    assert job["execution_status"]["completed"] is True


async def test_cancelling_a_pending_job_drops_it_and_a_running_one_is_interrupted(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    running = await _queue(client, counting_workflow(0, steps=100, delay=0.05), client_id="me")
    pending = await _queue(client, counting_workflow(1), client_id="me")
    await _running(client, running)
    listed = await (await client.get("/api/jobs?status=in_progress,pending")).json()
    assert {(job["id"], job["status"]) for job in listed["jobs"]} == {(running, "in_progress"), (pending, "pending")}
    assert await (await client.post(f"/api/jobs/{pending}/cancel")).json() == {"cancelled": True}
    assert await (await client.post(f"/api/jobs/{running}/cancel")).json() == {"cancelled": True}
    await ws_until_done(ws, running)
    assert (await client.get(f"/api/jobs/{pending}")).status == 404
    assert (await (await client.get(f"/api/jobs/{running}")).json())["status"] == "failed"


async def test_an_unknown_job_or_status_is_a_json_error(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    assert (await client.get("/api/jobs/nope")).status == 404
    assert (await client.post("/api/jobs/nope/cancel")).status == 404
    response = await client.get("/api/jobs?status=done")
    assert response.status == 400 and "status" in (await response.json())["error"]["message"]


async def test_jobs_survive_a_restart(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    ws = await client.ws_connect("/ws?clientId=me")
    prompt_id = await _queue(client, counting_workflow(4), client_id="me")
    await ws_until_done(ws, prompt_id)
    await client.close()
    restarted = await start_client(aiohttp_client, tmp_path)
    assert [job["id"] for job in (await (await restarted.get("/api/jobs")).json())["jobs"]] == [prompt_id]
