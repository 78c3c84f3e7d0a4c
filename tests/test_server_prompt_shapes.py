"""A malformed prompt is a 400 that names the node and field, never a 500, and queues nothing."""

from __future__ import annotations

import pytest

from tests.server_support import comfy_workflow, start_client

pytestmark = pytest.mark.asyncio


async def test_comfy_node_with_an_object_as_class_type_is_a_400_naming_the_node(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    prompt = comfy_workflow()
    prompt["2"]["class_type"] = {}
    response = await client.post("/prompt", json={"prompt": prompt})
    assert response.status == 400
    [error] = (await response.json())["node_errors"]["2"]["errors"]
    assert error["code"] == "format" and "'class_type'" in error["message"]
    assert (await (await client.get("/queue")).json())["queue_pending"] == []
