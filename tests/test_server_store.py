"""The SQLite queue store on its own: order, persistence across reopen, recovery, history bounds."""

from __future__ import annotations

from nodeflow.server.store import QueueStore


COMFY_PROMPT = {"1": {"class_type": "servertest.count", "inputs": {"seed": 1}}}


def _add(store: QueueStore, prompt_id: str, front: bool = False) -> int:
    return store.add(prompt_id, {"nodeflow": 1, "nodes": {}}, COMFY_PROMPT, "client", {"x": 1}, ["save"], front)


def test_prompts_are_claimed_in_order_with_front_first(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    for name in ("a", "b"):
        _add(store, name)
    _add(store, "urgent", front=True)
    claimed = [store.claim("w").id for _ in range(3)]
    assert claimed == ["urgent", "a", "b"] and store.claim("w") is None
    assert store.remaining() == 3  # claimed prompts are running until finished


def test_reopening_keeps_pending_and_history_and_requeues_running(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    for name in ("done", "running", "pending"):
        _add(store, name)
    store.claim("w")
    store.finish("done", "success", {"save": {"images": []}}, [["execution_success", {}]])
    store.claim("w")
    # no close(): as after kill -9
    reopened = QueueStore(tmp_path / "q.sqlite3")
    assert reopened.recovered == 1
    assert [p.id for p in reopened.in_state("pending")] == ["running", "pending"]
    entry = reopened.history()["done"]
    assert entry["prompt"] == [1, "done", COMFY_PROMPT, {"x": 1}, ["save"]]
    assert entry["status"]["status_str"] == "success" and entry["outputs"] == {"save": {"images": []}}


def test_history_keeps_only_the_newest_entries(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3", max_history=3)
    for index in range(5):
        _add(store, f"p{index}")
        store.claim("w")
        store.finish(f"p{index}", "success", {}, [])
    assert list(store.history()) == ["p2", "p3", "p4"]
    assert list(store.history(max_items=2)) == ["p3", "p4"]


def _add_with_seed_param(store: QueueStore, prompt_id: str, sent_seed: int, run_seed: int) -> None:
    """A format-1 prompt as the server stores it (and always has): as sent, and as run with the params applied."""
    def workflow(seed: int) -> dict:
        return {"nodeflow": 1, "nodes": {"count": {"type": "servertest.count", "inputs": {"seed": seed}}},
                "params": {"seed": {"node": "count", "input": "seed"}}}

    store.add(prompt_id, workflow(run_seed), workflow(sent_seed), None, {}, ["count"])


def test_queue_entries_of_format_1_prompts_show_the_workflow_as_run(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    _add_with_seed_param(store, "p", sent_seed=0, run_seed=7)
    [pending] = store.in_state("pending")
    assert pending.queue_entry()[2]["nodes"]["count"]["inputs"]["seed"] == 7


def test_history_written_before_keeps_showing_what_ran(tmp_path):
    _add_with_seed_param(QueueStore(tmp_path / "q.sqlite3"), "old", sent_seed=0, run_seed=7)
    store = QueueStore(tmp_path / "q.sqlite3")
    store.claim("w")
    store.finish("old", "success", {}, [])
    assert store.history()["old"]["prompt"][2]["nodes"]["count"]["inputs"]["seed"] == 7
