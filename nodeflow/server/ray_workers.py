"""Workers as Ray actors (`serve --ray auto|ADDRESS`): the head keeps the HTTP API, WebSocket and SQLite queue;
each actor owns one device, one executor with its cache and one model service with its budgets.

A `RayRunner` is a worker's runner whose prompts run in an actor (`ray_actor`):
plain data goes out (the prompt and the input files it names), plain data comes
back (messages and previews as they happen, output files as bytes, the
outcome), and the head writes the files into its own folders. Ray restarts an
actor whose process dies; the prompt it was running raises `WorkerLost`, and
the worker queues it again with its attempt counted.

`RayPool` places one actor per GPU of the cluster and follows the cluster as
GPUs come and go (or keeps `--ray-workers` CPU actors).
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import signal
import socket
import threading
from pathlib import Path
from typing import Any, Callable

from ..registry import Registry
from .config import ServerConfig
from .extras import OptionError
from .ray_actor import ActorSettings, PromptActor, RemoteBatch
from .remote_files import FileKey, input_files, renamed, store_sent
from .store import QueueStore, QueuedPrompt
from .worker import Channel, Outcome, Publisher, Worker, WorkerLost, WorkerPool

log = logging.getLogger(__name__)
READY_SECONDS = 5.0  # a wait for an actor that is starting or being restarted, before the worker looks again
STATS_SECONDS = 2.0  # /system_stats waits this long for an actor's models before showing the last ones known
FREE_SECONDS = 60.0
CONNECT_SECONDS = 5.0
FOLLOW_SECONDS = 5.0  # how often the pool looks at the cluster's GPUs
ACTOR_CONCURRENCY = 4  # a run, and an interrupt or a look at its models meanwhile
ACTOR_CPUS = 1  # reserved for each actor, and its torch threads


def require_cluster(address: str) -> None:
    """Raise `OptionError` at once unless something listens at `address` (`ray.init` would retry for minutes)."""
    host, _, port = address.rpartition("://")[2].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except (OSError, ValueError) as exc:
        raise OptionError(f"--ray {address}: no Ray cluster answers there ({exc}); start one with "
                          "`ray start --head`, or use --ray auto") from None


def connect(address: str, cpu_workers: int | None) -> None:
    """Start a local Ray ("auto") or join the cluster at `address`, leaving the server's SIGTERM handling as it
    was (a stop drains the workers, then leaves Ray) and without Ray's crash reporter, which takes a SIGTERM for
    a crash."""
    import ray

    os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    server_sigterm = signal.getsignal(signal.SIGTERM)
    if address == "auto":
        cpus = max(os.cpu_count() or 1, cpu_workers or 0)
        ray.init(address="local", num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING)
    else:
        ray.init(address=address, logging_level=logging.WARNING)
    signal.signal(signal.SIGTERM, server_sigterm)


@functools.cache
def _actor_class() -> Any:
    import ray

    return ray.remote(PromptActor)


class RayRunner:
    """A worker's runner whose prompts run in a Ray actor; made by `spawn`, and made again if Ray gives it up."""

    def __init__(self, spawn: Callable[[], Any], registry: Registry, folders: Any, max_batch: int = 1) -> None:
        self._spawn, self._registry, self._folders = spawn, registry, folders
        self.max_batch = max_batch
        self.actor = spawn()
        self._state: dict[str, Any] = {"device": "ray"}
        self._ready = False
        self._lock = threading.Lock()
        self._current: list[str] = []

    def answers(self) -> bool:
        """Whether the actor answers now (asked, not remembered: an idle actor's node may be gone)."""
        import ray
        from ray.exceptions import RayError

        try:
            self._state = ray.get(self.actor.state.remote(), timeout=STATS_SECONDS)
        except RayError:
            self._ready = False
            return False
        return True

    def ready(self) -> bool:
        """Whether the actor answers (it may be starting, or restarting after its process died)."""
        import ray
        from ray.exceptions import ActorDiedError, ActorUnavailableError, GetTimeoutError

        if self._ready:
            return True
        try:
            self._state = ray.get(self.actor.state.remote(), timeout=READY_SECONDS)
        except (GetTimeoutError, ActorUnavailableError):  # starting, or restarting
            return False
        except ActorDiedError as exc:  # Ray will not restart it (e.g. its constructor failed): make another
            log.error("a Ray worker actor is gone for good, starting another: %s", exc)
            self.actor = self._spawn()
            return False
        self._ready = True
        return True

    def run_batch(self, prompts: list[QueuedPrompt], channels: list[Channel], previews: bool = False
                  ) -> list[Outcome]:
        """Run the prompts as one batch in the actor, each prompt's messages and previews to its channel."""
        import ray
        from ray.exceptions import RayActorError

        inputs = {name: data for prompt in prompts
                  for name, data in input_files(prompt.workflow, self._registry, self._folders).items()}
        names: dict[FileKey, str] = {}
        with self._lock:
            self._current = [prompt.id for prompt in prompts]
        try:
            for ref in self.actor.run.remote(RemoteBatch(prompts, inputs, previews)):
                item = ray.get(ref)
                if item[0] == "files":
                    names.update((sent.key, store_sent(self._folders, sent)) for sent in item[1])
                elif item[0] == "message":
                    channels[item[1]].emit(renamed(item[2], names))
                elif item[0] == "preview":
                    channels[item[1]].emit_preview(item[2])
                else:
                    outcomes, self._state = item[1], item[2]
                    return [Outcome(outcome.status, renamed(outcome.outputs, names), renamed(outcome.messages, names))
                            for outcome in outcomes]
            raise WorkerLost("its stream of events ended without an outcome")
        except RayActorError as exc:
            self._ready = False
            raise WorkerLost(type(exc).__name__) from exc
        finally:
            with self._lock:
                self._current = []

    def interrupt(self, prompt_id: str | None = None) -> bool:
        with self._lock:
            current = list(self._current)
        if not current or (prompt_id is not None and prompt_id not in current):
            return False
        for each in current if prompt_id is None else [prompt_id]:
            self.actor.interrupt.remote(each)
        return True

    def free(self, models: bool, outputs: bool) -> None:
        import ray
        from ray.exceptions import RayError

        try:
            self._state = ray.get(self.actor.free.remote(models, outputs), timeout=FREE_SECONDS)
        except RayError as exc:
            log.warning("could not free a Ray worker's memory: %s", exc)

    def held_recipes(self) -> list[str]:
        return list(self._state.get("held", []))

    def stats(self) -> dict[str, Any]:
        return {key: value for key, value in self._state.items() if key != "held"}

    def model_stats(self) -> dict[str, Any]:
        """The actor's device, cache and models as they are now, or as last known if it does not answer at once."""
        import ray
        from ray.exceptions import RayError

        if self._ready:
            try:
                self._state = ray.get(self.actor.state.remote(), timeout=STATS_SECONDS)
            except RayError:
                pass
        return self.stats()

    def close(self) -> None:
        import ray

        ray.kill(self.actor, no_restart=True)


class RayPool(WorkerPool):
    """The workers of a Ray cluster: one actor per GPU, following the cluster as GPUs come and go, or a fixed
    number of CPU actors (`--ray-workers`); a cluster without GPUs gets one CPU actor."""

    def __init__(self, config: ServerConfig, registry: Registry, store: QueueStore, publisher: Publisher) -> None:
        super().__init__([])
        self._config, self._registry, self._store, self._publisher = config, registry, store, publisher
        self._runners: dict[Worker, tuple[RayRunner, bool]] = {}  # each worker's runner, and whether on a GPU
        self._numbers = itertools.count()
        self._stopping = threading.Event()
        self._follower = threading.Thread(target=self._follow, name="nodeflow-ray-follower", daemon=True)

    def start(self) -> None:
        self.place()
        if self._config.ray_workers is None:
            self._follower.start()

    def wanted(self) -> tuple[int, bool]:
        """How many actors the cluster should have now, and whether each takes a GPU."""
        import ray

        if self._config.ray_workers is not None:
            return self._config.ray_workers, False
        gpus = int(ray.cluster_resources().get("GPU", 0))
        return (gpus, True) if gpus else (1, False)

    def place(self) -> None:
        """Add or remove actors until the cluster has the ones `wanted` says."""
        count, gpu = self.wanted()
        for worker in [w for w, (_, on_gpu) in self._runners.items() if on_gpu != gpu]:
            self._retire(worker)
        surplus = len(self._runners) - count
        if surplus > 0:
            answering = {worker: runner.answers() for worker, (runner, _) in self._runners.items()}
            kept_first = sorted(self._runners, key=lambda w: (not answering[w], w.snapshot.get("running") is None))
            for worker in kept_first[-surplus:]:  # those that do not answer, then idle ones
                self._retire(worker)
        for _ in range(count - len(self._runners)):
            self._add(gpu)

    def _follow(self) -> None:
        while not self._stopping.wait(FOLLOW_SECONDS):
            try:
                self.place()
            except Exception:  # noqa: BLE001 - the cluster may be briefly unreachable: look again later
                log.exception("could not follow the Ray cluster's GPUs")

    def _add(self, gpu: bool) -> None:
        config = self._config
        settings = ActorSettings(
            nodes_dirs=tuple(str(Path(d).resolve()) for d in config.nodes_dirs),
            models_dirs=tuple(str(Path(d).resolve()) for d in config.models_dirs),
            device="auto" if gpu else "cpu", threads=ACTOR_CPUS, limits=config.prompt_limits, budgets=config.budgets,
        )

        def spawn() -> Any:
            return _actor_class().options(num_cpus=ACTOR_CPUS, num_gpus=1 if gpu else 0, max_restarts=-1,
                                          max_concurrency=ACTOR_CONCURRENCY).remote(settings)

        runner = RayRunner(spawn, self._registry, config.folders(), config.max_batch)
        worker = Worker(f"ray-{next(self._numbers)}", lambda: runner, self._store, self._publisher,
                        config.affinity_wait_s, device="ray")
        self._runners[worker] = (runner, gpu)
        self.add(worker)
        log.info("started %s (an actor on a %s)", worker.worker_name, "GPU" if gpu else "CPU")

    def _retire(self, worker: Worker) -> None:
        runner, _ = self._runners.pop(worker)
        self.remove(worker)
        runner.close()
        log.info("stopped %s: the cluster's GPUs changed", worker.worker_name)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._follower.is_alive():
            self._follower.join(timeout)
        super().stop(timeout)
        for runner, _ in self._runners.values():
            runner.close()
