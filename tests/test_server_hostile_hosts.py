"""Which pages and names may talk to the server: the Host and Origin allow-lists (DNS rebinding, CSRF)."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestServer

from nodeflow.server import create_app
from tests.server_support import (
    assert_still_serving, counting_workflow, make_config, served_state, servertest_registry, start_client,
)

pytestmark = pytest.mark.asyncio

REBOUND = {"Host": "evil.example:8188", "Origin": "http://evil.example:8188", "Content-Type": "text/plain"}


def _origin(client, host: str = "127.0.0.1", port: int | None = None) -> dict[str, str]:
    return {"Origin": f"http://{host}:{port or client.port}"}


async def test_a_rebound_host_name_is_refused_on_every_route(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    saved = tmp_path / "user" / "workflows" / "mine.json"
    saved.write_text('{"nodeflow": 1, "nodes": {}}\n')
    (tmp_path / "output" / "x.png").write_bytes(b"png")
    before = await served_state(client)
    prompt = json.dumps({"prompt": counting_workflow()})
    routes = (("POST", "/prompt", prompt), ("GET", "/history", None), ("GET", "/view?filename=x.png", None),
              ("GET", "/system_stats", None), ("POST", "/workflows/mine", '{"nodeflow": 1, "nodes": {}}'),
              ("GET", "/", None), ("GET", "/api/queue", None))
    for method, path, body in routes:
        response = await client.request(method, path, data=body, headers=REBOUND)
        assert response.status == 421, path
        assert "--allow-host" in (await response.json())["error"]["message"]
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws?clientId=me", headers=REBOUND)
    assert refused.value.status == 421
    assert saved.read_text() == '{"nodeflow": 1, "nodes": {}}\n'
    await assert_still_serving(client, before)


async def test_a_foreign_origin_is_refused_under_a_loopback_host(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    before = await served_state(client)
    evil = {"Origin": "http://evil.example"}
    response = await client.post("/prompt", json={"prompt": counting_workflow()}, headers=evil)
    assert response.status == 403 and "evil.example" in (await response.json())["error"]["message"]
    await assert_still_serving(client, before)


async def test_an_origin_is_not_accepted_for_matching_the_host_header(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, allow_hosts=["evil.example"])
    headers = {"Host": f"attacker.example:{client.port}", "Origin": f"http://attacker.example:{client.port}"}
    assert (await client.get("/queue", headers=headers)).status == 421
    loopback_host = {"Host": f"127.0.0.1:{client.port}", "Origin": f"http://attacker.example:{client.port}"}
    assert (await client.get("/queue", headers=loopback_host)).status == 403


async def test_a_loopback_origin_must_name_the_port_the_server_listens_on(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    other_port = {"Host": f"localhost:{client.port + 1}", **_origin(client, "localhost", client.port + 1)}
    assert (await client.get("/queue", headers=other_port)).status == 403


async def test_a_null_origin_is_refused_even_with_cors_for_everyone(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, cors_origins=["*"])
    assert (await client.get("/queue", headers={"Origin": "null"})).status == 403


async def test_the_editor_under_each_loopback_name_still_works(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    for name, netloc in (("127.0.0.1", "127.0.0.1"), ("localhost", "localhost"), ("[::1]", "[::1]")):
        headers = {"Host": f"{netloc}:{client.port}", **_origin(client, name)}
        response = await client.post("/prompt", json={"prompt": counting_workflow()}, headers=headers)
        assert response.status == 200, name
    ws = await client.ws_connect("/ws?clientId=me", headers=_origin(client))
    assert (await ws.receive_json())["type"] == "status"


async def test_an_allowed_host_is_served_and_its_origin_may_use_any_port(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, allow_hosts=["nodeflow.lan"])
    headers = {"Host": "nodeflow.lan", "Origin": "https://nodeflow.lan"}  # behind a proxy on 443
    assert (await client.get("/queue", headers=headers)).status == 200


async def test_the_bind_address_is_served_when_it_is_a_concrete_one(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, host="192.0.2.7")
    headers = {"Host": f"192.0.2.7:{client.port}", **_origin(client, "192.0.2.7")}
    assert (await client.get("/queue", headers=headers)).status == 200
    wildcard = await start_client(aiohttp_client, tmp_path / "any", host="0.0.0.0")
    assert (await wildcard.get("/queue", headers={"Host": f"0.0.0.0:{wildcard.port}"})).status == 421


async def test_with_a_token_any_host_is_served_to_whoever_has_the_token(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, token="s3cret")
    lan = {"Host": f"192.168.1.5:{client.port}"}
    assert (await client.get("/queue", headers=lan)).status == 401
    assert (await client.get("/queue", headers={**lan, "Authorization": "Bearer s3cret"})).status == 200
    rebound_page = {**lan, "Origin": f"http://192.168.1.5:{client.port}", "Authorization": "Bearer s3cret"}
    assert (await client.get("/queue", headers=rebound_page)).status == 403  # the socket's address is 127.0.0.1


async def test_a_page_from_the_address_the_client_reached_the_server_at_is_its_own(aiohttp_client, tmp_path):
    """A LAN user opens the editor at the machine's own address: that address comes from the socket, not a header."""
    app = create_app(make_config(tmp_path, host="0.0.0.0", token="s3cret"), servertest_registry())
    client = await aiohttp_client(TestServer(app, host="127.0.0.2"))  # any local address but the loopback names
    own = {"Host": f"127.0.0.2:{client.port}", "Origin": f"http://127.0.0.2:{client.port}",
           "Authorization": "Bearer s3cret"}
    response = await client.post("/prompt", json={"prompt": counting_workflow()}, headers=own)
    assert response.status == 200
    other_port = {**own, "Origin": f"http://127.0.0.2:{client.port + 1}"}
    assert (await client.get("/queue", headers=other_port)).status == 403


async def test_a_non_ascii_token_is_refused_not_a_crash(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, token="s3cret")
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(b"GET /queue HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer s3cr\xe9t\r\n"
                 b"Connection: close\r\n\r\n")
    async with asyncio.timeout(5):
        status_line = await reader.readline()
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 401")
    assert (await client.get("/queue", headers={"Authorization": "Bearer s3cret"})).status == 200
