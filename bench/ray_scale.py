"""Ray actors through a real `nodeflow serve --ray auto`: prompts/s with one and two actors, model loads with and
without affinity, and prompts lost.

    .venv/bin/python bench/ray_scale.py [--prompts 16] [--size 128] [--steps 8] [--affinity-wait 15]

Throughput: the same burst of `--prompts` tiny SD txt2img prompts (workflows/sd_txt2img.json on the demo's
tiny-sd-demo, `--size`² pixels, `--steps` steps, a seed of its own each so that nothing comes from the cache),
timed from queueing the first until all are in /history, on a server with `--ray-workers 1`, then on one with 2.

Model loads: two actors and a queue of the two demo families, tiny SD and tiny DiT (workflows/
dit_class_to_image.json on tiny-dit-demo), alternating two by two (SD, SD, DiT, DiT, …): first come, first
served then hands each actor the other family at each turn, where a strict SD, DiT, SD, … could let each
actor keep one family by chance of timing. It runs once with `--affinity-wait` and once with 0 (first come,
first served). Each actor's `--ram-budget` is the larger model folder's size: it holds one family, not both,
so that an actor that switches family drops models and loads them again. The loads are the sum over the
actors of /system_stats' `model_loads`, after the burst less before it.

Every server has its own temporary root and gets SIGTERM after its run. Before anything is measured it waits
until each actor answers and has run one warm-up prompt (imports, first calls, first model loads). Prompts
lost, over all runs and warm-ups: prompts queued less those in /history with status success; the bench exits
with 1 unless it is 0.
"""

from __future__ import annotations

import argparse
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


def sd_prompt(args: argparse.Namespace, seed: int) -> Prompt:
    return Prompt("sd_txt2img.json", {"model": demo.SD.name, "seed": seed, "steps": args.steps,
                                      "width": args.size, "height": args.size})


def dit_prompt(args: argparse.Namespace, seed: int) -> Prompt:
    return Prompt("dit_class_to_image.json", {"model": demo.DIT.name, "seed": seed, "steps": args.steps})


def two_by_two(args: argparse.Namespace) -> list[Prompt]:
    """SD, SD, DiT, DiT, SD, … `--prompts` of them."""
    make = (sd_prompt, dit_prompt)
    return [make[index // 2 % 2](args, index) for index in range(args.prompts)]


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
def serving(models_dir: Path, *flags: str) -> Iterator[Session]:
    """`nodeflow serve --ray auto` with `flags`, in a temporary root whose models folder is `models_dir`."""
    with tempfile.TemporaryDirectory(prefix="ray_scale_") as root:
        (Path(root) / "models").symlink_to(models_dir)
        server = ServerProcess(Path(root), "--ray", "auto", *flags, devices=())
        try:
            server.start(timeout=START_SECONDS)
            yield Session(server)
        except BaseException:
            print(f"the server's log ({' '.join(flags)}):\n{server.output()[-LOG_TAIL:]}", file=sys.stderr)
            raise
        finally:
            server.kill(signal.SIGTERM)


def throughput(args: argparse.Namespace, models_dir: Path, actors: int) -> tuple[float, dict[str, int], int]:
    """Prompts/s of the SD burst on `actors` actors, the prompts each actor ran, and the prompts lost."""
    with serving(models_dir, "--ray-workers", str(actors)) as session:
        session.wait_for_actors(actors)
        session.warm_up(sd_prompt(args, 0), actors)
        burst = [sd_prompt(args, seed) for seed in range(args.prompts)]
        started = time.perf_counter()
        done = session.wait_for(session.queue(burst))
        seconds = time.perf_counter() - started
        ran: dict[str, int] = {}
        for entry in done.values():
            ran[entry["meta"]["worker"]] = ran.get(entry["meta"]["worker"], 0) + 1
        return args.prompts / seconds, dict(sorted(ran.items())), session.lost()


def loads(args: argparse.Namespace, models_dir: Path, affinity_wait: float, ram_budget: int) -> tuple[int, int]:
    """Model loads of the two-family queue on two actors under `affinity_wait`, and the prompts lost."""
    flags = ("--ray-workers", "2", "--affinity-wait", f"{affinity_wait:g}", "--ram-budget", str(ram_budget))
    with serving(models_dir, *flags) as session:
        session.wait_for_actors(2)
        session.warm_up(sd_prompt(args, 0), 2)
        before = session.model_loads()
        session.wait_for(session.queue(two_by_two(args)))
        return session.model_loads() - before, session.lost()


def build_models(models_dir: Path) -> None:
    for _ in demo.ensure_models([demo.DemoSystem((demo.SD, demo.DIT), ())], models_dir):
        pass


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16, help="prompts of each measured burst (at least 4)")
    parser.add_argument("--size", type=int, default=128, help="SD image width and height (pixels)")
    parser.add_argument("--steps", type=int, default=8, help="denoising steps of each prompt")
    parser.add_argument("--affinity-wait", type=float, default=15.0, help="seconds, for the affinity run")
    args = parser.parse_args(argv)
    if args.prompts < 4:
        parser.error("--prompts must be at least 4 (two of each family)")
    with tempfile.TemporaryDirectory(prefix="ray_scale_models_") as models:
        models_dir = Path(models)
        build_models(models_dir)
        ram_budget = max(folder_bytes(models_dir / model.name) for model in (demo.SD, demo.DIT))
        print(f"Ray CPU actors (one torch thread each): {args.prompts} prompts a burst, tiny SD txt2img "
              f"{args.size}×{args.size}, {args.steps} steps, on 1 then 2 actors; model loads of {args.prompts} "
              f"prompts SD, SD, DiT, DiT, … on 2 actors, RAM budget {ram_budget / 1e3:.0f} KB each (one family)")
        lost = 0
        rates = {}
        for actors in (1, 2):
            rates[actors], ran, lost_here = throughput(args, models_dir, actors)
            lost += lost_here
            print(f"{actors} actor(s): {rates[actors]:6.2f} prompts/s (prompts run: {ran})")
        print(f"throughput ratio (2 actors / 1 actor): {rates[2] / rates[1]:.2f}")
        counted = []
        for label, wait in ((f"affinity (wait {args.affinity_wait:g} s)", args.affinity_wait),
                            ("round robin (wait 0 s)", 0.0)):
            loaded, lost_here = loads(args, models_dir, wait, ram_budget)
            counted.append(loaded)
            lost += lost_here
            print(f"{label:>24}: {loaded:3d} model loads")
        with_affinity, round_robin = counted
        print(f"model loads ratio (round robin / affinity): {round_robin / with_affinity:.1f}")
    print(f"prompts lost: {lost}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
