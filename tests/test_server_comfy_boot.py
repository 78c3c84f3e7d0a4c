"""What the ComfyUI frontend reads as it boots: JSON under every /api path, system facts, the small routes, model
folders, the running node on connect, and validation errors in ComfyUI's shape."""

from __future__ import annotations

import asyncio

import pytest

from tests.server_support import counting_workflow, start_client, ws_until_done

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("method, path", [("GET", "/api/nope"), ("POST", "/api/nope/deeper"), ("GET", "/api"),
                                          ("PUT", "/api/prompt"), ("GET", "/api/userdata/user.css")])
async def test_every_api_path_answers_json_even_when_nothing_is_there(aiohttp_client, tmp_path, method, path):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.request(method, path)
    assert response.status in (404, 405) and response.content_type == "application/json"
    assert "error" in await response.json()


async def test_single_user_mode_keeps_settings_on_the_server(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    assert await (await client.get("/api/users")).json() == {"storage": "server", "migrated": True}


@pytest.mark.parametrize("path, expected", [("/api/extensions", []), ("/api/i18n", {}),
                                            ("/api/workflow_templates", {}), ("/api/global_subgraphs", {})])
async def test_nothing_installed_answers_empty(aiohttp_client, tmp_path, path, expected):
    client = await start_client(aiohttp_client, tmp_path)
    assert await (await client.get(path)).json() == expected


async def test_features_state_the_upload_limit(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path, max_upload_mb=2)
    assert (await (await client.get("/api/features")).json())["max_upload_size"] == 2 * 2**20


async def test_system_stats_tell_the_frontend_versions_and_the_command_line(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    system = (await (await client.get("/api/system_stats")).json())["system"]
    assert system["comfyui_version"] and system["pytorch_version"] and system["embedded_python"] is False
    assert isinstance(system["argv"], list)


async def test_the_token_is_hidden_in_the_command_line_shown():
    from nodeflow.server.system import shown_argv

    assert shown_argv(["nodeflow", "serve", "--token", "s3", "--token=s4"]) == [
        "nodeflow", "serve", "--token", "***", "--token=***"]


async def test_model_folders_and_their_files_and_embeddings_are_listed(aiohttp_client, tmp_path):
    models = tmp_path / "models"
    (models / "checkpoints" / "sd").mkdir(parents=True)
    (models / "checkpoints" / "sd" / "tiny.safetensors").write_bytes(b"x")
    (models / "checkpoints" / "notes.txt").write_text("not a model")
    (models / "embeddings").mkdir()
    (models / "embeddings" / "easynegative.pt").write_bytes(b"x")
    client = await start_client(aiohttp_client, tmp_path)
    folders = {entry["name"] for entry in await (await client.get("/api/experiment/models")).json()}
    assert {"checkpoints", "loras", "embeddings"} <= folders
    files = await (await client.get("/api/experiment/models/checkpoints")).json()
    assert files == [{"name": "sd/tiny.safetensors", "pathIndex": 0}]
    assert await (await client.get("/api/embeddings")).json() == ["easynegative"]


async def test_folder_paths_name_where_each_model_folder_is_read_from(aiohttp_client, tmp_path):
    (tmp_path / "models" / "upscalers").mkdir(parents=True)
    client = await start_client(aiohttp_client, tmp_path)
    paths = await (await client.get("/internal/folder_paths")).json()
    assert paths["checkpoints"] == [str(tmp_path / "models" / "checkpoints")]
    assert paths["upscalers"] == [str(tmp_path / "models" / "upscalers")]


@pytest.mark.parametrize("folder, status", [("nowhere", 404), ("..%2Fuser", 400), ("%2Fetc", 400)])
async def test_an_unknown_or_hostile_model_folder_is_refused(aiohttp_client, tmp_path, folder, status):
    client = await start_client(aiohttp_client, tmp_path)
    response = await client.get(f"/api/experiment/models/{folder}")
    assert response.status == status and response.content_type == "application/json"


async def _connect_as(client, sid: str):
    """A socket under `sid`, once the server has let go of the one that had it (it hands out a fresh id till then)."""
    async with asyncio.timeout(10):
        while True:
            ws = await client.ws_connect(f"/ws?clientId={sid}")
            if (await ws.receive_json())["data"]["sid"] == sid:
                return ws
            await ws.close()


async def test_a_client_connecting_mid_run_is_told_the_running_node(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    first = await client.ws_connect("/ws?clientId=me")
    response = await client.post("/prompt", json={"prompt": counting_workflow(steps=100, delay=0.05),
                                                   "client_id": "me"})
    prompt_id = (await response.json())["prompt_id"]
    async with asyncio.timeout(10):
        while (await first.receive_json())["type"] != "progress":
            pass
    await first.close()
    again = await _connect_as(client, "me")
    assert await again.receive_json() == {"type": "executing", "data": {
        "node": "count", "display_node": "count", "prompt_id": prompt_id}}
    await client.post("/interrupt")
    await ws_until_done(again, prompt_id)


async def test_another_client_is_not_told_of_a_prompt_it_did_not_queue(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    mine = await client.ws_connect("/ws?clientId=me")
    await client.post("/prompt", json={"prompt": counting_workflow(steps=100, delay=0.05), "client_id": "me"})
    async with asyncio.timeout(10):
        while (await mine.receive_json())["type"] != "progress":
            pass
    other = await client.ws_connect("/ws?clientId=other")
    assert (await other.receive_json())["type"] == "status"
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await other.receive_json()
    await client.post("/interrupt")


async def test_validation_errors_use_comfyuis_types_and_keep_ours(aiohttp_client, tmp_path):
    client = await start_client(aiohttp_client, tmp_path)
    workflow = counting_workflow()
    workflow["nodes"]["count"]["inputs"]["steps"] = 0
    del workflow["nodes"]["save"]["inputs"]["tally"]
    response = await client.post("/api/prompt", json={"prompt": workflow})
    body = await response.json()
    assert body["error"]["type"] == "prompt_outputs_failed_validation" and body["error"]["extra_info"] == {}
    assert "steps" in body["error"]["details"]
    [steps] = body["node_errors"]["count"]["errors"]
    assert (steps["type"], steps["code"], steps["extra_info"]) == ("value_smaller_than_min", "invalid_value",
                                                                   {"input_name": "steps"})
    assert steps["details"] == steps["message"]
    [tally] = body["node_errors"]["save"]["errors"]
    assert (tally["type"], tally["code"]) == ("required_input_missing", "missing_input")
    assert body["node_errors"]["save"]["class_type"] == "servertest.save_png"


async def test_serve_without_the_frontend_package_names_the_extra(monkeypatch, capsys, tmp_path):
    import sys

    from nodeflow.cli import EXIT_INVALID, main

    monkeypatch.setitem(sys.modules, "comfyui_frontend_package", None)  # as if it were not installed
    assert main(["serve", "--frontend", "comfyui", "--user-dir", str(tmp_path)]) == EXIT_INVALID
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ") and "pip install 'nodeflow[comfyui]'" in line


async def test_the_comfyui_frontend_is_served_at_the_root(tmp_path):
    from nodeflow.server.frontend import frontend_dir

    assert (frontend_dir("comfyui") / "index.html").is_file()
    assert frontend_dir("nodeflow").name == "web"
