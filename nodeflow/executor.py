"""The executor: runs a plan in order, re-using every output whose inputs did not change."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterable

from .batch_run import BatchRun, same_plan
from .budgets import Budgets
from .cache import OutputCache
from .context import Context
from .device import resolve_device
from .events import Subscriber
from .folders import Folders
from .limits import DEFAULT_LIMITS, Limits
from .model_service import ModelService
from .models import Recipe, handles_in, part_name, recipe_keys_of
from .plan import Plan, Step, plan
from .problems import ProblemList
from .registry import Registry
from .report import RunReport
from .run import Run
from .workflow import Workflow

_REMEMBERED_PLANS = 32


@dataclass(frozen=True)
class BatchItem:
    """One workflow of a batch, with what its run reports to."""

    workflow: Workflow
    run_id: str
    on_event: Subscriber | None = None
    pnginfo: dict[str, Any] | None = None


def _literal_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr, separators=(",", ":"))


class Executor:
    """Runs workflows on one device with one cache; one run at a time.

    The cache, models and device live as long as the executor: a server worker
    or a Python session keeps one and re-runs only what changed. Every workflow
    is validated against `limits` (node cap, pixel budget) before it runs.
    `budgets` bound the models (VRAM, RAM) and, unless `cache` is given, the cache.
    """

    def __init__(
        self,
        registry: Registry,
        cache: OutputCache | None = None,
        device: str = "auto",
        folders: Folders | None = None,
        limits: Limits = DEFAULT_LIMITS,
        budgets: Budgets = Budgets(),
    ) -> None:
        self.registry = registry
        self.limits = limits
        self.cache = cache if cache is not None else OutputCache(budgets.cache)
        self.device = resolve_device(device)
        self.folders = folders or Folders()
        self.models = ModelService(self._reload, budgets.vram_for(self.device), budgets.ram_bytes())
        self._interrupt = threading.Event()
        self._stops_lock = threading.Lock()
        self._stops: set[str] = set()  # runs of a batch asked to stop
        self._stopped: set[str] = set()  # runs of the batch that have stopped
        self._stop_all = False
        self._run_lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._plans: OrderedDict[str, tuple[Plan, dict[str, str] | None]] = OrderedDict()

    def _reload(self, recipe: Recipe) -> dict[str, Any]:
        """The modules of a dropped model's loader node, run again with the same inputs, by output name."""
        definition = self.registry[recipe.node_type]
        ctx = Context(f"reload {recipe.node_type}", recipe.node_type, self.device, self.models.on(self.device),
                      self.folders)
        outputs = definition.call(recipe.inputs, ctx)
        return {part_name(name, part): handle.module
                for name, value in outputs.items() for part, handle in handles_in(value).items()}

    def model_recipes(self, workflow: Workflow) -> frozenset[str]:
        """The recipe keys of the models a workflow's loaders make (what dispatch matches against the models a
        worker holds)."""
        return recipe_keys_of(self._compile(workflow, None)[0])

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.remove(subscriber)

    def interrupt(self, run_id: str | None = None) -> None:
        """Stop the current run (of a batch, only the run `run_id`, when given) at the next check, between nodes
        or steps. The check is one event for every node running; a batch whose other runs meet it resumes them
        (`stop_asked`, `resume`)."""
        with self._stops_lock:
            if run_id in self._stopped:
                return  # stopped already: the batch's other runs must not meet the check again
            if run_id is None:
                self._stop_all = True
            else:
                self._stops.add(run_id)
            self._interrupt.set()

    def stop_asked(self, run_id: str) -> bool:
        """Whether the run `run_id` was asked to stop."""
        with self._stops_lock:
            return self._interrupt.is_set() and (self._stop_all or run_id in self._stops)

    def resume(self, run_ids: Iterable[str]) -> None:
        """The runs `run_ids` have stopped: the others, which met the same check, go on unless asked too."""
        with self._stops_lock:
            self._stopped.update(run_ids)
            self._stops.difference_update(self._stopped)
            if not self._stops and not self._stop_all:
                self._interrupt.clear()

    def _clear_stops(self) -> None:
        with self._stops_lock:
            self._stops.clear()
            self._stopped.clear()
            self._stop_all = False
            self._interrupt.clear()

    def run(
        self,
        workflow: Workflow,
        params: dict[str, Any] | None = None,
        targets: Iterable[str] | None = None,
        run_id: str | None = None,
        on_event: Subscriber | None = None,
        previews: bool = False,
        pnginfo: dict[str, Any] | None = None,
    ) -> RunReport:
        """Validate, plan and run; raises ProblemList when the workflow cannot run at all.

        `previews` asks nodes for preview images with their progress (someone is watching them live).
        `pnginfo`: ComfyUI's `prompt` and `workflow` as the client sent them, for saved images to carry."""
        if params:
            workflow = workflow.with_params(params)
        steps, keys = self._compile(workflow, targets)
        with self._run_lock:
            self._clear_stops()
            return Run(self, steps, run_id or uuid.uuid4().hex, workflow, on_event, previews, pnginfo).execute(keys)

    def run_batch(self, items: list[BatchItem], previews: bool = False) -> list[RunReport | ProblemList]:
        """Run several workflows as one batch (see `batch_run`): each gets its own report, events and cache
        entries, as if it ran alone; a workflow that cannot run at all gets its ProblemList instead."""
        compiled: list[tuple[Plan, dict[str, str] | None] | ProblemList] = []
        for item in items:
            try:
                compiled.append(self._compile(item.workflow, None))
            except ProblemList as problems:
                compiled.append(problems)
        runnable = [(item, found) for item, found in zip(items, compiled) if not isinstance(found, ProblemList)]
        with self._run_lock:
            self._clear_stops()
            runs = [Run(self, steps, item.run_id, item.workflow, item.on_event, previews, item.pnginfo)
                    for item, (steps, _) in runnable]
            keys = [run_keys for _, (_, run_keys) in runnable]
            if runs and same_plan(runs):
                reports = iter(BatchRun(runs).execute(keys))
            else:
                reports = iter([run.execute(run_keys) for run, run_keys in zip(runs, keys)])
        return [found if isinstance(found, ProblemList) else next(reports) for found in compiled]

    def _compile(self, workflow: Workflow, targets: Iterable[str] | None) -> tuple[Plan, dict[str, str] | None]:
        """The plan (memoised by workflow digest) and its cache keys, unless a node reads outside state."""
        targets = list(targets) if targets is not None else None
        digest = f"{workflow.digest()}{targets}"
        compiled = self._plans.get(digest)
        if compiled is None:
            steps = plan(workflow, self.registry, targets, self.limits)
            reads_outside = any(step.definition.fingerprint for step in steps.steps)
            compiled = (steps, None if reads_outside else self.cache_keys(steps))
            self._plans[digest] = compiled
            if len(self._plans) > _REMEMBERED_PLANS:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(digest)
        return compiled

    def cache_keys(self, steps: Plan) -> dict[str, str]:
        keys: dict[str, str] = {}
        for step in steps.steps:
            keys[step.node_id] = self.cache_key(step, keys)
        return keys

    def cache_key(self, step: Step, upstream: dict[str, str]) -> str:
        definition = step.definition
        parts = [definition.type_id, definition.version, _literal_json(step.literals)]
        parts += [f"{name}<{upstream[src]}.{out}" for name, (src, out) in sorted(step.links.items())]
        if definition.fingerprint is not None:
            parts.append(definition.fingerprint(step.literals, self.folders))
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()
