"""A worker asks nodes for previews only while a client is watching them."""

from nodeflow import Context, Folders, Limits, Registry, node
from nodeflow.server.store import QueuedPrompt
from nodeflow.server.worker import Channel, PromptRunner


@node("watch.count", category="test", output="count")
def count(ctx: Context, steps: int = 2) -> int:
    for step in range(steps):
        ctx.progress(step + 1, steps, preview=b"frame" if ctx.wants_previews else None)
    return steps


@node("watch.sink", category="test", output_node=True)
def sink(count: int) -> None:
    pass


WORKFLOW = {"nodeflow": 1, "nodes": {"c": {"type": "watch.count", "inputs": {"steps": 2}},
                                     "s": {"type": "watch.sink", "inputs": {"count": {"node": "c", "output": "count"}}}}}


def run(tmp_path, previews: bool) -> list:
    runner = PromptRunner(Registry([count, sink]), "cpu", Folders(output=tmp_path))
    frames: list = []
    prompt = QueuedPrompt(f"p{previews}", 1, WORKFLOW, WORKFLOW, None, {}, ["s"])
    [outcome] = runner.run_batch([prompt], [Channel(lambda message: None, frames.append)], previews)
    assert outcome.status == "success"
    return frames


def test_previews_are_made_only_for_watching_clients(tmp_path):
    assert run(tmp_path, previews=False) == []
    assert run(tmp_path, previews=True) == [b"frame", b"frame"]


def test_runner_validates_prompts_against_its_limits(tmp_path):
    runner = PromptRunner(Registry([count, sink]), "cpu", Folders(output=tmp_path), Limits(max_nodes=1))
    [outcome] = runner.run_batch([QueuedPrompt("p", 1, WORKFLOW, WORKFLOW, None, {}, ["s"])],
                                 [Channel(lambda message: None, print)])
    [[kind, error]] = outcome.messages
    assert outcome.status == "error" and kind == "execution_error" and "too_many_nodes" in error["exception_message"]
