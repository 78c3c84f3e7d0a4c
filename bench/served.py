"""What the benchmarks that drive a real `nodeflow serve` share: a server on a temporary root whose models folder
holds the tiny demo models, prompts queued with params, their history read back, and the prompts lost."""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.server_support import ServerProcess  # noqa: E402
from tiny_models import demo  # noqa: E402

START_SECONDS = 120.0  # starting Ray and the actors' imports, on a busy 2-core machine
DONE_SECONDS = 300.0
POLL_SECONDS = 0.1
LOG_TAIL = 4000  # characters of a failed server's log shown
WARM_UP_TRIES = 3
WARM_UP_SEED = 1_000_000  # apart from the measured seeds: a warm-up leaves nothing in the cache they could use


@dataclass(frozen=True)
class Prompt:
    workflow: str  # a file of workflows/
    params: dict[str, Any]


@functools.cache
def _workflow(name: str) -> dict[str, Any]:
    return json.loads((REPO / "workflows" / name).read_text())


class Session:
    """A running server and every prompt queued on it."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.queued: list[str] = []

    def queue(self, prompts: list[Prompt]) -> list[str]:
        ids = [self.server.queue(_workflow(prompt.workflow), params=prompt.params) for prompt in prompts]
        self.queued += ids
        return ids

    def actors(self) -> list[dict[str, Any]]:
        return self.server.get("/system_stats")[1]["devices"]

    def wait_for_actors(self, count: int) -> None:
        """Until `count` actors answer (an actor's entry has its `pid` once it did)."""
        deadline = time.monotonic() + START_SECONDS
        while not (len(actors := self.actors()) == count and all("pid" in actor for actor in actors)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} Ray actors did not all answer in {START_SECONDS:.0f} s: {actors}")
            time.sleep(0.5)

    def history(self) -> dict[str, Any]:
        """Every finished prompt, read a page at a time. The pages count from the newest: a prompt that finishes
        between two reads shifts the next page back over some already read, so reading stops at a page that
        brings nothing new, not at an empty one."""
        finished: dict[str, Any] = {}
        while (page := self.server.get(f"/history?offset={len(finished)}")[1]).keys() - finished.keys():
            finished.update(page)
        return finished

    def wait_for(self, ids: list[str]) -> dict[str, Any]:
        """The history entries of `ids`, once all of them are there."""
        deadline = time.monotonic() + DONE_SECONDS
        while not set(ids) <= (finished := self.history()).keys():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(set(ids) - finished.keys())} prompts unfinished after {DONE_SECONDS} s")
            time.sleep(POLL_SECONDS)
        return {prompt_id: finished[prompt_id] for prompt_id in ids}

    def warm_up(self, prompt: Prompt, actors: int) -> None:
        """Queue one warm-up prompt per actor at once, again until each actor has run one."""
        warmed: set[str] = set()
        for attempt in range(WARM_UP_TRIES):
            seeded = Prompt(prompt.workflow, {**prompt.params, "seed": WARM_UP_SEED + attempt})
            done = self.wait_for(self.queue([seeded] * actors))
            warmed |= {entry["meta"]["worker"] for entry in done.values()}
            if len(warmed) == actors:
                return
        raise RuntimeError(f"only {sorted(warmed)} of {actors} actors ran a warm-up prompt")

    def model_loads(self) -> int:
        return sum(actor["model_loads"] for actor in self.actors())

    def lost(self) -> int:
        """Prompts queued here that are not in the history with status success."""
        finished = self.history()
        succeeded = [prompt_id for prompt_id in self.queued
                     if finished.get(prompt_id, {}).get("status", {}).get("status_str") == "success"]
        return len(self.queued) - len(succeeded)


@contextlib.contextmanager
def serving(models_dir: Path, *flags: str, devices: tuple[str, ...] = ()) -> Iterator[Session]:
    """`nodeflow serve` with `flags` (and a worker per `devices`), in a temporary root whose models folder is
    `models_dir`."""
    with tempfile.TemporaryDirectory(prefix="bench_serve_") as root:
        (Path(root) / "models").symlink_to(models_dir)
        server = ServerProcess(Path(root), *flags, devices=devices)
        try:
            server.start(timeout=START_SECONDS)
            yield Session(server)
        except BaseException:
            print(f"the server's log ({' '.join(flags)}):\n{server.output()[-LOG_TAIL:]}", file=sys.stderr)
            raise
        finally:
            server.kill(signal.SIGTERM)


def build_models(models_dir: Path, *models: demo.DemoModel) -> None:
    for _ in demo.ensure_models([demo.DemoSystem(models, ())], models_dir):
        pass


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
