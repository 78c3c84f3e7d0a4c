"""An interrupt stops a model's forward pass at its next block, not at the end of the node's step."""

from __future__ import annotations

import threading

import torch

from nodeflow import Context, Executor, Graph, ModelHandle, Registry, node


class Net(ModelHandle):
    """A handle on a stack of blocks."""


class Block(torch.nn.Module):
    """Records that it ran; the block given `pause` waits there until told to go on."""

    def __init__(self, index: int, ran: list[int], pause: tuple[threading.Event, threading.Event] | None) -> None:
        super().__init__()
        self.index, self.ran, self.pause = index, ran, pause
        self.linear = torch.nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.ran.append(self.index)
        if self.pause is not None:
            reached, resume = self.pause
            reached.set()
            assert resume.wait(5)
        return self.linear(x)


def stack_registry(net: Net) -> Registry:
    @node("stack.load", category="test", output="net")
    def load() -> Net:
        return net

    @node("stack.forward", category="test", output_node=True)
    def forward(ctx: Context, net: Net) -> None:
        with ctx.models.use(net) as module:
            module(torch.zeros(1, 2))

    return Registry([load, forward])


def test_interrupt_during_a_forward_pass_stops_it_before_the_next_block_and_removes_the_hooks():
    ran: list[int] = []
    reached, resume = threading.Event(), threading.Event()
    net = Net(torch.nn.Sequential(*(Block(i, ran, (reached, resume) if i == 1 else None) for i in range(4))))
    graph = Graph(stack_registry(net))
    graph.add("stack.forward", id="forward", net=graph.add("stack.load", id="load"))
    executor = Executor(graph.registry, device="cpu")
    result = {}
    thread = threading.Thread(target=lambda: result.update(report=graph.run(executor=executor)))
    thread.start()
    assert reached.wait(5)
    executor.interrupt()
    resume.set()
    thread.join(5)
    report = result["report"]
    assert report.interrupted and report.executed == ["load"]
    assert ran == [0, 1], "blocks 2 and 3 never ran"
    assert not any(module._forward_pre_hooks for module in net.module.modules())
