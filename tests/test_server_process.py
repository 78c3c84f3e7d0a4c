"""A real `nodeflow serve` process on a free loopback port, driven over HTTP and WebSocket."""

from __future__ import annotations

import http.client
import re
import signal
import threading
import time
import uuid

import pytest

from tests.server_support import ServerProcess, comfy_workflow, counting_workflow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess(tmp_path_factory.mktemp("served"), "--max-body-mb", "0.05") as running:
        yield running


def _history(server, prompt_id):
    status, history = server.get(f"/history/{prompt_id}")
    assert status == 200
    return history[prompt_id]


def test_round_trip_streams_progress_and_serves_the_png_from_history(server):
    watcher = server.watch("round-trip")
    prompt_id = server.queue(counting_workflow(seed=11, steps=3), client_id="round-trip")
    watcher.until_done(prompt_id)
    assert [p["value"] for p in watcher.of("progress", prompt_id)] == [1, 2, 3]
    [executed] = watcher.of("executed", prompt_id)
    [image] = executed["output"]["images"]
    status, png = server.get(f"/view?filename={image['filename']}&subfolder=&type=output")
    assert status == 200 and png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png == (server.root / "output" / image["filename"]).read_bytes()
    assert _history(server, prompt_id)["outputs"]["save"]["images"] == [image]
    watcher.close()


def test_comfy_api_format_round_trip(server):
    watcher = server.watch("comfy")
    prompt_id = server.queue(comfy_workflow(seed=12, steps=2), client_id="comfy")
    watcher.until_done(prompt_id)
    [image] = watcher.of("executed", prompt_id)[0]["output"]["images"]
    assert image["filename"].startswith("test_12002_")
    assert _history(server, prompt_id)["status"]["status_str"] == "success"
    watcher.close()


def test_validation_errors_come_back_per_node(server):
    workflow = counting_workflow()
    workflow["nodes"]["count"]["inputs"]["steps"] = "many"
    status, reply = server.post("/prompt", {"prompt": workflow})
    assert status == 400
    assert [(e["input"], e["code"]) for e in reply["node_errors"]["count"]["errors"]] == [("steps", "invalid_value")]


def test_failing_node_leaves_the_server_working_and_caches_nothing_of_it(server):
    watcher = server.watch("failing")
    failed = server.queue(counting_workflow(seed=13, fail=True), client_id="failing")
    retried = server.queue(counting_workflow(seed=13, fail=True), client_id="failing")
    healthy = server.queue(counting_workflow(seed=14), client_id="failing")
    watcher.until_done(failed, retried, healthy)
    [error] = watcher.of("execution_error", failed)
    assert (error["node_id"], error["node_type"], error["exception_message"]) == ("fail", "servertest.fail", "boom")
    assert watcher.of("execution_cached", retried)[0]["nodes"] == ["count"]
    assert [e["node_id"] for e in watcher.of("execution_error", retried)] == ["fail"]
    assert watcher.of("execution_success", healthy)
    watcher.close()


def test_interrupt_stops_a_prompt_mid_run_and_the_next_one_runs(server):
    watcher = server.watch("interrupt")
    slow = server.queue(counting_workflow(seed=15, steps=2000, delay=0.01), client_id="interrupt")
    after = server.queue(counting_workflow(seed=16), client_id="interrupt")
    watcher.wait_for("progress", slow)
    assert server.post("/interrupt", {})[1] == {"interrupted": True}
    watcher.until_done(slow, after)
    [stopped] = watcher.of("execution_interrupted", slow)
    assert stopped["node_id"] == "count"
    assert len(watcher.of("progress", slow)) < 2000
    assert _history(server, slow)["status"]["status_str"] == "error"
    assert watcher.of("execution_success", after)
    watcher.close()


@pytest.mark.parametrize("path, expected", [
    ("/view?filename=..%2F..%2F..%2Fetc%2Fpasswd&type=output", 403),
    ("/view?filename=passwd&subfolder=%2Fetc&type=output", 403),
    ("/view?filename=a%00.png&type=output", 403),
    ("/view?filename=passwd&subfolder=..%2F..&type=input", 403),
    ("/../../../etc/passwd", 404),
    ("/%2e%2e/%2e%2e/%2e%2e/etc/passwd", 404),
    ("/workflows/..%2F..%2Fetc%2Fpasswd", 400),
])
def test_path_traversal_attempts_are_refused(server, path, expected):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", path)  # sent as written: no client-side normalisation
    response = connection.getresponse()
    body = response.read()
    assert response.status == expected and b"root:" not in body


def test_oversized_body_is_refused_and_nothing_is_queued(server):
    workflow = counting_workflow(seed=17)
    workflow["meta"] = {"padding": "x" * 100_000}
    status, _ = server.post("/prompt", {"prompt": workflow})
    assert status == 413
    assert server.get("/queue")[1] == {"queue_running": [], "queue_pending": []}


def test_twenty_clients_queue_a_hundred_prompts_each_completed_exactly_once(server):
    results: dict[str, list[str]] = {}
    ends: dict[str, list[str]] = {}
    failures: list[BaseException] = []

    def client(index: int) -> None:
        try:
            sid = f"load-{index}-{uuid.uuid4().hex[:6]}"
            watcher = server.watch(sid)
            ids = [server.queue(counting_workflow(seed=1000 + index * 10 + j, steps=1), client_id=sid) for j in range(5)]
            watcher.until_done(*ids, timeout=60)
            results[sid] = ids
            ends[sid] = [m["prompt_id"] for m in watcher.of("executing") if m["node"] is None]
            watcher.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not failures, failures
    all_ids = [i for ids in results.values() for i in ids]
    assert len(all_ids) == len(set(all_ids)) == 100
    for sid, ids in results.items():
        assert sorted(ends[sid]) == sorted(ids)  # each end seen once, by the client that queued it
    _, history = server.get("/history")
    assert all(history[i]["status"]["status_str"] == "success" for i in all_ids)
    files = {history[i]["outputs"]["save"]["images"][0]["filename"] for i in all_ids}
    assert len(files) == 100 and all((server.root / "output" / f).is_file() for f in files)


def test_pending_prompts_survive_kill_9_and_run_after_restart(tmp_path):
    first = ServerProcess(tmp_path)
    first.start()
    watcher = first.watch("restart")
    slow = first.queue(counting_workflow(seed=21, steps=100, delay=0.01), client_id="restart")
    quick = [first.queue(counting_workflow(seed=22 + i), client_id="restart") for i in range(3)]
    watcher.wait_for("progress", slow)
    first.kill()  # SIGKILL: no chance to tidy up
    watcher.close()

    second = ServerProcess(tmp_path)  # same folders and queue file
    second.start()
    try:
        deadline = time.monotonic() + 30
        wanted = [slow, *quick]
        while time.monotonic() < deadline:
            history = second.get("/history")[1]
            if all(i in history for i in wanted):
                break
            time.sleep(0.1)
        assert [history[i]["status"]["status_str"] for i in wanted] == ["success"] * 4
        assert second.get("/queue")[1] == {"queue_running": [], "queue_pending": []}
    finally:
        second.kill()


def test_listening_on_all_interfaces_without_a_token_prints_a_loud_warning(tmp_path):
    exposed = ServerProcess(tmp_path, "--host", "0.0.0.0")
    exposed.start()
    exposed.kill()
    output = exposed.output()
    assert "WARNING" in output and "WITHOUT a token" in output and "--token" in output


def test_with_a_token_every_request_needs_it(tmp_path):
    guarded = ServerProcess(tmp_path, "--host", "0.0.0.0", "--token", "t0ken")
    guarded.start()
    try:
        assert guarded.get("/queue")[0] == 401
        assert guarded.get("/queue", headers={"Authorization": "Bearer t0ken"})[0] == 200
        assert guarded.post("/prompt", {"prompt": counting_workflow()})[0] == 401
    finally:
        guarded.kill()
    assert "WARNING" not in guarded.output()


def test_prompt_cut_short_by_a_graceful_stop_runs_again_after_restart(tmp_path):
    first = ServerProcess(tmp_path)
    first.start()
    watcher = first.watch("graceful")
    slow = first.queue(counting_workflow(seed=31, steps=100, delay=0.01), client_id="graceful")
    watcher.wait_for("progress", slow)
    first.kill(signal.SIGTERM)
    watcher.close()

    second = ServerProcess(tmp_path)
    second.start()
    try:
        deadline = time.monotonic() + 30
        while slow not in (history := second.get("/history")[1]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert history[slow]["status"]["status_str"] == "success"
        assert len(second.get("/history")[1]) == 1  # it was not also recorded as interrupted
    finally:
        second.kill()


def test_the_log_has_a_line_when_a_prompt_is_queued_and_one_when_it_ends(tmp_path):
    with ServerProcess(tmp_path) as server:
        watcher = server.watch("log")
        prompt_id = server.queue({**counting_workflow(), "meta": {"title": "Counting"}}, client_id="log")
        watcher.until_done(prompt_id)
        watcher.close()
    assert f"got prompt {prompt_id} (Counting)" in server.output()
    assert re.search(rf"prompt {prompt_id} \(Counting\) ended in \d+\.\d\d s: success", server.output())
