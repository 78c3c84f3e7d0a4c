"""Execution workers: one thread per device, each claiming prompts from the store and handing them to its runner.

Request handlers never reach an executor. They put prompts in the store and
call `notify`, `interrupt` and `free` on the pool; results come back only as
messages through the publisher. A runner takes plain data (a `QueuedPrompt`)
and returns plain data (an `Outcome`): a `PromptRunner` owns an Executor in
this process, whose cache lives across prompts; a Ray actor's runner
(`ray_workers`) does the same in another process or machine. A runner that
loses its process mid-prompt raises `WorkerLost`: the prompt goes back to the
queue with its attempt counted, and fails once it has used them all.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from ..budgets import Budgets
from ..events import Event, NodeProgress, RunStarted
from ..folders import Folders
from ..limits import DEFAULT_LIMITS, Limits
from ..problems import ProblemList
from ..report import RunReport
from ..registry import Registry
from ..workflow import Workflow, is_comfy_prompt
from . import prompt_log
from .messages import Message, PromptMessages, preview_frame
from .store import QueueStore, QueuedPrompt

log = logging.getLogger(__name__)
IDLE_POLL_SECONDS = 1.0


def _pnginfo(prompt: QueuedPrompt) -> dict[str, Any]:
    """What ComfyUI's SaveImage writes besides the image: the API prompt the client sent (when it sent one) and
    each entry of its `extra_data.extra_pnginfo` (the frontend's `workflow`)."""
    extra = prompt.extra.get("extra_pnginfo")
    chunks = dict(extra) if isinstance(extra, dict) else {}
    if is_comfy_prompt(prompt.original):
        chunks["prompt"] = prompt.original
    return chunks


class Publisher(Protocol):
    def send(self, message: Message, sid: str | None) -> None: ...
    def send_preview(self, frame: bytes, sid: str | None) -> None: ...
    def wants_previews(self, sid: str | None) -> bool: ...
    def status(self, queue_remaining: int) -> None: ...


@dataclass(frozen=True)
class Channel:
    """Where a prompt's messages and previews go while it runs."""

    emit: Callable[[Message], None]
    emit_preview: Callable[[Any], None]


class WorkerLost(RuntimeError):
    """The process running a prompt died (killed, out of memory, its machine gone) before it ended."""


class Runner(Protocol):
    """What a worker runs prompts with: `run_batch` runs one prompt, or several as one batch when `max_batch`
    allows. `ready` and `model_stats` may wait a few seconds for a runner in another process; the others but
    `run_batch` and `free` return at once."""

    max_batch: int

    def run_batch(self, prompts: list[QueuedPrompt], channels: list[Channel], previews: bool = False
                  ) -> list[Outcome]: ...
    def interrupt(self, prompt_id: str | None = None) -> bool: ...
    def free(self, models: bool, outputs: bool) -> None: ...
    def ready(self) -> bool: ...
    def held_recipes(self) -> list[str]: ...
    def stats(self) -> dict[str, Any]: ...
    def model_stats(self) -> dict[str, Any]: ...


class NoListeners:
    """A publisher with no one listening: workers run without a server (benchmarks, tests)."""

    def send(self, message: Message, sid: str | None) -> None:
        pass

    def send_preview(self, frame: bytes, sid: str | None) -> None:
        pass

    def wants_previews(self, sid: str | None) -> bool:
        return False

    def status(self, queue_remaining: int) -> None:
        pass


@dataclass
class Outcome:
    status: str  # "success" or "error" (ComfyUI's status_str; an interrupt is an error)
    outputs: dict[str, Any] = field(default_factory=dict)
    messages: list[Any] = field(default_factory=list)


class PromptRunner:
    """One device, one executor, one prompt (or one batch of prompts) at a time."""

    def __init__(self, registry: Registry, device: str, folders: Folders, limits: Limits = DEFAULT_LIMITS,
                 budgets: Budgets = Budgets(), max_batch: int = 1) -> None:
        from ..executor import Executor

        self.executor = Executor(registry, device=device, folders=folders, limits=limits, budgets=budgets)
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._current: list[str] = []  # the prompts running (a batch of them)
        self._interrupt_wanted: str | None = None

    def run_batch(self, prompts: list[QueuedPrompt], channels: list[Channel], previews: bool = False
                  ) -> list[Outcome]:
        """Run the prompts as one batch (`Executor.run_batch`), each telling its own channel what happens."""
        from ..executor import BatchItem

        messages = [PromptMessages(prompt.id) for prompt in prompts]

        def listener(prompt: QueuedPrompt, said: PromptMessages, channel: Channel) -> Callable[[Event], None]:
            def on_event(event: Event) -> None:
                if isinstance(event, RunStarted):
                    with self._lock:
                        if self._interrupt_wanted == prompt.id:
                            self.executor.interrupt(prompt.id)
                if isinstance(event, NodeProgress) and event.preview is not None:
                    channel.emit_preview(event.preview)
                for message in said.of(event):
                    channel.emit(message)
            return on_event

        items = [BatchItem(Workflow.from_dict(prompt.workflow), prompt.id, listener(prompt, said, channel),
                           _pnginfo(prompt)) for prompt, said, channel in zip(prompts, messages, channels)]
        with self._lock:
            self._current = [prompt.id for prompt in prompts]
            if self._interrupt_wanted not in (None, *self._current):
                self._interrupt_wanted = None  # asked for a prompt that never came here
        try:
            results = self.executor.run_batch(items, previews=previews)
            return [self._outcome(prompt, said, channel, result)
                    for prompt, said, channel, result in zip(prompts, messages, channels, results)]
        except Exception as exc:  # noqa: BLE001 - the server never dies of a prompt
            trace = "".join(traceback.format_exception(exc))
            for said, channel in zip(messages, channels):
                channel.emit(said.error(None, None, str(exc), type(exc).__name__, trace))
            return [Outcome("error", {}, said.history) for said in messages]
        finally:
            with self._lock:
                self._current, self._interrupt_wanted = [], None

    @staticmethod
    def _outcome(prompt: QueuedPrompt, said: PromptMessages, channel: Channel,
                 result: RunReport | ProblemList) -> Outcome:
        if isinstance(result, ProblemList):
            first = result.problems[0]
            node_type = prompt.workflow.get("nodes", {}).get(first.node_id or "", {}).get("type")
            channel.emit(said.error(first.node_id, node_type, str(result), "ProblemList", ""))
            return Outcome("error", {}, said.history)
        return Outcome("success" if result.ok else "error", result.ui, said.history)

    def interrupt(self, prompt_id: str | None = None) -> bool:
        """Interrupt the running prompts (only if `prompt_id`, when given, is one of them); True if some were."""
        with self._lock:
            if not self._current or (prompt_id is not None and prompt_id not in self._current):
                return False
            self._interrupt_wanted = prompt_id or self._current[0]
            self.executor.interrupt(prompt_id)  # of a batch, that prompt only; all without one
            return True

    def interrupt_when_started(self, prompt_id: str) -> None:
        """Interrupt `prompt_id` as soon as it starts here (the request came before the prompt did)."""
        with self._lock:
            if not self._current:
                self._interrupt_wanted = prompt_id
                return
        self.interrupt(prompt_id)

    def ready(self) -> bool:
        return True

    def held_recipes(self) -> list[str]:
        return list(self.executor.models.recipe_keys())

    def free(self, models: bool, outputs: bool) -> None:
        if models:
            self.executor.models.unload()
        if outputs:
            self.executor.cache.clear()
        gc.collect()
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()

    def stats(self) -> dict[str, Any]:
        return {"device": self.executor.device, "cache_bytes": self.executor.cache.nbytes,
                "cache_entries": len(self.executor.cache)}

    def model_stats(self) -> dict[str, Any]:
        """The models as they are now (the model service is safe to read from any thread) and the budgets."""
        models = self.executor.models
        return {"models": models.loaded(), "model_loads": models.loads, "budgets": models.budgets()}


class Worker(threading.Thread):
    """Claims prompts from the store and runs them with its runner until stopped: first those whose models the
    runner holds, unless the first in the queue has waited `affinity_wait` seconds (see `QueueStore.claim`).
    `make_runner` is called in the worker's thread (building one may import torch or wait for a process)."""

    def __init__(self, name: str, make_runner: Callable[[], Runner], store: QueueStore, publisher: Publisher,
                 affinity_wait: float = 0.0, device: str = "auto") -> None:
        super().__init__(name=f"nodeflow-worker-{name}", daemon=True)
        self.worker_name = name
        self._make_runner = make_runner
        self.affinity_wait = affinity_wait
        self.store, self.publisher = store, publisher
        self.runner: Runner | None = None
        self.wake = threading.Event()
        self._stopping = threading.Event()
        self._free_models, self._free_outputs = threading.Event(), threading.Event()
        self.snapshot: dict[str, Any] = {"device": device, "running": None}
        self._running: list[str] = []

    @classmethod
    def local(cls, name: str, registry: Registry, device: str, folders: Folders, store: QueueStore,
              publisher: Publisher, limits: Limits = DEFAULT_LIMITS, affinity_wait: float = 0.0,
              budgets: Budgets = Budgets(), max_batch: int = 1) -> Worker:
        """A worker whose executor runs in this process on `device`, taking up to `max_batch` prompts at once."""
        return cls(name, lambda: PromptRunner(registry, device, folders, limits, budgets, max_batch), store,
                   publisher, affinity_wait, device)

    def run(self) -> None:
        self.runner = self._make_runner()
        self._refresh(None)
        while not self._stopping.is_set():
            try:
                self._step()
            except Exception:  # noqa: BLE001 - e.g. a locked or full disk: keep serving, retry soon
                log.exception("worker %s: could not take the next prompt", self.worker_name)
                self._stopping.wait(IDLE_POLL_SECONDS)

    def _step(self) -> None:
        assert self.runner is not None
        if self._free_models.is_set() or self._free_outputs.is_set():
            models, outputs = self._free_models.is_set(), self._free_outputs.is_set()
            self._free_models.clear()
            self._free_outputs.clear()
            self.runner.free(models=models, outputs=outputs)
            self._refresh(None)
        if not self.runner.ready():  # its process is being replaced: claim nothing it could not run
            self._stopping.wait(IDLE_POLL_SECONDS)
            return
        prompts = self.store.claim_batch(self.worker_name, self.runner.held_recipes(), self.affinity_wait,
                                         self.runner.max_batch)
        if not prompts:
            self.wake.wait(IDLE_POLL_SECONDS)
            self.wake.clear()
            return
        self._execute(prompts)

    def _channel(self, prompt: QueuedPrompt) -> Channel:
        sid = prompt.client_id

        def emit_preview(preview: Any) -> None:
            if self.publisher.wants_previews(sid):
                frame = preview_frame(preview)
                if frame is not None:
                    self.publisher.send_preview(frame, sid)

        return Channel(lambda message: self.publisher.send(message, sid), emit_preview)

    def _execute(self, prompts: list[QueuedPrompt]) -> None:
        assert self.runner is not None
        self._refresh(prompts)
        self.publisher.status(self.store.remaining())
        started = time.monotonic()
        previews = any(self.publisher.wants_previews(prompt.client_id) for prompt in prompts)
        try:
            outcomes = self.runner.run_batch(prompts, [self._channel(prompt) for prompt in prompts], previews)
        except WorkerLost as lost:
            for prompt in prompts:
                self._lost(prompt, lost)
            return
        except Exception as exc:  # noqa: BLE001 - the runner's own failure (nodes' are reported by the runner)
            outcomes = [self._failed(prompt, exc) for prompt in prompts]
        seconds = time.monotonic() - started
        for prompt, outcome in zip(prompts, outcomes):
            self._settle(prompt, outcome, seconds)

    def _settle(self, prompt: QueuedPrompt, outcome: Outcome, seconds: float) -> None:
        meta = prompt.workflow.get("meta")
        if self._stopping.is_set() and outcome.status != "success":
            self.store.release(prompt.id)  # stopped by shutdown, not by a user: run it again after restart
            prompt_log.stopped_by_shutdown(prompt.id, meta, seconds)
            return
        # History first: a client that sees the end message or an empty queue fetches /history next.
        self.store.finish(prompt.id, outcome.status, outcome.outputs, outcome.messages)
        prompt_log.ended(prompt.id, meta, seconds, outcome.status, outcome.messages)
        self._ended(prompt)

    def _failed(self, prompt: QueuedPrompt, exc: Exception) -> Outcome:
        """The prompt ends failed, with the runner's error: it is not left running for ever."""
        log.exception("worker %s failed running prompt %s", self.worker_name, prompt.id)
        messages = PromptMessages(prompt.id)
        error = messages.error(None, None, f"the worker {self.worker_name} failed: {exc}", type(exc).__name__,
                               "".join(traceback.format_exception(exc)))
        self.publisher.send(error, prompt.client_id)
        return Outcome("error", {}, messages.history)

    def _lost(self, prompt: QueuedPrompt, lost: WorkerLost) -> None:
        """The runner's process died mid-prompt: queue the prompt again, or fail it at its last attempt."""
        requeued = self.store.requeue_lost(prompt.id, f"the worker {self.worker_name} running it died ({lost})")
        prompt_log.lost(prompt.id, prompt.workflow.get("meta"), self.worker_name, prompt.attempts, requeued)
        if requeued:
            self._refresh(None)
            self.publisher.status(self.store.remaining())
        else:
            self._ended(prompt)

    def _ended(self, prompt: QueuedPrompt) -> None:
        self._refresh(None)
        self.publisher.status(self.store.remaining())
        self.publisher.send(PromptMessages(prompt.id).end(), prompt.client_id)

    def _refresh(self, running: list[QueuedPrompt] | None) -> None:
        """The snapshot of the worker's device and cache, and the prompts it runs (`running`: the first's id)."""
        assert self.runner is not None
        self._running = [prompt.id for prompt in running or []]
        self.snapshot = {**self.runner.stats(), "running": self._running[0] if self._running else None}

    def interrupt(self, prompt_id: str | None = None) -> bool:
        return self.runner is not None and self.runner.interrupt(prompt_id)

    def request_free(self, models: bool, outputs: bool) -> None:
        for wanted, flag in ((models, self._free_models), (outputs, self._free_outputs)):
            if wanted:
                flag.set()
        self.wake.set()

    def stats(self) -> dict[str, Any]:
        """The snapshot of the last prompt's start or end, with the models as they are now."""
        models = self.runner.model_stats() if self.runner is not None else {}
        return {**self.snapshot, **models, "worker": self.worker_name}

    def stop(self, timeout: float) -> None:
        self._stopping.set()
        self.interrupt()
        self.wake.set()
        self.join(timeout)
        if self.is_alive():
            for prompt_id in self._running:  # stuck in a long step at shutdown: a graceful stop, not a crash
                self.store.release(prompt_id)


class WorkerPool:
    """The workers (one per device, or per Ray actor); the server's only handle on execution. Workers may be
    added and removed while it serves (a Ray cluster's GPUs come and go)."""

    def __init__(self, workers: list[Worker]) -> None:
        self._workers = list(workers)
        self._lock = threading.Lock()

    @property
    def workers(self) -> list[Worker]:
        with self._lock:
            return list(self._workers)

    def start(self) -> None:
        for worker in self.workers:
            worker.start()

    def add(self, worker: Worker) -> None:
        with self._lock:
            self._workers.append(worker)
        worker.start()

    def remove(self, worker: Worker, timeout: float = 5.0) -> None:
        with self._lock:
            self._workers.remove(worker)
        worker.stop(timeout)

    def notify(self) -> None:
        for worker in self.workers:
            worker.wake.set()

    def interrupt(self, prompt_id: str | None = None) -> bool:
        return any([worker.interrupt(prompt_id) for worker in self.workers])

    def free(self, models: bool, outputs: bool) -> None:
        for worker in self.workers:
            worker.request_free(models=models, outputs=outputs)

    def snapshots(self) -> list[dict[str, Any]]:
        return [worker.stats() for worker in self.workers]

    def stop(self, timeout: float = 5.0) -> None:
        for worker in self.workers:
            worker.stop(timeout)
