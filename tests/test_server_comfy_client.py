"""A real third-party ComfyUI client from PyPI (comfy-api-simplified) drives nodeflow's server.

It posts `/prompt` in ComfyUI's API format, listens on `/ws` for the end of its
prompt, reads `/history/{id}` and downloads the images through `/view`; with a
token it authenticates by HTTP basic auth (the token as password) on both HTTP
and the WebSocket.
"""

from __future__ import annotations

import io

import comfy_api_simplified  # in the `test` extras of pyproject.toml
import pytest
from PIL import Image

from tests.server_support import ServerProcess, comfy_workflow

TOKEN = "client-check-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess(tmp_path_factory.mktemp("comfy-client"), "--token", TOKEN) as running:
        yield running


@pytest.fixture
def api(server):
    return comfy_api_simplified.ComfyApiWrapper(server.url, user="nodeflow", password=TOKEN)


def test_client_queues_a_workflow_and_gets_its_image_back_unchanged(server, api):
    workflow = comfy_api_simplified.ComfyWorkflowWrapper(comfy_workflow(seed=1, steps=2))
    workflow.set_node_param("Count", "seed", 31)
    workflow.set_node_param("Save", "size", 16)
    images = api.queue_and_wait_images(workflow, "Save")
    [(filename, data)] = images.items()
    assert filename.startswith("test_31002_")
    assert data == (server.root / "output" / filename).read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (16, 16) and image.getpixel((0, 0)) == (31002 % 256, 31002 // 256, 0)


def test_client_reads_queue_object_info_and_uploads(server, api):
    assert api.get_queue() == {"queue_running": [], "queue_pending": []}
    info = api.get_object_info("servertest.save_png")
    assert info["servertest.save_png"]["input"]["required"]["tally"] == ["Tally"]
    png = server.root / "upload.png"
    Image.new("RGB", (4, 4), (1, 2, 3)).save(png)
    assert api.upload_image(png) == {"name": "upload.png", "subfolder": "default_upload_folder", "type": "input"}
    assert (server.root / "input" / "default_upload_folder" / "upload.png").read_bytes() == png.read_bytes()


def test_client_without_the_token_is_refused(server):
    intruder = comfy_api_simplified.ComfyApiWrapper(server.url)
    with pytest.raises(comfy_api_simplified.ComfyApiError):
        intruder.queue_prompt(comfy_workflow())
