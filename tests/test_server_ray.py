"""`nodeflow serve --ray auto --ray-workers 2`: the same API, with prompts running in two Ray actors.

One server for the module (a local Ray and two CPU actors take a few seconds to
start); the head's SIGKILL test starts its own. Marked `ray`: `-m 'not ray'`
skips them locally; CI runs them.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import time

import pytest
import websocket
from PIL import Image

from tests.server_nodes.families import family_workflow
from tests.server_support import REPO, ServerProcess, counting_workflow
from tiny_models.sd import make_tiny_sd

pytestmark = pytest.mark.ray
ACTORS = 2


def _ray_server(root, *extra: str) -> ServerProcess:
    return ServerProcess(root, "--ray", "auto", "--ray-workers", str(ACTORS), "--max-attempts", "2", *extra,
                         devices=())


def _actors(server, count: int = ACTORS, timeout: float = 90.0) -> list[dict]:
    """The device entries of the server's actors once `count` of them answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        devices = server.get("/system_stats")[1]["devices"]
        if len([device for device in devices if "pid" in device]) == count:
            return devices
        time.sleep(0.2)
    raise TimeoutError(f"the actors did not answer: {devices}")


def _history(server, prompt_ids, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        history = server.get("/history")[1]
        if all(prompt_id in history for prompt_id in prompt_ids):
            return history
        time.sleep(0.1)
    raise TimeoutError(f"not in history: {set(prompt_ids) - set(history)}")


def _running_actor(server, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [device for device in server.get("/system_stats")[1]["devices"] if device["running"]]
        if running:
            return running[0]
        time.sleep(0.05)
    raise TimeoutError("no actor started a prompt")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray")
    make_tiny_sd(root / "models" / "tiny_sd")
    with _ray_server(root) as running:
        _actors(running)
        yield running


def test_round_trip_streams_progress_and_the_head_serves_the_actors_png(server):
    watcher = server.watch("ray-round-trip")
    prompt_id = server.queue(counting_workflow(seed=21, steps=3), client_id="ray-round-trip")
    watcher.until_done(prompt_id)
    assert [p["value"] for p in watcher.of("progress", prompt_id)] == [1, 2, 3]
    [image] = watcher.of("executed", prompt_id)[0]["output"]["images"]
    status, png = server.get(f"/view?filename={image['filename']}&subfolder=&type=output")
    assert status == 200 and png == (server.root / "output" / image["filename"]).read_bytes()
    entry = _history(server, [prompt_id])[prompt_id]
    assert entry["outputs"]["save"]["images"] == [image]
    assert entry["meta"]["worker"].startswith("ray-") and entry["meta"]["attempts"] == 1
    devices = _actors(server)
    assert [(d["worker"], d["type"]) for d in devices] == [("ray-0", "cpu"), ("ray-1", "cpu")]
    assert all(d["name"] == f"cpu ({d['worker']} on {d['node']})" and d["vram_total"] > 0 for d in devices)
    watcher.close()


def _frames_until_done(ws, prompt_id: str) -> list[bytes]:
    """The binary frames a WebSocket gets until `prompt_id` ends."""
    frames = []
    while True:
        frame = ws.recv()
        if isinstance(frame, bytes):
            frames.append(frame)
            continue
        message = json.loads(frame)
        if message["type"] == "executing" and message["data"] == {"node": None, "display_node": None,
                                                                  "prompt_id": prompt_id}:
            return frames


def test_previews_stream_from_the_actor_to_the_prompts_client_only(server):
    mine, other = (websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws?clientId={sid}&previews=1",
                                               timeout=30) for sid in ("ray-previews", "ray-bystander"))
    workflow = counting_workflow(seed=22, steps=3)
    workflow["nodes"]["count"]["inputs"]["preview"] = True
    prompt_id = server.queue(workflow, client_id="ray-previews")
    frames = _frames_until_done(mine, prompt_id)
    assert len(frames) == 3 and all(f[:8] == struct.pack(">II", 1, 1) and f[8:10] == b"\xff\xd8" for f in frames)
    other.settimeout(1.0)
    with pytest.raises(websocket.WebSocketTimeoutException):  # only `status` messages, then nothing
        while isinstance(frame := other.recv(), str):
            assert json.loads(frame)["type"] == "status"
    mine.close()
    other.close()


def test_input_files_go_to_the_actors_and_numbered_outputs_are_numbered_again_at_the_head(server):
    """Two actors each write `ray_00001_.png` at once; the head keeps both, as ray_00001_ and ray_00002_."""
    colours = {"left.png": (200, 10, 10), "right.png": (10, 10, 200)}
    for name, colour in colours.items():
        Image.new("RGB", (16, 16), colour).save(server.root / "input" / name)
    watcher = server.watch("ray-files")
    save = {"type": "image.save", "inputs": {"image": {"node": "load", "output": "image"}, "filename_prefix": "ray"}}
    ids = {server.queue({"nodeflow": 1, "nodes": {"load": {"type": "image.load", "inputs": {"image": name}},
                                                  "save": save}}, client_id="ray-files"): name for name in colours}
    watcher.until_done(*ids)
    history = _history(server, ids)
    assert {history[i]["meta"]["worker"] for i in ids} == {"ray-0", "ray-1"}
    saved = {}
    for prompt_id, name in ids.items():
        [image] = history[prompt_id]["outputs"]["save"]["images"]
        assert watcher.of("executed", prompt_id)[0]["output"]["images"] == [image]
        saved[image["filename"]] = Image.open(server.root / "output" / image["filename"]).getpixel((0, 0))[:3]
        assert saved[image["filename"]] == colours[name]
    assert sorted(saved) == ["ray_00001_.png", "ray_00002_.png"]
    watcher.close()


def test_two_prompts_run_at_once_on_two_actors(server):
    ids = [server.queue(counting_workflow(seed=30 + i, steps=10, delay=0.1)) for i in range(2)]
    meta = [entry["meta"] for entry in map(_history(server, ids).get, ids)]
    assert {m["worker"] for m in meta} == {"ray-0", "ray-1"}
    assert max(m["started"] for m in meta) < min(m["finished"] for m in meta)


def test_pending_prompts_of_one_shape_run_as_one_batch_in_an_actor(server):
    blockers = [server.queue(counting_workflow(seed=90 + i, steps=40, delay=0.05)) for i in range(ACTORS)]
    deadline = time.monotonic() + 30
    while len([d for d in server.get("/system_stats")[1]["devices"] if d["running"]]) < ACTORS:
        assert time.monotonic() < deadline, "the blockers did not start"
        time.sleep(0.05)
    workflow = json.loads((REPO / "workflows" / "sd_txt2img.json").read_text())
    ids = [server.queue(workflow, params={"model": "tiny_sd", "steps": 3, "prompt": f"picture {seed}", "seed": seed})
           for seed in (1, 2, 3)]
    history = _history(server, ids + blockers)
    entries = [history[prompt_id] for prompt_id in ids]
    assert [entry["status"]["status_str"] for entry in entries] == ["success"] * 3
    assert len({(entry["meta"]["started"], entry["meta"]["worker"]) for entry in entries}) == 1
    written = {entry["outputs"]["save"]["images"][0]["filename"] for entry in entries}
    assert len({(server.root / "output" / name).read_bytes() for name in written}) == 3


def test_prompts_of_a_model_keep_going_to_the_actor_that_holds_it(server):
    loads_before = sum(device["model_loads"] for device in _actors(server))
    queued = {server.queue(family_workflow(family, seed=i, load_seconds=0.3, use_seconds=0.1)): family
              for i in range(4) for family in "AB"}
    history = _history(server, queued)
    workers = {family: {history[i]["meta"]["worker"] for i, f in queued.items() if f == family} for family in "AB"}
    assert len(workers["A"]) == len(workers["B"]) == 1 and workers["A"] != workers["B"]
    assert sum(device["model_loads"] for device in _actors(server)) - loads_before == 2  # each family once
    assert server.post("/free", {"unload_models": True})[0] == 200  # reaches every actor
    deadline = time.monotonic() + 30
    while any(model["loaded"] for device in server.get("/system_stats")[1]["devices"] for model in device["models"]):
        assert time.monotonic() < deadline, "the actors kept their models"
        time.sleep(0.1)


def test_interrupt_reaches_the_actor_running_the_prompt(server):
    watcher = server.watch("ray-interrupt")
    slow = server.queue(counting_workflow(seed=40, steps=2000, delay=0.01), client_id="ray-interrupt")
    watcher.wait_for("progress", slow)
    assert server.post("/interrupt", {"prompt_id": slow})[1] == {"interrupted": True}
    after = server.queue(counting_workflow(seed=41), client_id="ray-interrupt")
    watcher.until_done(slow, after)
    assert watcher.of("execution_interrupted", slow) and watcher.of("execution_success", after)
    assert _history(server, [slow])[slow]["status"]["status_str"] == "error"
    watcher.close()


def test_an_actor_killed_mid_prompt_loses_nothing_and_is_replaced(server):
    seeds = range(50, 60)
    ids = [server.queue(counting_workflow(seed=seed, steps=10, delay=0.05)) for seed in seeds]
    victim = _running_actor(server)
    os.kill(victim["pid"], signal.SIGKILL)
    history = _history(server, ids)
    assert [history[i]["status"]["status_str"] for i in ids] == ["success"] * 10
    retried = [i for i in ids if history[i]["meta"]["attempts"] == 2]
    assert retried == [victim["running"]]
    assert all(history[i]["meta"]["attempts"] == 1 for i in ids if i not in retried)
    written = sorted(path.name.split("_")[1] for path in (server.root / "output").glob("test_*.png")
                     if 50 <= int(path.name.split("_")[1]) // 1000 < 60)
    assert written == sorted(str(seed * 1000 + 10) for seed in seeds)  # each prompt saved once, none twice
    replaced = {device["worker"]: device["pid"] for device in _actors(server)}
    assert replaced[victim["worker"]] != victim["pid"]


def test_a_prompt_that_kills_its_actor_each_time_fails_at_the_attempt_limit(server):
    deadly = counting_workflow(seed=70)
    deadly["nodes"]["die"] = {"type": "servertest.die", "inputs": {"tally": {"node": "count", "output": "tally"}}}
    deadly["nodes"]["save"]["inputs"]["tally"] = {"node": "die", "output": "tally"}
    killer = server.queue(deadly)
    healthy = server.queue(counting_workflow(seed=71))
    history = _history(server, [killer, healthy])
    assert history[healthy]["status"]["status_str"] == "success"
    entry = history[killer]
    assert entry["status"]["status_str"] == "error" and entry["meta"]["attempts"] == 2
    [(kind, error)] = [m for m in entry["status"]["messages"] if m[0] == "execution_error"]
    assert error["exception_type"] == "WorkerLost"
    assert "not retried" in error["exception_message"] and "at each of its 2 attempts" in error["exception_message"]
    _actors(server)  # both replaced, both answer


def test_the_head_killed_with_sigkill_runs_its_pending_prompts_after_a_restart(tmp_path):
    root = tmp_path / "head"
    first = _ray_server(root, "--ray-workers", "1")
    first.start()
    _actors(first, 1)
    ids = [first.queue(counting_workflow(seed=80 + i, steps=10, delay=0.1)) for i in range(3)]
    _running_actor(first)
    first.kill(signal.SIGKILL)
    with _ray_server(root, "--ray-workers", "1") as second:
        history = _history(second, ids)
    assert [history[i]["status"]["status_str"] for i in ids] == ["success"] * 3
    stopped = second.output()  # a SIGTERM drains the workers before Ray and the queue close
    assert "Traceback" not in stopped and "SIGTERM received" not in stopped
