"""Which pending prompt a worker claims: first the oldest whose models it holds, else the first in the queue, and
the first in the queue once it has waited past the affinity bound."""

from __future__ import annotations

import sqlite3
import time

from nodeflow.server.store import QueueStore

LONG_WAIT = 60.0  # an affinity bound no test reaches


def _add(store: QueueStore, prompt_id: str, recipes: list[str] | None) -> None:
    store.add(prompt_id, {"nodeflow": 1, "nodes": {}}, {}, None, {}, [], recipes=recipes)


def _claimed(store: QueueStore, held: set[str], affinity_wait: float = LONG_WAIT) -> list[str]:
    """The ids claimed one after the other until the queue is empty."""
    order = []
    while (prompt := store.claim("w", frozenset(held), affinity_wait)) is not None:
        order.append(prompt.id)
    return order


def test_a_worker_takes_first_the_prompts_whose_models_it_holds_oldest_first(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    for prompt_id, recipes in [("b1", ["B"]), ("a1", ["A"]), ("b2", ["B"]), ("a2", ["A"])]:
        _add(store, prompt_id, recipes)
    assert _claimed(store, {"A"}) == ["a1", "a2", "b1", "b2"]


def test_a_prompt_whose_models_are_held_only_in_part_keeps_its_place(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    for prompt_id, recipes in [("b", ["B"]), ("a_and_c", ["A", "C"]), ("a", ["A"])]:
        _add(store, prompt_id, recipes)
    assert _claimed(store, {"A"}) == ["a", "b", "a_and_c"]


def test_a_prompt_that_loads_no_model_fits_every_worker(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    _add(store, "b", ["B"])
    _add(store, "no_model", [])
    assert _claimed(store, {"A"}) == ["no_model", "b"]


def test_a_worker_that_holds_no_model_takes_the_queue_in_order(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    for prompt_id, recipes in [("b", ["B"]), ("no_model", []), ("a", ["A"])]:
        _add(store, prompt_id, recipes)
    assert _claimed(store, set()) == ["b", "no_model", "a"]


def test_an_affinity_wait_of_zero_is_first_come_order(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    for prompt_id, recipes in [("b", ["B"]), ("a", ["A"])]:
        _add(store, prompt_id, recipes)
    assert _claimed(store, {"A"}, affinity_wait=0.0) == ["b", "a"]


def test_the_first_prompt_is_taken_once_it_has_waited_past_the_bound(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    _add(store, "c", ["C"])
    _add(store, "a1", ["A"])
    assert store.claim("w", frozenset({"A"}), affinity_wait=1.0).id == "a1"
    time.sleep(1.05)
    _add(store, "a2", ["A"])  # affine prompts keep arriving
    assert store.claim("w", frozenset({"A"}), affinity_wait=1.0).id == "c"


def test_rows_queued_before_recipes_were_kept_wait_behind_affine_prompts_only(tmp_path):
    path = tmp_path / "q.sqlite3"
    QueueStore(path).close()
    old = sqlite3.connect(path)
    old.execute("ALTER TABLE prompts DROP COLUMN recipes")  # the queue file as an older version wrote it
    old.execute("INSERT INTO prompts (id, number, state, workflow, original, created)"
                " VALUES ('old', 1, 'pending', '{}', '{}', ?)", (time.time(),))
    old.commit()
    old.close()
    store = QueueStore(path)
    _add(store, "a", ["A"])
    _add(store, "b", ["B"])
    assert _claimed(store, {"A"}) == ["a", "old", "b"]


def _add_keyed(store: QueueStore, prompt_id: str, key: str | None) -> None:
    store.add(prompt_id, {"nodeflow": 1, "nodes": {}}, {}, None, {}, [], batch_key=key)


def test_a_batch_claim_takes_the_pending_prompts_of_the_first_ones_key_oldest_first(tmp_path):
    store = QueueStore(tmp_path / "q.sqlite3")
    for prompt_id, key in [("a1", "A"), ("b1", "B"), ("a2", "A"), ("a3", "A"), ("a4", "A"), ("n1", None),
                           ("n2", None)]:
        _add_keyed(store, prompt_id, key)
    assert [p.id for p in store.claim_batch("w", max_batch=3)] == ["a1", "a2", "a3"]
    assert [p.id for p in store.in_state("running")] == ["a1", "a2", "a3"]  # /queue shows them running
    assert [p.id for p in store.claim_batch("w", max_batch=3)] == ["b1"]
    assert [p.id for p in store.claim_batch("w", max_batch=3)] == ["a4"]
    assert [p.id for p in store.claim_batch("w", max_batch=3)] == ["n1"]  # no key: alone
    assert [p.id for p in store.claim_batch("w")] == ["n2"] and store.claim_batch("w") == []
