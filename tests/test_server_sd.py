"""The shipped txt2img workflow on the tiny random Stable Diffusion model, through a real `nodeflow serve`."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests.server_support import REPO, ServerProcess
from tiny_models.sd import make_tiny_sd

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("sd_server")
    make_tiny_sd(root / "models" / "tiny_sd")
    with ServerProcess(root) as running:
        yield running


def test_txt2img_round_trip_on_the_tiny_model(server):
    workflow = json.loads((REPO / "workflows" / "sd_txt2img.json").read_text())
    params = {"model": "tiny_sd", "seed": 3, "steps": 2, "prompt": "a tiny cat"}
    watcher = server.watch("sd")
    prompt_id = server.queue(workflow, params=params, client_id="sd")
    watcher.until_done(prompt_id, timeout=90)

    assert watcher.of("execution_success", prompt_id), watcher.of("execution_error", prompt_id)
    progress = watcher.of("progress", prompt_id)
    assert {p["node"] for p in progress} == {"denoise"} and len(progress) >= 2
    assert [p["value"] for p in progress] == list(range(1, progress[-1]["max"] + 1))
    [executed] = watcher.of("executed", prompt_id)
    [image] = executed["output"]["images"]
    status, png = server.get(f"/view?filename={image['filename']}&type=output")
    assert status == 200
    with Image.open(io.BytesIO(png)) as picture:
        embedded = json.loads(picture.text["nodeflow"])
        assert picture.mode == "RGB" and picture.width > 0
    assert embedded["nodes"]["noise"]["inputs"]["seed"] == 3  # the params were applied to the run
    history = server.get(f"/history/{prompt_id}")[1][prompt_id]
    assert history["outputs"]["save"]["images"] == [image]

    again = server.queue(workflow, params={**params, "seed": 4}, client_id="sd")
    watcher.until_done(again, timeout=90)
    cached = set(watcher.of("execution_cached", again)[0]["nodes"])
    assert {"model", "encode_positive", "encode_negative"} <= cached and "denoise" not in cached
    watcher.close()
