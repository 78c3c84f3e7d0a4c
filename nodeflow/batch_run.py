"""Several runs of one plan, walking their steps together, so that a batch node runs once for all of them.

At each step, runs whose node has the same cache key share one execution (the
others take its outputs, as from the cache). Runs whose keys differ run the
node each on their own, unless it is declared `batch=True` and they differ only
in linked values that stack (`nodeflow.batching`) and in its per-sample inputs
(seeds): then it runs once on the stacked values and each run records its own
part, under its own cache key, with its own events. A batched call that fails is run again per run, so that a
failure stays with the prompt that caused it. An interrupt of one run stops that
run where it is; the others run the step again and go on.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .batching import stack, unstack
from .context import Interrupted
from .events import NodeStarted
from .inplace_guard import InputVersions, changed_in_place
from .plan import Step
from .report import RunReport
from .run import Run

log = logging.getLogger("nodeflow.executor")


def same_plan(runs: list[Run]) -> bool:
    """Whether the runs have the same steps, node for node (then they can walk them together)."""
    first = [(step.node_id, step.definition.type_id, step.links) for step in runs[0].plan.steps]
    return all([(s.node_id, s.definition.type_id, s.links) for s in run.plan.steps] == first for run in runs[1:])


class BatchRun:
    """The runs of one batch (`Executor.run_batch`), executed together step by step."""

    def __init__(self, runs: list[Run]) -> None:
        self.runs = runs

    def execute(self, keys: list[dict[str, str] | None]) -> list[RunReport]:
        started = time.perf_counter()
        walking = [run for run, run_keys in zip(self.runs, keys) if run.begin(run_keys)]
        executor = self.runs[0].executor
        for index, first in enumerate(self.runs[0].plan.steps):
            due = [run for run in walking if not run.stopped and run.due(run.plan.steps[index])]
            executor.resume(run.report.run_id for run in self.runs if run.stopped)  # those stopped between steps
            groups: dict[str, list[Run]] = {}
            for run in due:
                groups.setdefault(run.keys[first.node_id], []).append(run)
            leaders = [group[0] for group in groups.values()]
            if len(leaders) > 1 and first.definition.batch:
                self.batched(index, leaders)
            else:
                for run in leaders:
                    self.attempt(run, index)
            for leader, *followers in groups.values():
                for run in followers:
                    self.follow(index, leader, run)
        return [run.finish(started) for run in self.runs]

    def attempt(self, run: Run, index: int) -> None:
        """`run`'s step `index` on its own. An interrupt asked for other runs of the batch stops those, and this
        step runs again; one asked for this run (or for all) stops it."""
        step = run.plan.steps[index]
        while not run.stopped:  # it may have stopped at this step already, at another run's interrupt
            try:
                run.run_step(step)
            except Interrupted:
                self.settle_interrupt(index)
                continue
            except Exception as exc:  # noqa: BLE001 - a node's failure is reported, never raised
                run.dead.add(step.node_id)
                run.failed(step, exc)
            return

    def settle_interrupt(self, index: int) -> None:
        """An interrupt was met at step `index`: the runs asked to stop (all, after `interrupt()` with no run) stop
        there, and the others go on."""
        executor = self.runs[0].executor
        for run in self.runs:
            if not run.stopped and executor.stop_asked(run.report.run_id):
                run.interrupted(run.plan.steps[index])
        executor.resume(run.report.run_id for run in self.runs if run.stopped)

    def follow(self, index: int, leader: Run, run: Run) -> None:
        """`run` has the same key as `leader` at step `index`: it takes the leader's outputs, or runs the step
        itself when the leader's failed (and fails in its own name)."""
        step = run.plan.steps[index]
        outputs = leader.report.outputs.get(step.node_id)
        if outputs is not None and step.node_id not in leader.dead:
            run.take(step, outputs, leader.report.ui.get(step.node_id))
        else:
            self.attempt(run, index)

    def batched(self, index: int, runs: list[Run]) -> None:
        """One call of the batch node at step `index` for `runs`, on their stacked inputs; per run when they do
        not stack."""
        steps = [run.plan.steps[index] for run in runs]
        kwargs = self.stacked_inputs(steps, runs)
        if kwargs is None:
            for run in runs:
                self.attempt(run, index)
            return
        step = steps[0]
        for run in runs:
            run.emit(NodeStarted(run.report.run_id, step.node_id, step.definition.type_id))
        started = time.perf_counter()

        def progress(node_id: str, value: int, total: int, preview: Any) -> None:
            for run in runs:
                run.progress(node_id, value, total, None)

        versions = InputVersions({name: kwargs[name] for name in step.links})
        try:  # without previews: a batch's picture would show one prompt's image to the others' clients
            outputs, _ = runs[0].call(step, kwargs, progress, False)
            if versions.changed():  # run alone, each run's own guard names it and forgets what it changed
                raise changed_in_place(step.node_id, step.definition.type_id, versions.changed())
            parts = {name: unstack(value, len(runs)) for name, value in outputs.items()}
        except Interrupted:
            self.settle_interrupt(index)
            going_on = [run for run in runs if not run.stopped]
            if len(going_on) > 1:
                self.batched(index, going_on)
            elif going_on:
                self.attempt(going_on[0], index)
            return
        except Exception:  # noqa: BLE001 - run again per prompt, so that only the one that fails fails
            log.warning("batch of %d at node %r failed; running it per prompt", len(runs), step.node_id,
                        exc_info=True)
            for run in runs:
                self.attempt(run, index)
            return
        seconds = time.perf_counter() - started
        for number, (run, own) in enumerate(zip(runs, steps)):
            run.record(own, {name: values[number] for name, values in parts.items()}, {}, seconds)

    @staticmethod
    def stacked_inputs(steps: list[Step], runs: list[Run]) -> dict[str, Any] | None:
        """The inputs of one call for all runs: each linked input that stacks, stacked (even when the runs share
        it, so that every batchable input holds one row per prompt), each per-sample literal as the list of the
        runs' values, and the others, which must be the same for all; None when they are not."""
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
            if name in step.definition.per_sample:
                kwargs[name] = values
            elif stacked is not None:
                kwargs[name] = stacked  # shared ones too: every batchable input holds one row per prompt
            elif all(other is value or (name not in step.links and other == value) for other in values):
                kwargs[name] = value
            else:
                return None
        return kwargs
