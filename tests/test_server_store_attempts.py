"""The queue store's claim is atomic, and a prompt that keeps taking the server (or its worker's process) down is
not retried forever."""

from __future__ import annotations

import sqlite3
import threading
import time

from nodeflow import Folders, Registry, node
from nodeflow.server.store import QueueStore
from nodeflow.server.worker import NoListeners, Outcome, Worker, WorkerLost


def _add(store: QueueStore, prompt_id: str) -> None:
    store.add(prompt_id, {"nodeflow": 1, "nodes": {}}, {"as": "sent"}, "client", {}, ["save"])


def _crash_while_running(path, prompt_id: str, times: int, max_attempts: int = 3) -> QueueStore:
    """Claim `prompt_id` and reopen the store without finishing it (as after kill -9), `times` times."""
    store = QueueStore(path, max_attempts=max_attempts)
    for _ in range(times):
        assert store.claim("w").id == prompt_id
        store = QueueStore(path, max_attempts=max_attempts)  # no close(): as after kill -9
    return store


def test_connections_claiming_at_once_take_each_prompt_exactly_once(tmp_path):
    path = tmp_path / "q.sqlite3"
    stores = [QueueStore(path) for _ in range(6)]
    ids = [f"p{i}" for i in range(300)]
    for prompt_id in ids:
        _add(stores[0], prompt_id)
    claimed: list[str] = []
    start = threading.Barrier(len(stores))

    def claim_all(store: QueueStore) -> None:
        start.wait()
        while (prompt := store.claim("w")) is not None:
            claimed.append(prompt.id)

    threads = [threading.Thread(target=claim_all, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(claimed) == sorted(ids)


def test_each_claim_counts_an_attempt(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    _add(store, "p")
    assert store.claim("w").attempts == 1
    store = QueueStore(tmp_path / "q.sqlite3")  # no close(): as after kill -9
    assert store.claim("w").attempts == 2


def test_prompt_left_running_fewer_than_max_attempts_times_goes_back_to_the_queue(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    _add(store, "p")
    store = _crash_while_running(tmp_path / "q.sqlite3", "p", times=2)
    assert store.recovered == 1 and [p.id for p in store.in_state("pending")] == ["p"]


def test_prompt_left_running_max_attempts_times_is_marked_failed_and_the_rest_of_the_queue_stays(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    _add(store, "poison")
    _add(store, "next")
    store = _crash_while_running(tmp_path / "q.sqlite3", "poison", times=3)
    assert [p.id for p in store.in_state("pending")] == ["next"]
    entry = store.history()["poison"]
    assert entry["status"]["status_str"] == "error" and entry["status"]["completed"] is False
    [[kind, error]] = entry["status"]["messages"]
    assert kind == "execution_error" and error["prompt_id"] == "poison"
    assert "running when the server stopped 3 times" in error["exception_message"]
    assert "not retried" in error["exception_message"]


def test_max_attempts_is_a_store_setting(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3", max_attempts=1)
    _add(store, "p")
    store = _crash_while_running(tmp_path / "q.sqlite3", "p", times=1, max_attempts=1)
    assert store.in_state("pending") == [] and "p" in store.history()


def test_release_after_a_graceful_stop_does_not_count_as_an_attempt(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3", max_attempts=2)
    _add(store, "p")
    for _ in range(5):
        store.claim("w")
        store.release("p")
        store = QueueStore(tmp_path / "q.sqlite3", max_attempts=2)
    assert store.claim("w").attempts == 1


def test_a_queue_written_before_attempts_were_counted_is_migrated(tmp_path):
    path = tmp_path / "q.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE prompts (id TEXT PRIMARY KEY, number INTEGER NOT NULL, state TEXT NOT NULL,"
        " workflow TEXT NOT NULL, original TEXT NOT NULL, client_id TEXT, extra TEXT NOT NULL DEFAULT '{}',"
        " output_nodes TEXT NOT NULL DEFAULT '[]', created REAL NOT NULL, started REAL, finished REAL,"
        " worker TEXT, status TEXT, outputs TEXT, messages TEXT)"
    )
    old.execute("INSERT INTO prompts (id, number, state, workflow, original, created)"
                " VALUES ('old', 1, 'running', '{}', '{}', 0)")
    old.commit()
    old.close()
    store = QueueStore(path)
    assert store.recovered == 1
    assert store.claim("w").attempts == 1


def test_prompt_still_running_when_a_graceful_stop_gives_up_waiting_is_released_without_counting(tmp_path):
    started, unblock = threading.Event(), threading.Event()

    @node("stuck.step", category="test", output_node=True)
    def stuck() -> None:
        started.set()
        unblock.wait(10)  # a long step that never checks for interrupts
        raise RuntimeError("cut short")

    store = QueueStore(tmp_path / "q.sqlite3", max_attempts=1)
    workflow = {"nodeflow": 1, "nodes": {"s": {"type": "stuck.step", "inputs": {}}}}
    store.add("p", workflow, workflow, None, {}, ["s"])
    worker = Worker.local("0", Registry([stuck]), "cpu", Folders(output=tmp_path), store, NoListeners())
    worker.start()
    assert started.wait(10)
    worker.stop(timeout=0.05)
    assert store.state_of("p") == "pending"
    unblock.set()
    worker.join(10)
    assert QueueStore(tmp_path / "q.sqlite3", max_attempts=1).claim("w").attempts == 1


class _ScriptedRunner:
    """A runner whose runs end as `script` says, in turn: an exception to raise, or a status."""

    max_batch = 1

    def __init__(self, *script: Exception | str) -> None:
        self.script = list(script)

    def run_batch(self, prompts, channels, previews=False) -> list[Outcome]:
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return [Outcome(step)]

    def interrupt(self, prompt_id=None) -> bool:
        return False

    def free(self, models, outputs) -> None:
        pass

    def ready(self) -> bool:
        return True

    def held_recipes(self) -> list[str]:
        return []

    def stats(self) -> dict:
        return {"device": "scripted"}

    def model_stats(self) -> dict:
        return {}


def _run_queue(tmp_path, runner: _ScriptedRunner, prompts: int, max_attempts: int = 3) -> dict:
    """Queue `prompts` prompts, let one worker with `runner` run them all, and return the history."""
    store = QueueStore(tmp_path / "q.sqlite3", max_attempts=max_attempts)
    workflow = {"nodeflow": 1, "nodes": {}}
    for number in range(prompts):
        store.add(f"p{number}", workflow, workflow, None, {}, [])
    worker = Worker("0", lambda: runner, store, NoListeners())
    worker.start()
    deadline = time.monotonic() + 10
    while store.remaining() and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop(timeout=5)
    return store.history()


def test_a_runner_that_raises_ends_its_prompt_failed_and_the_worker_goes_on(tmp_path):
    history = _run_queue(tmp_path, _ScriptedRunner(RuntimeError("lost the stream"), "success"), prompts=2)
    assert [history[p]["status"]["status_str"] for p in ("p0", "p1")] == ["error", "success"]
    [[kind, error]] = history["p0"]["status"]["messages"]
    assert kind == "execution_error" and error["exception_message"] == "the worker 0 failed: lost the stream"


def test_a_prompt_whose_worker_process_died_runs_again_with_its_attempt_counted(tmp_path):
    history = _run_queue(tmp_path, _ScriptedRunner(WorkerLost("SIGKILL"), "success"), prompts=1)
    assert history["p0"]["status"]["status_str"] == "success" and history["p0"]["meta"]["attempts"] == 2


def test_a_prompt_whose_worker_died_at_each_attempt_fails_saying_why(tmp_path):
    history = _run_queue(tmp_path, _ScriptedRunner(WorkerLost("SIGKILL"), WorkerLost("SIGKILL"), "success"),
                         prompts=2, max_attempts=2)
    assert history["p0"]["meta"]["attempts"] == 2 and history["p1"]["status"]["status_str"] == "success"
    [[kind, error]] = history["p0"]["status"]["messages"]
    assert (kind, error["exception_type"]) == ("execution_error", "WorkerLost")
    assert error["exception_message"].startswith("not retried: the worker 0 running it died (SIGKILL), at each of "
                                                 "its 2 attempts")
