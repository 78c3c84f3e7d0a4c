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

Batching is off (`--max-batch 1`): this measures actors and routing; bench/batch_throughput.py measures
batching. Every server has its own temporary root and gets SIGTERM after its run. Before anything is
measured it waits until each actor answers and has run one warm-up prompt (imports, first calls, first model
loads). Prompts lost, over all runs and warm-ups: prompts queued less those in /history with status success;
the bench exits with 1 unless it is 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from served import Prompt, build_models, folder_bytes, serving  # noqa: E402
from tiny_models import demo  # noqa: E402


def sd_prompt(args: argparse.Namespace, seed: int) -> Prompt:
    return Prompt("sd_txt2img.json", {"model": demo.SD.name, "seed": seed, "steps": args.steps,
                                      "width": args.size, "height": args.size})


def dit_prompt(args: argparse.Namespace, seed: int) -> Prompt:
    return Prompt("dit_class_to_image.json", {"model": demo.DIT.name, "seed": seed, "steps": args.steps})


def two_by_two(args: argparse.Namespace) -> list[Prompt]:
    """SD, SD, DiT, DiT, SD, … `--prompts` of them."""
    make = (sd_prompt, dit_prompt)
    return [make[index // 2 % 2](args, index) for index in range(args.prompts)]


def throughput(args: argparse.Namespace, models_dir: Path, actors: int) -> tuple[float, dict[str, int], int]:
    """Prompts/s of the SD burst on `actors` actors, the prompts each actor ran, and the prompts lost."""
    with serving(models_dir, "--ray", "auto", "--ray-workers", str(actors), "--max-batch", "1") as session:
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
    flags = ("--ray", "auto", "--ray-workers", "2", "--max-batch", "1", "--affinity-wait", f"{affinity_wait:g}",
             "--ram-budget", str(ram_budget))
    with serving(models_dir, *flags) as session:
        session.wait_for_actors(2)
        session.warm_up(sd_prompt(args, 0), 2)
        before = session.model_loads()
        session.wait_for(session.queue(two_by_two(args)))
        return session.model_loads() - before, session.lost()


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
        build_models(models_dir, demo.SD, demo.DIT)
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
