"""How much one client can hold: stalled bodies time out, and requests and WebSockets in flight are capped."""

from __future__ import annotations

import asyncio
import resource

import pytest
from aiohttp import WSServerHandshakeError

from nodeflow.server.capacity import raise_open_file_limit
from tests.server_support import assert_still_serving, served_state, start_client

pytestmark = pytest.mark.asyncio


async def _stalled_body(client, path: str = "/prompt") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw connection that announces 100,000 bytes of body and sends one."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 "Content-Length: 100000\r\n\r\n{".encode())
    await writer.drain()
    return reader, writer


async def _head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


async def test_a_stalled_body_times_out_and_its_connection_is_closed(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, body_timeout_s=0.5)
    before = await served_state(client)
    reader, writer = await _stalled_body(client)
    await assert_still_serving(client, before, within=0.4)  # while it stalls
    async with asyncio.timeout(3):
        head = await _head(reader)
    assert head.startswith(b"HTTP/1.1 408") and b"Connection: close" in head
    writer.close()
    await assert_still_serving(client, before)


async def test_requests_beyond_the_cap_are_answered_503_at_once(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, max_concurrent_requests=1, body_timeout_s=5)
    _, writer = await _stalled_body(client)
    await asyncio.sleep(0.1)
    response = await client.get("/queue")
    assert response.status == 503 and response.headers["Retry-After"] == "1"
    assert "--max-requests" in (await response.json())["error"]["message"]
    writer.close()
    await asyncio.sleep(0.1)  # the stalled request ends with its connection
    await assert_still_serving(client)


async def test_websockets_have_their_own_cap_and_leave_requests_their_slots(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, max_concurrent_requests=1, max_websockets=1)
    ws = await client.ws_connect("/ws?clientId=one")
    assert (await ws.receive_json())["type"] == "status"
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws?clientId=two")
    assert refused.value.status == 503
    await assert_still_serving(client)


async def test_the_open_file_limit_is_raised_to_the_hard_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 256), hard))
    try:
        raise_open_file_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
