"""The server log: one line when a prompt is queued and one when its run ends (id, title, seconds, status).

`nodeflow serve` writing them to its output is tested in test_server_process.py."""

from __future__ import annotations

import logging
import re

import pytest

from tests.server_support import comfy_workflow, counting_workflow, start_client, ws_until_done

pytestmark = pytest.mark.asyncio
SECONDS = r"\d+\.\d\d s"


def _titled(title: str, **kw) -> dict:
    return {**counting_workflow(**kw), "meta": {"title": title}}


async def _run(client, *prompts: dict) -> list[str]:
    """Queue `prompts`, wait until each has ended, and return their ids."""
    ws = await client.ws_connect("/ws?clientId=log")
    ids = []
    for prompt in prompts:
        response = await client.post("/prompt", json={"prompt": prompt, "client_id": "log"})
        ids.append((await response.json())["prompt_id"])
    await ws_until_done(ws, *ids)
    return ids


def _lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "nodeflow.server.prompt_log"]


@pytest.fixture
def server_log(caplog):
    caplog.set_level(logging.INFO, logger="nodeflow")
    return caplog


async def test_a_queued_prompt_is_logged_with_its_id_and_title(aiohttp_client, tmp_path, server_log):
    client = await start_client(aiohttp_client, tmp_path)
    [prompt_id] = await _run(client, _titled("Counting"))
    assert f"got prompt {prompt_id} (Counting)" in _lines(server_log)


async def test_a_finished_run_is_logged_with_its_seconds_and_success(aiohttp_client, tmp_path, server_log):
    client = await start_client(aiohttp_client, tmp_path)
    [prompt_id] = await _run(client, _titled("Counting"))
    [ended] = [line for line in _lines(server_log) if " ended " in line]
    assert re.fullmatch(rf"prompt {prompt_id} \(Counting\) ended in {SECONDS}: success", ended)


async def test_a_failed_run_is_logged_with_the_node_and_the_error(aiohttp_client, tmp_path, server_log):
    client = await start_client(aiohttp_client, tmp_path)
    [prompt_id] = await _run(client, _titled("Failing", fail=True))
    [ended] = [line for line in _lines(server_log) if " ended " in line]
    expected = rf"prompt {prompt_id} \(Failing\) ended in {SECONDS}: failed at node 'fail' \(servertest.fail\): boom"
    assert re.fullmatch(expected, ended)


async def _long_run_under_way(client):
    """A long prompt, once it reports progress: its WebSocket and id."""
    ws = await client.ws_connect("/ws?clientId=log")
    reply = await client.post("/prompt", json={"prompt": counting_workflow(steps=2000, delay=0.01), "client_id": "log"})
    prompt_id = (await reply.json())["prompt_id"]
    while (await ws.receive_json())["type"] != "progress":
        pass
    return ws, prompt_id


async def test_an_interrupted_run_is_logged_as_interrupted(aiohttp_client, tmp_path, server_log):
    client = await start_client(aiohttp_client, tmp_path)
    ws, prompt_id = await _long_run_under_way(client)
    await client.post("/interrupt", json={})
    await ws_until_done(ws, prompt_id)
    assert _lines(server_log)[-1].endswith(": interrupted")


async def test_a_run_stopped_by_the_shutdown_is_logged_as_such(aiohttp_client, tmp_path, server_log):
    client = await start_client(aiohttp_client, tmp_path)
    _, prompt_id = await _long_run_under_way(client)
    await client.close()
    assert _lines(server_log)[-1].startswith(f"prompt {prompt_id} (untitled) stopped by the shutdown after ")


async def test_a_prompt_without_a_title_is_logged_as_untitled(aiohttp_client, tmp_path, server_log):
    client = await start_client(aiohttp_client, tmp_path)
    [prompt_id] = await _run(client, comfy_workflow())
    assert f"got prompt {prompt_id} (untitled)" in _lines(server_log)


async def test_a_title_cannot_add_lines_to_the_log(aiohttp_client, tmp_path, server_log):
    client = await start_client(aiohttp_client, tmp_path)
    [prompt_id] = await _run(client, _titled("Counting\nprompt forged ended in 0.00 s: success\r\x1b[2J"))
    assert all("\n" not in line and "\r" not in line and "\x1b" not in line for line in _lines(server_log))
    assert f"got prompt {prompt_id} (Counting prompt forged ended in 0.00 s: success [2J)" in _lines(server_log)
