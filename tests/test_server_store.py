"""The SQLite queue store on its own: order, persistence across reopen, recovery, history bounds."""

from __future__ import annotations

from nodeflow.server.store import QueueStore


def _add(store: QueueStore, prompt_id: str, front: bool = False) -> int:
    return store.add(prompt_id, {"nodeflow": 1, "nodes": {}}, {"as": "sent"}, "client", {"x": 1}, ["save"], front)


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
    assert entry["prompt"] == [1, "done", {"as": "sent"}, {"x": 1}, ["save"]]
    assert entry["status"]["status_str"] == "success" and entry["outputs"] == {"save": {"images": []}}


def test_history_keeps_only_the_newest_entries(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3", max_history=3)
    for index in range(5):
        _add(store, f"p{index}")
        store.claim("w")
        store.finish(f"p{index}", "success", {}, [])
    assert list(store.history()) == ["p2", "p3", "p4"]
    assert list(store.history(max_items=2)) == ["p3", "p4"]
