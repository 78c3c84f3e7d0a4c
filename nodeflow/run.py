"""One run of a planned workflow: cache hits first, then each needed step in order, reported as events."""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from typing import TYPE_CHECKING, Any, Callable

from pydantic import ValidationError

from .cache import CacheEntry
from .comfy_formats import api_prompt
from .context import Context, Interrupted
from .events import (
    Event, NodeFailed, NodeFinished, NodeProgress, NodesCached, NodeStarted, RunFinished, RunInterrupted,
    RunStarted, Subscriber,
)
from .inplace_guard import InputVersions, changed_in_place, holding
from .models import handles_in, made_by_loader, node_device
from .plan import Plan, Step
from .report import NodeFailure, RunReport
from .workflow import Workflow

if TYPE_CHECKING:
    from .executor import Executor

log = logging.getLogger("nodeflow.executor")
_SHOWN_INPUT_CHARS = 200


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_INPUT_CHARS else text[: _SHOWN_INPUT_CHARS - 3] + "..."


class Run:
    """One run of a plan: cache look-ups, the steps in order, events, failures and interrupts."""

    def __init__(
        self, executor: Executor, steps: Plan, run_id: str, workflow: Workflow, on_event: Subscriber | None,
        previews: bool, pnginfo: dict[str, Any] | None = None,
    ) -> None:
        self.previews = previews
        self.pnginfo = pnginfo or {}
        self._image_metadata: dict[str, Any] | None = None
        self.executor = executor
        self.plan = steps
        self.workflow = workflow
        self.report = RunReport(run_id)
        self.subscribers = [*executor._subscribers, *([on_event] if on_event else [])]
        self.current_inputs: dict[str, Any] | None = None
        self.unreadable: dict[str, Exception] = {}
        self.keys: dict[str, str] = {}
        self.dead: set[str] = set()  # failed, or holding a value a node changed: their readers are skipped
        self.hits: dict[str, CacheEntry] = {}
        self.must_run: set[str] = set()

    def image_metadata(self) -> dict[str, Any]:
        """What saved images carry to restore the graph: the workflow (format 1) and ComfyUI's `prompt` (the one the
        run came as, else the workflow in API format) and `workflow` (its UI format, when a client sent one)."""
        if self._image_metadata is None:
            prompt = self.pnginfo.get("prompt") or api_prompt(self.workflow, self.executor.registry)
            self._image_metadata = {**self.pnginfo, "nodeflow": self.workflow.to_dict(), "prompt": prompt}
        return self._image_metadata

    def emit(self, event: Event) -> None:
        """Tell every subscriber; one that raises is logged and changes nothing of the run."""
        for subscriber in self.subscribers:
            try:
                subscriber(event)
            except Exception:  # noqa: BLE001 - a listener's bug is not the node's failure
                name = getattr(subscriber, "__qualname__", repr(subscriber))
                log.exception("event subscriber %s failed on %s", name, type(event).__name__)

    def progress(self, node_id: str, value: int, total: int, preview: Any) -> None:
        self.emit(NodeProgress(self.report.run_id, node_id, value, total, preview))

    def execute(self, keys: dict[str, str] | None) -> RunReport:
        started = time.perf_counter()
        if self.begin(keys):
            for step in self.plan.steps:
                if self.stopped:
                    break
                if self.due(step):
                    self.attempt(step)
        return self.finish(started)

    def begin(self, keys: dict[str, str] | None) -> bool:
        """Start: the cache keys, the hits, the nodes that must run; False when interrupted meanwhile."""
        self.emit(RunStarted(self.report.run_id, [s.node_id for s in self.plan.steps]))
        keys = keys or self.fingerprinted_keys()
        if keys is None:
            return False
        self.keys = keys
        self.hits = {}
        for step in self.plan.steps:
            entry = self.executor.cache.get(keys[step.node_id])
            if entry is not None:
                self.hits[step.node_id] = entry
        self.emit(NodesCached(self.report.run_id, list(self.hits)))
        self.must_run = self.needed(self.hits)
        return True

    @property
    def stopped(self) -> bool:
        return self.report.interrupted

    def due(self, step: Step) -> bool:
        """Whether `step` executes now. A cache hit is taken, a node reading a failed one is skipped, one whose
        fingerprint failed fails, and an interrupt asked for stops the run, each here (False)."""
        report, node_id = self.report, step.node_id
        if node_id not in self.must_run and node_id not in self.hits:
            return False
        if node_id in self.hits:
            self.take(step, self.hits[node_id].outputs, self.hits[node_id].ui)
            return False
        if any(src in self.dead for src, _ in step.links.values()):
            self.dead.add(node_id)
            report.skipped.append(node_id)
            return False
        if node_id in self.unreadable:
            self.dead.add(node_id)
            self.current_inputs = None
            self.failed(step, self.unreadable[node_id])
            return False
        if self.executor.stop_asked(self.report.run_id):
            self.interrupted(step)
            return False
        return True

    def take(self, step: Step, outputs: dict[str, Any], ui: dict[str, list[Any]] | None) -> None:
        """The node's outputs, made already (a cache entry's, or another run's with the same key), as cached."""
        report, node_id = self.report, step.node_id
        report.outputs[node_id] = outputs
        report.cached.append(node_id)
        if ui:
            report.ui[node_id] = ui
            self.emit(NodeFinished(report.run_id, node_id, step.definition.type_id, 0.0, True, ui))

    def attempt(self, step: Step) -> None:
        """Run the step; its failure is reported, and an interrupt stops the run."""
        try:
            self.run_step(step)
        except Interrupted:
            self.interrupted(step)
        except Exception as exc:  # noqa: BLE001 - a node's failure is reported, never raised
            self.dead.add(step.node_id)
            self.failed(step, exc)

    def finish(self, started: float) -> RunReport:
        self.report.total_seconds = time.perf_counter() - started
        self.emit(RunFinished(self.report.run_id, self.report))
        return self.report

    def fingerprinted_keys(self) -> dict[str, str] | None:
        """Cache keys, reading the outside state nodes fingerprint; None when the run was interrupted meanwhile.

        A node whose fingerprint fails gets a key no entry has, and fails in its turn."""
        keys: dict[str, str] = {}
        for step in self.plan.steps:
            if self.executor._interrupt.is_set():
                self.interrupted(step)
                return None
            try:
                keys[step.node_id] = self.executor.cache_key(step, keys)
            except Exception as exc:  # noqa: BLE001 - reported as the node's failure
                self.unreadable[step.node_id] = exc
                keys[step.node_id] = uuid.uuid4().hex
        return keys

    def needed(self, hits: dict[str, Any]) -> set[str]:
        """Nodes that must execute: uncached targets and the uncached sources they read, transitively.

        A node whose every consumer is cached need not run, even if its own entry was evicted.
        """
        needed = {n for n in self.plan.output_nodes if n not in hits}
        for step in reversed(self.plan.steps):
            if step.node_id in needed:
                needed.update(src for src, _ in step.links.values() if src not in hits)
        return needed

    def inputs_of(self, step: Step) -> dict[str, Any]:
        kwargs = dict(step.literals)
        for name, (src, out) in step.links.items():
            value = self.report.outputs[src][out]
            spec = step.definition.inputs[name]
            if spec.adapter is not None:
                try:
                    value = spec.adapter.validate_python(value)
                except ValidationError as exc:
                    detail = "; ".join(e["msg"] for e in exc.errors())
                    raise ValueError(f"input {name!r} got an invalid value from {src!r}.{out}: {detail}") from exc
            kwargs[name] = value
        return kwargs

    def run_step(self, step: Step) -> None:
        if self.subscribers:
            self.emit(NodeStarted(self.report.run_id, step.node_id, step.definition.type_id))
        started = time.perf_counter()
        self.current_inputs = None
        self.current_inputs = kwargs = self.inputs_of(step)
        versions = InputVersions({name: kwargs[name] for name in step.links})
        outputs, ui = self.call(step, kwargs, self.progress, self.previews)
        changed = versions.changed()
        if changed:
            self.forget(holding(self.report.outputs, changed))
            raise changed_in_place(step.node_id, step.definition.type_id, changed)
        self.record(step, outputs, ui, time.perf_counter() - started)

    def call(self, step: Step, kwargs: dict[str, Any], on_progress: Callable[[str, int, int, Any], None],
             previews: bool) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        """The node's function on `kwargs`: its outputs and what it shows. The models its loader makes are adopted
        by the model service."""
        executor, definition = self.executor, step.definition
        device = node_device(kwargs, executor.device)
        models = executor.models.on(device, executor._interrupt, warn=lambda message: ctx.warn(message))
        ctx = Context(
            step.node_id, definition.type_id, device, models, executor.folders,
            self.workflow.to_dict, executor._interrupt, on_progress, wants_previews=previews,
            _image_metadata=self.image_metadata,
        )
        with executor.registry.first_calls.turn(definition.type_id, executor._interrupt):
            outputs = definition.call(kwargs, ctx)
        for name, recipe in made_by_loader(step).items():
            for part, handle in handles_in(outputs.get(name)).items():
                executor.models.adopt(handle, recipe.part(part))
        return outputs, ctx.ui

    def record(self, step: Step, outputs: dict[str, Any], ui: dict[str, list[Any]], seconds: float) -> None:
        """A step's outputs, into the cache and the report, and told to the subscribers."""
        report = self.report
        self.executor.cache.put(self.keys[step.node_id], outputs, ui)
        report.outputs[step.node_id] = outputs
        if ui:
            report.ui[step.node_id] = ui
        report.executed.append(step.node_id)
        report.seconds[step.node_id] = seconds
        if self.subscribers:
            self.emit(NodeFinished(report.run_id, step.node_id, step.definition.type_id, seconds, False, ui))

    def forget(self, node_ids: list[str]) -> None:
        """Drop the outputs of `node_ids` from the cache, and skip the nodes that would read them in this run."""
        for node_id in node_ids:
            self.executor.cache.discard(self.keys[node_id])
            self.dead.add(node_id)

    def failed(self, step: Step, exc: Exception) -> None:
        inputs = self.current_inputs or step.literals
        failure = NodeFailure(
            step.node_id, step.definition.type_id, str(exc) or type(exc).__name__, type(exc).__name__,
            "".join(traceback.format_exception(exc)), {k: _short(v) for k, v in inputs.items()},
        )
        self.current_inputs = None
        self.report.failures.append(failure)
        self.emit(NodeFailed(self.report.run_id, failure))

    def interrupted(self, step: Step) -> None:
        self.report.interrupted = True
        self.emit(RunInterrupted(self.report.run_id, step.node_id, step.definition.type_id))
