"""Who may talk to the server: the token, the cross-origin guard, CORS when configured, body limits."""

from __future__ import annotations

import base64

import pytest

from nodeflow.server import ServerConfig
from tests.server_support import counting_workflow, start_client

pytestmark = pytest.mark.asyncio


async def test_token_is_required_on_every_route_when_set(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, token="s3cret")
    for method, path in (("GET", "/"), ("GET", "/queue"), ("GET", "/object_info"), ("POST", "/prompt"),
                         ("GET", "/view?filename=x"), ("GET", "/ws")):
        assert (await client.request(method, path)).status == 401, path
    assert (await client.get("/queue", headers={"Authorization": "Bearer wrong"})).status == 401
    assert (await client.get("/queue", headers={"Authorization": "Bearer s3cret"})).status == 200
    basic = base64.b64encode(b"anyone:s3cret").decode()
    assert (await client.get("/queue", headers={"Authorization": f"Basic {basic}"})).status == 200
    ws = await client.ws_connect("/ws?clientId=me&token=s3cret")
    assert (await ws.receive_json())["type"] == "status"


async def test_requests_from_other_origins_are_refused_unless_allowed(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    evil = {"Origin": "http://evil.example"}
    response = await client.post("/prompt", json={"prompt": counting_workflow()}, headers=evil)
    assert response.status == 403
    assert (await (await client.get("/queue")).json())["queue_pending"] == []
    same = {"Origin": f"http://{client.host}:{client.port}"}
    assert (await client.get("/queue", headers=same)).status == 200
    assert "Access-Control-Allow-Origin" not in (await client.get("/queue")).headers


async def test_cors_is_answered_only_for_configured_origins(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, cors_origins=["http://editor.example"])
    allowed = {"Origin": "http://editor.example"}
    preflight = await client.options("/prompt", headers={**allowed, "Access-Control-Request-Method": "POST"})
    assert preflight.status == 204 and preflight.headers["Access-Control-Allow-Origin"] == "http://editor.example"
    response = await client.get("/queue", headers=allowed)
    assert response.status == 200 and response.headers["Access-Control-Allow-Origin"] == "http://editor.example"
    assert (await client.get("/queue", headers={"Origin": "http://other.example"})).status == 403


async def test_oversized_json_body_is_refused(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, max_body_mb=0.01)
    workflow = counting_workflow()
    workflow["meta"] = {"padding": "x" * 20_000}
    response = await client.post("/prompt", json={"prompt": workflow})
    assert response.status == 413
    assert (await (await client.get("/queue")).json())["queue_pending"] == []


async def test_listening_beyond_loopback_without_token_is_flagged():
    assert ServerConfig(host="0.0.0.0").exposed_without_token
    assert not ServerConfig(host="0.0.0.0", token="t").exposed_without_token
    assert not ServerConfig().exposed_without_token


async def test_opening_the_editor_with_the_token_in_the_url_lets_the_page_in(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, token="s3cret")
    assert (await client.get("/?token=s3cret")).status == 200
    assert (await client.get("/queue")).status == 200  # the cookie set by the first request
    client.session.cookie_jar.clear()
    assert (await client.get("/queue")).status == 401
    assert (await client.get("/?token=wrong")).status == 401
    assert (await client.get("/queue")).status == 401
