"""`/upload/image` against hostile forms: too many parts, huge dimensions, names that are not file names."""

from __future__ import annotations

import asyncio
import io
import time

import pytest
from aiohttp import FormData
from PIL import Image

from tests.server_support import assert_still_serving, start_client

pytestmark = pytest.mark.asyncio


def _png(size: tuple[int, int] = (4, 4), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


Part = tuple[str, bytes]  # the Content-Disposition parameters, the data


def _image(filename: str, data: bytes | None = None) -> Part:
    return f'name="image"; filename="{filename}"', _png() if data is None else data


def _field(name: str, value: bytes) -> Part:
    return f'name="{name}"', value


async def _upload(client, *parts: Part):
    """A multipart body written by hand, so that names reach the server exactly as they are."""
    body = b"".join(b"--XyZ\r\nContent-Disposition: form-data; " + disposition.encode() + b"\r\n\r\n" + data + b"\r\n"
                    for disposition, data in parts) + b"--XyZ--\r\n"
    return await client.post("/upload/image", data=body, headers={"Content-Type": "multipart/form-data; boundary=XyZ"})


async def test_an_upload_with_a_hundred_thousand_fields_is_refused_at_once(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    fields = [_field(f"f{i}", b"x") for i in range(100_000)]
    started = time.perf_counter()
    response = await _upload(client, _image("in.png"), *fields)
    assert response.status == 413 and "at most 8 parts" in (await response.json())["error"]["message"]
    assert time.perf_counter() - started < 1.0
    await assert_still_serving(client)
    assert list((tmp_path / "input").iterdir()) == []


async def test_an_upload_holds_one_image(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    response = await _upload(client, _image("a.png"), _image("b.png"))
    assert response.status == 400 and "one 'image'" in (await response.json())["error"]["message"]
    assert list((tmp_path / "input").iterdir()) == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_an_image_beyond_the_pixel_budget_is_refused_before_decoding(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    huge = _png((12_000, 12_000), mode="1")  # a few KB on the wire, 144 megapixels decoded
    assert len(huge) < 100_000
    started = time.perf_counter()
    response = await _upload(client, _image("huge.png", huge))
    message = (await response.json())["error"]["message"]
    assert response.status == 413 and "12000x12000" in message and "16777216" in message and "--max-pixels" in message
    assert time.perf_counter() - started < 1.0
    assert list((tmp_path / "input").iterdir()) == []
    await assert_still_serving(client)


async def test_the_pixel_budget_is_configurable(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, max_pixels=8 * 8)
    assert (await _upload(client, _image("fits.png", _png((8, 8))))).status == 200
    assert (await _upload(client, _image("over.png", _png((8, 9))))).status == 413


@pytest.mark.parametrize("filename", [".", ".."])
async def test_a_name_that_is_not_a_file_name_is_refused(aiohttp_client, tmp_path, filename):
    client = await start_client(aiohttp_client, tmp_path)
    response = await _upload(client, _image(filename), _field("overwrite", b"true"))
    assert response.status == 400 and "plain file name" in (await response.json())["error"]["message"]
    await assert_still_serving(client)


@pytest.mark.parametrize("disposition", ['filename="in\0.png"', "filename*=UTF-8''in%00.png"])
async def test_a_nul_in_the_file_name_is_refused(aiohttp_client, tmp_path, disposition):
    client = await start_client(aiohttp_client, tmp_path)
    response = await _upload(client, (f'name="image"; {disposition}', _png()))
    assert response.status == 400
    assert list((tmp_path / "input").iterdir()) == []
    await assert_still_serving(client)


async def test_overwriting_a_folder_with_an_image_is_refused(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    (tmp_path / "input" / "taken").mkdir()
    response = await _upload(client, _image("taken"), _field("overwrite", b"true"))
    assert response.status == 400 and "taken" in (await response.json())["error"]["message"]
    assert (tmp_path / "input" / "taken").is_dir()
    await assert_still_serving(client)


async def test_a_body_that_is_not_multipart_is_refused(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    form = FormData({"image": "x"})  # url-encoded: no parts at all
    response = await client.post("/upload/image", data=form)
    assert response.status == 400


async def test_a_stalled_upload_times_out(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, body_timeout_s=0.5)
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(b"POST /upload/image HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 100000\r\n\r\n"
                 b'--XyZ\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n\x89PNG')
    await writer.drain()
    async with asyncio.timeout(3):
        status_line = await reader.readline()
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 408")
    await assert_still_serving(client)
