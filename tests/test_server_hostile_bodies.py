"""Strict JSON in and out: no NaN or Infinity, no nesting or numbers that crash the parser, nothing stored on a 400."""

from __future__ import annotations

import json

import pytest

from nodeflow.server.keys import STORE
from tests.server_support import assert_still_serving, counting_workflow, served_state, start_client

pytestmark = pytest.mark.asyncio


def _with_seed(text: str) -> bytes:
    """A prompt body whose `seed` is written as `text`, which json.dumps would never produce."""
    body = json.dumps({"prompt": counting_workflow(seed=123456789)})
    return body.replace("123456789", text).encode()


async def _refused(client, path: str, data: bytes) -> str:
    response = await client.post(path, data=data, headers={"Content-Type": "application/json"})
    assert response.status == 400, await response.text()
    return (await response.json())["error"]["message"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_numbers_in_a_body_are_refused_by_name(aiohttp_client, tmp_path, constant):
    client = await start_client(aiohttp_client, tmp_path)
    before = await served_state(client)
    assert constant in await _refused(client, "/prompt", _with_seed(constant))
    await assert_still_serving(client, before)


async def test_a_five_thousand_digit_integer_is_refused(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    before = await served_state(client)
    assert "digits" in await _refused(client, "/prompt", _with_seed("9" * 5000))
    await assert_still_serving(client, before)


async def test_deeply_nested_json_is_refused(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    before = await served_state(client)
    assert "nested too deeply" in await _refused(client, "/prompt", b"[" * 100_000)
    assert "65 levels deep" in await _refused(client, "/prompt", b'{"prompt": ' + b"[" * 64 + b"]" * 64 + b"}")
    await assert_still_serving(client, before)


async def test_a_saved_workflow_with_nan_is_refused_and_nothing_is_written(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    body = json.dumps(counting_workflow(seed=123456789)).replace("123456789", "NaN")
    response = await client.post("/workflows/mine", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400 and "NaN" in (await response.json())["error"]["message"]
    assert not (tmp_path / "user" / "workflows" / "mine.json").exists()
    await assert_still_serving(client)


async def test_workflow_files_holding_nan_are_never_sent_as_bare_nan(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    text = '{"nodeflow": 1, "nodes": {}, "meta": {"title": NaN}}'
    (tmp_path / "user" / "workflows" / "old.json").write_text(text)
    listing = await client.get("/workflows")
    [entry] = json.loads(await listing.text(), parse_constant=pytest.fail)["workflows"]
    assert entry["name"] == "old.json" and entry["error"] == "not readable JSON"
    one = await client.get("/workflows/old.json")
    assert one.status == 422 and "NaN" in (await one.json())["error"]["message"]


async def test_a_workflow_file_with_a_list_as_meta_is_listed_not_a_crash(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    (tmp_path / "user" / "workflows" / "odd.json").write_text('{"nodeflow": 1, "nodes": {}, "meta": []}')
    [entry] = (await (await client.get("/workflows")).json())["workflows"]
    assert entry["title"] == "odd"


async def test_non_finite_numbers_the_server_holds_are_sent_as_null(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, devices=[])  # no worker: the prompt stays as written
    store = client.server.app[STORE]
    store.add("p1", workflow=counting_workflow(), original=counting_workflow(), client_id=None, extra={},
              output_nodes=["save"])
    store.finish("p1", "success", {"save": {"score": [float("nan"), float("inf")]}}, [])
    response = await client.get("/history")
    history = json.loads(await response.text(), parse_constant=pytest.fail)
    assert history["p1"]["outputs"] == {"save": {"score": [None, None]}}
