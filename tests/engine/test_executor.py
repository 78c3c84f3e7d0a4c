"""The executor runs what outputs need, in order, and re-uses every output whose inputs did not change."""

import threading
import time

from nodeflow import Executor, OutputCache, Workflow
from nodeflow.events import NodeFailed, NodeProgress, NodesCached, NodeStarted, RunFinished, RunInterrupted


def link(node, output):
    return {"node": node, "output": output}


def chain_workflow(x=1, y=2, factor=2.0):
    return Workflow.from_dict({"nodeflow": 1, "nodes": {
        "a": {"type": "math.add", "inputs": {"x": x, "y": y}},
        "b": {"type": "math.scale", "inputs": {"value": link("a", "int"), "factor": factor}},
        "s": {"type": "io.show", "inputs": {"value": link("b", "scaled")}},
        "unused": {"type": "math.add", "inputs": {"x": 5}},
    }, "params": {"y": {"node": "a", "input": "y"}, "factor": {"node": "b", "input": "factor"}}})


def test_runs_only_what_outputs_need_in_order(executor, calls):
    report = executor.run(chain_workflow())
    assert report.executed == ["a", "b", "s"]
    assert calls == ["math.add", "math.scale", "io.show"]
    assert report.ui["s"] == {"values": [6.0]}
    assert report.value("b", "scaled") == 6.0


def test_unchanged_rerun_executes_nothing(executor, calls):
    executor.run(chain_workflow())
    calls.clear()
    report = executor.run(chain_workflow())
    assert report.executed == [] and sorted(report.cached) == ["a", "b", "s"]
    assert calls == []
    assert report.ui["s"] == {"values": [6.0]}


def test_changing_one_literal_reruns_exactly_its_descendants(executor):
    executor.run(chain_workflow())
    report = executor.run(chain_workflow(), params={"factor": 3.0})
    assert report.executed == ["b", "s"] and report.cached == ["a"]
    assert report.value("b", "scaled") == 9.0


def test_changing_the_first_node_reruns_the_chain(executor):
    executor.run(chain_workflow())
    assert executor.run(chain_workflow(), params={"y": 5}).executed == ["a", "b", "s"]


def test_file_fingerprint_change_reruns_the_reader(executor, calls):
    path = executor.folders.input / "words.txt"
    path.write_text("hello")
    workflow = Workflow.from_dict({"nodeflow": 1, "nodes": {
        "r": {"type": "text.read_file", "inputs": {"name": "words.txt"}},
        "s": {"type": "io.show", "inputs": {"value": link("r", "text")}},
    }})
    assert executor.run(workflow).ui["s"] == {"values": ["hello"]}
    assert executor.run(workflow).executed == []
    path.write_text("hello, world")
    report = executor.run(workflow)
    assert report.executed == ["r", "s"]
    assert report.ui["s"] == {"values": ["hello, world"]}


def blob_workflow(tag, nbytes=400):
    return Workflow.from_dict({"nodeflow": 1, "nodes": {
        "b": {"type": "math.blob", "inputs": {"nbytes": nbytes, "tag": tag}},
        "k": {"type": "io.keep_blob", "inputs": {"blob": link("b", "blob")}},
    }})


def test_cache_is_bounded_by_bytes_and_evicts_least_recently_used(registry):
    executor = Executor(registry, cache=OutputCache(max_bytes=1000), device="cpu")
    executor.run(blob_workflow("one"))
    executor.run(blob_workflow("two"))
    executor.run(blob_workflow("one"))  # touch "one": "two" is now least recently used
    executor.run(blob_workflow("three"))
    assert executor.cache.nbytes <= 1000
    assert executor.run(blob_workflow("one"), targets=["b"]).executed == []
    assert executor.run(blob_workflow("two"), targets=["b"]).executed == ["b"]


def test_entry_larger_than_the_budget_is_not_kept(registry):
    executor = Executor(registry, cache=OutputCache(max_bytes=100), device="cpu")
    executor.run(blob_workflow("big", nbytes=5000))
    assert executor.cache.nbytes == 0
    assert executor.run(blob_workflow("big", nbytes=5000), targets=["b"]).executed == ["b"]


def test_evicted_intermediate_is_not_recomputed_when_its_consumers_are_cached(registry):
    executor = Executor(registry, cache=OutputCache(max_bytes=100), device="cpu")
    executor.run(blob_workflow("big", nbytes=5000))
    assert executor.run(blob_workflow("big", nbytes=5000)).executed == []


def test_failing_node_stops_only_its_descendants(executor):
    workflow = Workflow.from_dict({"nodeflow": 1, "nodes": {
        "bad": {"type": "math.fail", "inputs": {"value": 7}},
        "after": {"type": "math.scale", "inputs": {"value": link("bad", "int")}},
        "s1": {"type": "io.show", "inputs": {"value": link("after", "scaled")}},
        "good": {"type": "math.add", "inputs": {"x": 1}},
        "s2": {"type": "io.show", "inputs": {"value": link("good", "int")}},
    }})
    events = []
    report = executor.run(workflow, on_event=events.append)
    assert not report.ok
    [failure] = report.failures
    assert (failure.node_id, failure.node_type, failure.message) == ("bad", "math.fail", "cannot handle 7")
    assert "RuntimeError" in failure.traceback and failure.inputs == {"value": "7"}
    assert sorted(report.skipped) == ["after", "s1"]
    assert sorted(report.executed) == ["good", "s2"]
    assert any(isinstance(e, NodeFailed) for e in events)
    again = executor.run(workflow)
    assert sorted(again.cached) == ["good", "s2"], "independent branch results are cached"
    assert [f.node_id for f in again.failures] == ["bad"], "nothing of the failed node was cached"


def slow_workflow(steps=200):
    return Workflow.from_dict({"nodeflow": 1, "nodes": {
        "c": {"type": "math.count_slowly", "inputs": {"steps": steps, "delay": 0.005}},
        "s": {"type": "io.show", "inputs": {"value": link("c", "count")}},
    }})


def test_interrupt_inside_a_long_node(executor):
    started = threading.Event()

    def on_event(event):
        if isinstance(event, NodeProgress) and event.value == 3:
            started.set()

    result = {}
    thread = threading.Thread(target=lambda: result.update(report=executor.run(slow_workflow(), on_event=on_event)))
    thread.start()
    assert started.wait(5)
    executor.interrupt()
    thread.join(5)
    report = result["report"]
    assert report.interrupted and report.executed == []
    assert executor.run(slow_workflow(steps=3)).executed == ["c", "s"], "the next run is not interrupted"


def test_interrupt_between_nodes(executor):
    def on_event(event):
        if isinstance(event, NodeStarted) and event.node_id == "b":
            executor.interrupt()

    events = []
    report = executor.run(chain_workflow(), on_event=lambda e: (on_event(e), events.append(e)))
    assert report.interrupted
    assert report.executed == ["a", "b"]
    assert [e.node_id for e in events if isinstance(e, RunInterrupted)] == ["s"]


def test_events_tell_cached_nodes_and_progress(executor):
    executor.run(chain_workflow())
    events = []
    executor.subscribe(events.append)
    executor.run(chain_workflow(), params={"factor": 4.0})
    cached = [e for e in events if isinstance(e, NodesCached)]
    assert [e.node_ids for e in cached] == [["a"]], "one NodesCached per run, sent even when empty"
    assert [e.node_id for e in events if isinstance(e, NodeStarted)] == ["b", "s"]
    assert isinstance(events[-1], RunFinished)
    progress = []
    executor.run(slow_workflow(steps=4), on_event=lambda e: isinstance(e, NodeProgress) and progress.append(e.value))
    assert progress == [1, 2, 3, 4]


def test_linked_widget_values_are_validated_at_run_time(executor):
    workflow = Workflow.from_dict({"nodeflow": 1, "nodes": {
        "a": {"type": "math.add", "inputs": {"x": 1000, "y": 1000}},
        "b": {"type": "math.add", "inputs": {"x": 0, "y": link("a", "int")}},
        "s": {"type": "io.show", "inputs": {"value": link("b", "int")}},
    }})
    report = executor.run(workflow)
    [failure] = report.failures
    assert failure.node_id == "b" and "'y'" in failure.message and "1000" in failure.message


def test_slow_node_timing_is_reported(executor):
    report = executor.run(slow_workflow(steps=4))
    assert report.seconds["c"] >= 4 * 0.005
    assert report.total_seconds >= report.seconds["c"]


def test_a_fresh_run_still_announces_its_empty_cached_set(executor):
    events = []
    executor.run(chain_workflow(), on_event=events.append)
    assert [e.node_ids for e in events if isinstance(e, NodesCached)] == [[]]


def test_previews_are_made_only_when_the_run_asks_for_them(executor):
    workflow = Workflow.from_dict({"nodeflow": 1, "nodes": {
        "w": {"type": "math.watched", "inputs": {"steps": 2}},
        "s": {"type": "io.show", "inputs": {"value": link("w", "count")}},
    }})
    for previews, expected in ((False, [None, None]), (True, [1, 2])):
        executor.cache.clear()
        seen = []
        executor.run(workflow, previews=previews,
                     on_event=lambda e: isinstance(e, NodeProgress) and seen.append(e.preview))
        assert seen == expected
