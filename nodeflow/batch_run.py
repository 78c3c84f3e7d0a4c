"""Several runs of one plan, walking their steps together, so that a batch node runs once for all of them.

At each step, runs whose node has the same cache key share one execution (the
others take its outputs, as from the cache). Runs whose keys differ run the
node each on their own, unless it is declared `batch=True` and they differ only
in linked values that stack (`nodeflow.batching`): then it runs once on the
stacked values and each run records its own part, under its own cache key,
with its own events. A batched call that fails is run again per run, so that a
failure stays with the prompt that caused it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .batching import stack, unstack
from .context import Interrupted
from .events import NodeStarted
from .plan import Step
from .report import RunReport
from .run import Run

log = logging.getLogger("nodeflow.executor")


def same_plan(runs: list[Run]) -> bool:
    """Whether the runs have the same steps, node for node (then they can walk them together)."""
    first = [(step.node_id, step.definition.type_id, step.links) for step in runs[0].plan.steps]
    return all([(s.node_id, s.definition.type_id, s.links) for s in run.plan.steps] == first for run in runs[1:])


class BatchRun:
    def __init__(self, runs: list[Run]) -> None:
        self.runs = runs

    def execute(self, keys: list[dict[str, str] | None]) -> list[RunReport]:
        started = time.perf_counter()
        walking = [run for run, run_keys in zip(self.runs, keys) if run.begin(run_keys)]
        for index, first in enumerate(self.runs[0].plan.steps):
            due = [run for run in walking if not run.stopped and run.due(run.plan.steps[index])]
            groups: dict[str, list[Run]] = {}
            for run in due:
                groups.setdefault(run.keys[first.node_id], []).append(run)
            leaders = [group[0] for group in groups.values()]
            if len(leaders) > 1 and first.definition.batch:
                self.batched(index, leaders)
            else:
                for run in leaders:
                    run.attempt(run.plan.steps[index])
            for leader, *followers in groups.values():
                for run in followers:
                    self.follow(run.plan.steps[index], leader, run)
        return [run.finish(started) for run in self.runs]

    @staticmethod
    def follow(step: Step, leader: Run, run: Run) -> None:
        """`run` has the same key as `leader` at `step`: it takes the leader's outputs, or runs the step itself
        when the leader's failed (and fails in its own name)."""
        outputs = leader.report.outputs.get(step.node_id)
        if outputs is not None and step.node_id not in leader.dead:
            run.take(step, outputs, leader.report.ui.get(step.node_id))
        else:
            run.attempt(step)

    def batched(self, index: int, runs: list[Run]) -> None:
        """One call of the batch node at step `index` for `runs`, on their stacked inputs; per run when they do
        not stack."""
        steps = [run.plan.steps[index] for run in runs]
        kwargs = self.stacked_inputs(steps, runs)
        if kwargs is None:
            for run, step in zip(runs, steps):
                run.attempt(step)
            return
        step = steps[0]
        for run in runs:
            run.emit(NodeStarted(run.report.run_id, step.node_id, step.definition.type_id))
        started = time.perf_counter()

        def progress(node_id: str, value: int, total: int, preview: Any) -> None:
            for run in runs:
                run.progress(node_id, value, total, preview)

        try:
            outputs, _ = runs[0].call(step, kwargs, progress, any(run.previews for run in runs))
            parts = {name: unstack(value, len(runs)) for name, value in outputs.items()}
        except Interrupted:
            for run, own in zip(runs, steps):
                run.interrupted(own)
            return
        except Exception:  # noqa: BLE001 - run again per prompt, so that only the one that fails fails
            log.warning("batch of %d at node %r failed; running it per prompt", len(runs), step.node_id,
                        exc_info=True)
            for run, own in zip(runs, steps):
                run.attempt(own)
            return
        seconds = time.perf_counter() - started
        for number, (run, own) in enumerate(zip(runs, steps)):
            run.record(own, {name: values[number] for name, values in parts.items()}, {}, seconds)

    @staticmethod
    def stacked_inputs(steps: list[Step], runs: list[Run]) -> dict[str, Any] | None:
        """The inputs of one call for all runs: each linked input that stacks, stacked (even when the runs share
        it, so that every batchable input holds one row per prompt), and the others, which must be the same for
        all; None when they are not."""
        step = steps[0]
        try:
            inputs = [run.inputs_of(own) for run, own in zip(runs, steps)]
        except Exception:  # noqa: BLE001 - an input that does not validate: each run reports its own
            return None
        first = inputs[0]
        kwargs = {}
        for name, value in first.items():
            values = [each[name] for each in inputs]
            stacked = stack(values) if name in step.links else None
            if stacked is not None:
                kwargs[name] = stacked  # shared ones too: every batchable input holds one row per prompt
            elif all(other is value or (name not in step.links and other == value) for other in values):
                kwargs[name] = value
            else:
                return None
        return kwargs
