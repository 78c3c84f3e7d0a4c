"""`/ws` against a second socket that asks for someone else's client id."""

from __future__ import annotations

import asyncio

import pytest

from tests.server_support import counting_workflow, of_type, start_client, ws_until_done

pytestmark = pytest.mark.asyncio


async def test_a_second_socket_cannot_take_over_a_connected_client_id(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    victim = await client.ws_connect("/ws?clientId=victim")
    assert (await victim.receive_json())["data"]["sid"] == "victim"
    thief = await client.ws_connect("/ws?clientId=victim")
    thief_sid = (await thief.receive_json())["data"]["sid"]
    assert thief_sid != "victim"

    reply = await client.post("/prompt", json={"prompt": counting_workflow(seed=3), "client_id": "victim"})
    prompt_id = (await reply.json())["prompt_id"]
    messages = await ws_until_done(victim, prompt_id)
    assert of_type(messages, "executed", prompt_id) and not victim.closed
    stolen = []
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            while True:
                stolen.append(await thief.receive_json())
    assert of_type(stolen, "executed") == [] and of_type(stolen, "executing") == []
