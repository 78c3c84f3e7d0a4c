"""The first call of each node type, where a node imports its libraries, takes turns across the executors that
share a registry (the server's workers); once a type has completed a call, its calls run side by side."""

from __future__ import annotations

import threading

import pytest

from nodeflow import Context, Executor, Graph, Registry, RunReport, node

WAIT = 5.0


class Gate:
    """Holds `gate.hold` nodes inside their call until opened; records which calls entered."""

    def __init__(self) -> None:
        self.entered: list[str] = []
        self.holding = threading.Event()
        self.open = threading.Event()


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def registry(gate: Gate) -> Registry:
    @node("gate.hold", category="test", output_node=True)
    def hold() -> None:
        gate.entered.append("gate.hold")
        gate.holding.set()
        assert gate.open.wait(WAIT)

    @node("gate.pass", category="test", output_node=True)
    def pass_() -> None:
        gate.entered.append("gate.pass")

    return Registry([hold, pass_])


def start(registry: Registry, type_id: str, executor: Executor | None = None) -> tuple[threading.Thread, dict]:
    """Run a one-node workflow on its own executor (a worker) in a thread."""
    graph = Graph(registry)
    graph.add(type_id)
    executor = executor or Executor(registry, device="cpu")
    result: dict[str, RunReport] = {}
    thread = threading.Thread(target=lambda: result.update(report=executor.run(graph.workflow)))
    thread.start()
    return thread, result


def test_a_first_call_waits_for_another_types_first_call_to_end(registry, gate):
    holder, _ = start(registry, "gate.hold")
    assert gate.holding.wait(WAIT)
    passer, passed = start(registry, "gate.pass")
    passer.join(0.3)
    assert gate.entered == ["gate.hold"], "gate.pass ran its first call beside gate.hold's"
    gate.open.set()
    holder.join(WAIT)
    passer.join(WAIT)
    assert gate.entered == ["gate.hold", "gate.pass"] and passed["report"].ok


def test_calls_of_a_type_that_completed_one_run_side_by_side(registry, gate):
    gate.open.set()
    for type_id in ("gate.hold", "gate.pass"):
        thread, _ = start(registry, type_id)
        thread.join(WAIT)
    gate.open.clear()
    holder, _ = start(registry, "gate.hold")
    assert gate.holding.wait(WAIT)
    passer, passed = start(registry, "gate.pass")
    passer.join(WAIT)
    assert passed["report"].ok, "gate.pass ran while gate.hold was still in its call"
    gate.open.set()
    holder.join(WAIT)


def test_a_run_waiting_for_its_turn_can_be_interrupted(registry, gate):
    holder, _ = start(registry, "gate.hold")
    assert gate.holding.wait(WAIT)
    waiting = Executor(registry, device="cpu")
    passer, passed = start(registry, "gate.pass", waiting)
    passer.join(0.2)
    waiting.interrupt()
    passer.join(WAIT)
    assert not passer.is_alive() and passed["report"].interrupted
    gate.open.set()
    holder.join(WAIT)
