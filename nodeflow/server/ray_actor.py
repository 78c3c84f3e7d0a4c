"""The actor side of a Ray worker: one device, one `PromptRunner` (executor, cache, model service), plain data in
and out.

The head sends a `RemoteBatch` (the queued prompts, the input files they name,
whether previews are wanted); `run` streams back each prompt's messages and
previews and the files written as the run goes, then the outcomes. The actor's folders are a private scratch
folder, but for the models, which it reads where the head's config says (the
same path on each machine, or hub ids).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..budgets import Budgets
from ..device import memory_stats
from ..limits import Limits
from ..quiet import quiet_libraries
from ..registry import default_registry
from .messages import preview_jpeg
from .remote_files import ScratchFolders, clear, place_inputs
from .store import QueuedPrompt
from .worker import Channel, PromptRunner


@dataclass(frozen=True)
class ActorSettings:
    nodes_dirs: tuple[str, ...]
    models_dirs: tuple[str, ...]
    device: str  # "auto" on a GPU actor (Ray shows it its GPU only), "cpu" on a CPU actor
    threads: int  # torch threads: the CPUs Ray reserved for the actor
    limits: Limits
    budgets: Budgets


@dataclass(frozen=True)
class RemoteBatch:
    """The prompts to run as one batch (often one), the input files they name, and whether previews are wanted."""

    prompts: list[QueuedPrompt]
    inputs: dict[str, bytes]
    previews: bool


class PromptActor:
    def __init__(self, settings: ActorSettings) -> None:
        self._quiet = contextlib.ExitStack()  # held: the libraries stay quiet while the actor lives
        self._quiet.enter_context(quiet_libraries())
        import torch

        torch.set_num_threads(settings.threads)
        root = Path(tempfile.mkdtemp(prefix="nodeflow-actor-"))
        atexit.register(shutil.rmtree, root, True)
        self.folders = ScratchFolders(output=root / "output", input=root / "input", temp=root / "temp",
                                      models=[Path(folder) for folder in settings.models_dirs])
        for folder in (self.folders.output, self.folders.input, self.folders.temp):
            folder.mkdir()
        registry = default_registry([Path(folder) for folder in settings.nodes_dirs])
        self.runner = PromptRunner(registry, settings.device, self.folders, settings.limits, settings.budgets)

    def state(self) -> dict[str, Any]:
        """What the head shows and routes by: device, cache, models, the recipes held, this process."""
        return {**self.runner.stats(), **self.runner.model_stats(), "held": self.runner.held_recipes(),
                "memory": memory_stats(self.runner.executor.device), "pid": os.getpid(), "node": socket.gethostname()}

    def run(self, request: RemoteBatch) -> Iterator[tuple[Any, ...]]:
        """Streams `("message", prompt number, message)`, `("preview", prompt number, jpeg)` and `("files",
        [SentFile])` as the prompts run, then `("outcomes", [Outcome], state)`."""
        place_inputs(self.folders, request.inputs)
        events: queue.Queue[tuple[Any, ...]] = queue.Queue()

        def channel(number: int) -> Channel:
            def emit_preview(preview: Any) -> None:
                jpeg = preview_jpeg(preview)
                if jpeg is not None:
                    events.put(("preview", number, jpeg))

            return Channel(lambda message: events.put(("message", number, message)), emit_preview)

        def work() -> None:
            try:
                ended: Any = self.runner.run_batch(request.prompts, [channel(n) for n in range(len(request.prompts))],
                                                   request.previews)
            except BaseException as exc:  # noqa: BLE001 - raised where the head sees it, below
                ended = exc
            clear(self.folders.input)  # before the end is known: the next prompts' inputs may come right after
            events.put(("ended", ended))

        threading.Thread(target=work, name=f"prompt-{request.prompts[0].id}", daemon=True).start()
        while True:
            item = events.get()
            if item[0] == "ended":
                left = self.folders.end_request()
                if isinstance(item[1], BaseException):
                    raise item[1]
                yield "files", left
                yield "outcomes", item[1], self.state()
                return
            if item[0] == "message" and item[2][0] == "executed":  # the files it shows are at the head first
                yield "files", self.folders.take_written()
            yield item

    def interrupt(self, prompt_id: str) -> None:
        self.runner.interrupt_when_started(prompt_id)

    def free(self, models: bool, outputs: bool) -> dict[str, Any]:
        self.runner.free(models=models, outputs=outputs)
        return self.state()
