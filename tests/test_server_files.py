"""Files through the server: /view, /upload/image, /workflows and the static editor never leave their folders."""

from __future__ import annotations

import io
import json

import pytest
from aiohttp import FormData
from PIL import Image

from tests.server_support import counting_workflow, start_client

pytestmark = pytest.mark.asyncio


def _png(color=(10, 20, 30), size=4) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="PNG")
    return buffer.getvalue()


def _raw_upload(data: bytes, filename: str) -> tuple[bytes, dict[str, str]]:
    """A multipart body written by hand, so that the file name reaches the server unescaped."""
    body = (b'--XyZ\r\nContent-Disposition: form-data; name="image"; filename="' + filename.encode()
            + b'"\r\nContent-Type: image/png\r\n\r\n' + data + b"\r\n--XyZ--\r\n")
    return body, {"Content-Type": "multipart/form-data; boundary=XyZ"}


def _upload(data: bytes, filename: str = "in.png", **fields: str) -> FormData:
    form = FormData()
    form.add_field("image", data, filename=filename, content_type="image/png")
    for name, value in fields.items():
        form.add_field(name, value)
    return form


async def test_view_serves_files_of_each_folder_type(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    (tmp_path / "output" / "sub").mkdir(parents=True)
    (tmp_path / "output" / "sub" / "a.png").write_bytes(_png())
    (tmp_path / "input" / "b.png").write_bytes(_png((1, 2, 3)))
    ok = await client.get("/view", params={"filename": "a.png", "subfolder": "sub", "type": "output"})
    assert ok.status == 200 and await ok.read() == _png()
    assert ok.headers["X-Content-Type-Options"] == "nosniff" and ok.headers["Content-Security-Policy"] == "sandbox"
    assert await (await client.get("/view", params={"filename": "b.png", "type": "input"})).read() == _png((1, 2, 3))
    assert (await client.get("/view", params={"filename": "missing.png"})).status == 404
    assert (await client.get("/view", params={"filename": "a.png", "type": "models"})).status == 400


@pytest.mark.parametrize("filename, subfolder", [
    ("../secret.txt", ""),
    ("secret.txt", ".."),
    ("secret.txt", "sub/../.."),
    ("/etc/passwd", ""),
    ("secret.txt", "/tmp"),
    ("a\x00.png", ""),
    ("..\\secret.txt", ""),
])
async def test_view_refuses_paths_that_leave_the_folder(aiohttp_client, tmp_path, filename, subfolder):
    client = await start_client(aiohttp_client, tmp_path)
    (tmp_path / "secret.txt").write_text("TOP-SECRET-CONTENT")
    response = await client.get("/view", params={"filename": filename, "subfolder": subfolder, "type": "output"})
    assert response.status == 403
    assert "TOP-SECRET-CONTENT" not in await response.text()


async def test_view_refuses_symlinks_even_inside_the_folder(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    (tmp_path / "secret.txt").write_text("TOP-SECRET-CONTENT")
    (tmp_path / "output" / "out.txt").symlink_to(tmp_path / "secret.txt")
    (tmp_path / "output" / "real.png").write_bytes(_png())
    (tmp_path / "output" / "alias.png").symlink_to(tmp_path / "output" / "real.png")
    (tmp_path / "output" / "dir").symlink_to(tmp_path)
    for name, subfolder in (("out.txt", ""), ("alias.png", ""), ("secret.txt", "dir")):
        response = await client.get("/view", params={"filename": name, "subfolder": subfolder})
        assert response.status == 403, name


async def test_upload_stores_a_real_image_in_input_and_never_overwrites_by_default(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    first = await (await client.post("/upload/image", data=_upload(_png()))).json()
    second = await (await client.post("/upload/image", data=_upload(_png((9, 9, 9)), subfolder="mine"))).json()
    third = await (await client.post("/upload/image", data=_upload(_png((5, 5, 5))))).json()
    assert first == {"name": "in.png", "subfolder": "", "type": "input"}
    assert second == {"name": "in.png", "subfolder": "mine", "type": "input"}
    assert third["name"] == "in (1).png"
    assert (tmp_path / "input" / "in.png").read_bytes() == _png()
    assert (tmp_path / "input" / "mine" / "in.png").read_bytes() == _png((9, 9, 9))
    replaced = await client.post("/upload/image", data=_upload(_png((7, 7, 7)), overwrite="true"))
    assert (await replaced.json())["name"] == "in.png"
    assert (tmp_path / "input" / "in.png").read_bytes() == _png((7, 7, 7))


async def test_upload_refuses_non_images_unsafe_names_and_oversized_files(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, max_upload_mb=0.01)
    assert (await client.post("/upload/image", data=_upload(b"#!/bin/sh\necho hi\n", "x.png"))).status == 400
    for name in ("../escape.png", "/tmp/escape.png", "sub/../../escape.png"):
        body, headers = _raw_upload(_png(), name)
        assert (await client.post("/upload/image", data=body, headers=headers)).status in (400, 403), name
    assert (await client.post("/upload/image", data=_upload(_png(), "x.png", subfolder="../.."))).status == 403
    assert (await client.post("/upload/image", data=_upload(_png(), "x.png", type="output"))).status == 400
    big = _png(size=400) + b"\0" * 20_000
    assert (await client.post("/upload/image", data=_upload(big, "big.png"))).status == 413
    assert not (tmp_path / "escape.png").exists() and not (tmp_path / "user" / "escape.png").exists()
    assert sorted(p.name for p in (tmp_path / "input").iterdir()) == []


async def test_workflows_lists_shipped_and_user_files_and_saves_only_user_ones(aiohttp_client, tmp_path):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "demo.json").write_text(json.dumps({**counting_workflow(), "meta": {"title": "Demo"}}))
    client = await start_client(aiohttp_client, tmp_path)
    mine = {**counting_workflow(seed=8), "meta": {"title": "Mine"}, "extra_editor_state": {"zoom": 2}}
    saved = await client.post("/workflows/mine", json=mine)
    assert saved.status == 200 and (await saved.json())["name"] == "mine.json"
    listing = (await (await client.get("/workflows")).json())["workflows"]
    assert [(w["name"], w["source"], w["title"], w["read_only"]) for w in listing] == [
        ("mine.json", "user", "Mine", False), ("demo.json", "shipped", "Demo", True)]
    assert await (await client.get("/workflows/mine.json")).json() == mine
    assert (await (await client.get("/workflows/demo")).json())["meta"]["title"] == "Demo"
    assert (await client.post("/workflows/demo.json", json=mine)).status == 409
    assert (await client.get("/workflows/nothing.json")).status == 404


@pytest.mark.parametrize("name", ["..%2Fescape", ".hidden", "a%00b", "sub%2Fx"])
async def test_workflow_names_cannot_name_paths(aiohttp_client, tmp_path, name):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.post(f"/workflows/{name}", json=counting_workflow())
    assert response.status in (400, 404)
    assert not list(tmp_path.glob("*.json")) and not list((tmp_path / "user").glob("*.json"))


async def test_saving_a_broken_workflow_is_refused(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.post("/workflows/broken", json={"nodeflow": 1, "nodes": {"a": {"inputs": {}}}})
    assert response.status == 400 and (await response.json())["problems"][0]["node_id"] == "a"


async def test_static_editor_is_served_at_root_and_cannot_be_escaped(aiohttp_client, tmp_path):
    (tmp_path / "web" / "js").mkdir(parents=True)
    (tmp_path / "web" / "index.html").write_text("<html>editor</html>")
    (tmp_path / "web" / "js" / "api.js").write_text("export {}")
    (tmp_path / "secret.txt").write_text("TOP-SECRET-CONTENT")
    client = await start_client(aiohttp_client, tmp_path)
    assert await (await client.get("/")).text() == "<html>editor</html>"
    assert await (await client.get("/js/api.js")).text() == "export {}"
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/js/%2e%2e/%2e%2e/secret.txt", "/nothing.js"):
        response = await client.get(path)
        assert response.status == 404, path


async def test_root_answers_even_without_the_editor(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.get("/")
    assert response.status == 200 and "nodeflow" in await response.text()


async def test_upload_refuses_an_image_that_claims_billions_of_pixels(aiohttp_client, tmp_path):
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.post("/upload/image", data=_upload(bomb, "bomb.png"))
    assert response.status == 413 and "--max-pixels" in (await response.json())["error"]["message"]
