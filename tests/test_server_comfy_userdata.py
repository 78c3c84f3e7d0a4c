"""`/settings` and `/userdata` as the ComfyUI frontend uses them: persisted under the user folder, safe names."""

from __future__ import annotations

import pytest

from tests.server_support import start_client

pytestmark = pytest.mark.asyncio


async def test_settings_saved_one_by_one_and_whole_survive_a_restart(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    assert await (await client.get("/api/settings")).json() == {}
    assert (await client.post("/api/settings/Comfy.Locale", json="fr")).status == 200
    assert (await client.post("/api/settings", json={"Comfy.UseNewMenu": "Top", "Comfy.Locale": "de"})).status == 200
    restarted = await start_client(aiohttp_client, tmp_path)
    assert await (await restarted.get("/api/settings")).json() == {"Comfy.Locale": "de", "Comfy.UseNewMenu": "Top"}
    assert await (await restarted.get("/api/settings/Comfy.UseNewMenu")).json() == "Top"
    assert (tmp_path / "user" / "default" / "comfy.settings.json").is_file()


async def test_an_unset_setting_reads_as_null(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.get("/settings/Comfy.Nothing")
    assert response.status == 200 and await response.json() is None


async def test_a_setting_without_a_body_is_refused(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.post("/api/settings/Comfy.Locale")
    assert response.status == 400 and "Comfy.Locale" in (await response.json())["error"]["message"]


async def test_a_workflow_file_is_written_read_listed_and_survives_a_restart(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.post("/api/userdata/workflows%2Fa.json?overwrite=true&full_info=true", data=b'{"n": 1}')
    info = await response.json()
    assert response.status == 200 and info["path"] == "workflows/a.json" and info["size"] == 8
    assert isinstance(info["modified"], int) and isinstance(info["created"], int)
    restarted = await start_client(aiohttp_client, tmp_path)
    assert await (await restarted.get("/api/userdata/workflows%2Fa.json")).read() == b'{"n": 1}'
    listed = await (await restarted.get("/api/userdata?dir=workflows&recurse=true&split=false&full_info=true")).json()
    assert [entry["path"] for entry in listed] == ["a.json"]
    assert await (await restarted.get("/api/userdata?dir=workflows&split=true")).json() == [["a.json", "a.json"]]


async def test_a_write_without_full_info_answers_the_path(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.post("/userdata/workflows%2Fb.json", data=b"{}")
    assert await response.json() == "workflows/b.json"


async def test_overwrite_false_keeps_an_existing_file(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    await client.post("/api/userdata/a.json", data=b"old")
    response = await client.post("/api/userdata/a.json?overwrite=false", data=b"new")
    assert response.status == 409 and "error" in await response.json()
    assert await (await client.get("/api/userdata/a.json")).read() == b"old"


async def test_a_file_is_moved_and_deleted(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    await client.post("/api/userdata/workflows%2Fa.json", data=b"{}")
    response = await client.post("/api/userdata/workflows%2Fa.json/move/workflows%2Fb.json?overwrite=false")
    assert response.status == 200 and await response.json() == "workflows/b.json"
    assert (await client.get("/api/userdata/workflows%2Fa.json")).status == 404
    assert (await client.delete("/api/userdata/workflows%2Fb.json")).status == 204
    assert await (await client.get("/api/userdata?dir=workflows")).json() == []


async def test_user_css_is_served_as_a_stylesheet_and_other_files_as_downloads(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    await client.post("/api/userdata/user.css", data=b"body{}")
    await client.post("/api/userdata/page.html", data=b"<script>")
    css = await client.get("/api/userdata/user.css")
    page = await client.get("/api/userdata/page.html")
    assert css.content_type == "text/css"
    assert page.content_type == "application/octet-stream" and page.headers["Content-Disposition"] == "attachment"


async def test_a_missing_file_is_a_json_404(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.get("/api/userdata/nope.json")
    assert response.status == 404 and response.content_type == "application/json"


async def test_a_folder_not_made_yet_lists_empty(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.get("/api/userdata?dir=workflows&recurse=true&split=false&full_info=true")
    assert response.status == 200 and await response.json() == []


@pytest.mark.parametrize("name", ["..%2Fnodeflow.sqlite3", "%2Fetc%2Fpasswd", "a%2F..%2F..%2Fx", "a%00b", "a%5Cb"])
async def test_names_that_leave_the_user_data_folder_are_refused(aiohttp_client, tmp_path, name):
    client = await start_client(aiohttp_client, tmp_path)
    for method in ("GET", "POST", "DELETE"):
        response = await client.request(method, f"/api/userdata/{name}", data=b"x")
        assert response.status == 400 and "error" in await response.json(), (method, name)
    assert not (tmp_path / "user" / "x").exists()


async def test_a_move_out_of_the_user_data_folder_is_refused(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    await client.post("/api/userdata/a.json", data=b"{}")
    response = await client.post("/api/userdata/a.json/move/..%2F..%2Fa.json")
    assert response.status == 400 and (tmp_path / "user" / "default" / "a.json").is_file()


async def test_a_link_out_of_the_user_data_folder_is_refused(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    (tmp_path / "user" / "default").mkdir(parents=True)
    (tmp_path / "user" / "default" / "out").symlink_to(tmp_path)
    response = await client.get("/api/userdata/out%2Fuser%2Fnodeflow.sqlite3")
    assert response.status == 400
