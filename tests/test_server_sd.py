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


def test_pending_prompts_of_one_shape_run_as_one_batch_each_with_its_own_events_and_image(server):
    workflow = json.loads((REPO / "workflows" / "sd_txt2img.json").read_text())
    base = {"model": "tiny_sd", "steps": 3}
    watchers = {name: server.watch(f"batch-{name}") for name in ("blocker", "cat", "dog", "owl")}
    blocker = server.queue(workflow, params={**base, "steps": 40, "seed": 99}, client_id="batch-blocker")
    ids = {name: server.queue(workflow, params={**base, "prompt": f"a {name}", "seed": seed},
                              client_id=f"batch-{name}") for seed, name in enumerate(("cat", "dog", "owl"))}
    for name, prompt_id in {"blocker": blocker, **ids}.items():
        watchers[name].until_done(prompt_id, timeout=90)
    history = server.get("/history")[1]
    entries = [history[prompt_id] for prompt_id in ids.values()]
    assert all(entry["status"]["status_str"] == "success" for entry in entries)
    assert len({entry["meta"]["started"] for entry in entries}) == 1  # claimed together, after the blocker
    assert history[blocker]["meta"]["started"] < entries[0]["meta"]["started"]
    images = {entry["outputs"]["save"]["images"][0]["filename"] for entry in entries}
    pixels = {server.get(f"/view?filename={name}&type=output")[1] for name in images}
    assert len(images) == len(pixels) == 3
    for name, prompt_id in ids.items():
        mine = watchers[name]
        progress = mine.of("progress", prompt_id)
        assert [p["value"] for p in progress] == list(range(1, progress[-1]["max"] + 1))
        assert {m["data"]["prompt_id"] for m in mine.messages if "prompt_id" in m["data"]} == {prompt_id}
        mine.close()
    watchers["blocker"].close()


def test_an_interrupt_of_one_prompt_of_a_batch_stops_it_and_the_others_finish(server):
    workflow = json.loads((REPO / "workflows" / "sd_txt2img.json").read_text())
    base = {"model": "tiny_sd", "steps": 150, "scheduler": "euler"}
    watcher = server.watch("batch-stop")
    server.queue(workflow, params={"model": "tiny_sd", "steps": 30, "seed": 98}, client_id="batch-stop")  # a blocker
    ids = [server.queue(workflow, params={**base, "prompt": f"picture {seed}", "seed": seed}, client_id="batch-stop")
           for seed in (21, 22, 23)]
    watcher.wait_for("progress", ids[1])
    assert server.post("/interrupt", {"prompt_id": ids[1]})[1] == {"interrupted": True}
    watcher.until_done(*ids, timeout=90)  # the blocker ended before the batch began: its end was read already
    history = server.get("/history")[1]
    assert len({history[i]["meta"]["started"] for i in ids}) == 1  # one batch
    assert [history[i]["status"]["status_str"] for i in ids] == ["success", "error", "success"]
    assert watcher.of("execution_interrupted", ids[1]) and not watcher.of("execution_interrupted", ids[0])
    assert [bool(watcher.of("executed", i)) for i in ids] == [True, False, True]
    watcher.close()
