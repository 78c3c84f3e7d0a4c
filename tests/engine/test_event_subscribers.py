"""A subscriber that raises is the subscriber's problem: it is logged, and the run goes on as if it had not."""

import logging

from nodeflow import Workflow
from nodeflow.events import NodeFinished


def link(node, output):
    return {"node": node, "output": output}


def chain_workflow():
    return Workflow.from_dict({"nodeflow": 1, "nodes": {
        "a": {"type": "math.add", "inputs": {"x": 1, "y": 2}},
        "b": {"type": "math.scale", "inputs": {"value": link("a", "int")}},
        "s": {"type": "io.show", "inputs": {"value": link("b", "scaled")}},
    }})


def broken_listener(event):
    if isinstance(event, NodeFinished):
        raise RuntimeError("listener bug")


def test_a_raising_subscriber_does_not_fail_the_node_or_skip_its_descendants(executor):
    report = executor.run(chain_workflow(), on_event=broken_listener)
    assert report.ok, report.failures
    assert report.executed == ["a", "b", "s"] and report.skipped == []
    assert report.ui["s"] == {"values": [6.0]}


def test_a_raising_subscriber_is_logged_with_its_name(executor, caplog):
    executor.subscribe(broken_listener)
    with caplog.at_level(logging.ERROR, logger="nodeflow.executor"):
        executor.run(chain_workflow())
    logged = [r for r in caplog.records if "broken_listener" in r.getMessage()]
    assert len(logged) == 3, "one line per event it failed on"
    assert "listener bug" in logged[0].exc_text
