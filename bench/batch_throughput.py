"""Batched denoising through a real `nodeflow serve`: the same burst with `--max-batch 1` and `--max-batch 4`.

    .venv/bin/python bench/batch_throughput.py [--family sd|sdxl] [--prompts 16] [--size 32] [--steps 16]
                                               [--device cpu|cuda]

The burst is `--prompts` tiny txt2img prompts (workflows/sd_txt2img.json on the demo's tiny-sd-demo, or
sdxl_txt2img.json on tiny-sdxl-demo), each with a prompt and a seed of its own, queued at once on a server with
one worker on `--device`. It is timed from queueing the first until all are in /history, once with batching off
(`--max-batch 1`, every prompt alone) and once with `--max-batch 4`. It prints prompts/s of each and their ratio,
the p50/p99 latency (queued → finished, from the history's times), and the largest difference of an 8-bit channel
between a prompt's batched image and its solo one (the `--max-batch 1` run). Each server first runs one untimed
warm-up prompt.

A batch gains where a step's fixed costs (Python, scheduler, kernel launches) outweigh its arithmetic: at the
tiny model's own 32×32 on the CPU, as at 512² on a GPU. At 128×128 the CPU's two cores are busy with arithmetic
already, and a batch of 4 gains little over 4 prompts in turn.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from served import Prompt, Session, build_models, serving  # noqa: E402
from tiny_models import demo  # noqa: E402

SUBJECTS = ("a cat", "a red house", "a boat at sea", "an owl", "a bowl of fruit", "a snowy hill", "a robot",
            "a lighthouse")


FAMILIES = {"sd": ("sd_txt2img.json", demo.SD), "sdxl": ("sdxl_txt2img.json", demo.SDXL)}


def burst(args: argparse.Namespace) -> list[Prompt]:
    workflow, model = FAMILIES[args.family]
    return [Prompt(workflow, {"model": model.name, "seed": seed, "steps": args.steps, "width": args.size,
                              "height": args.size, "prompt": f"{SUBJECTS[seed % len(SUBJECTS)]}, picture {seed}"})
            for seed in range(args.prompts)]


def image_of(session: Session, entry: dict) -> np.ndarray:
    [image] = entry["outputs"]["save"]["images"]
    _, png = session.server.get(f"/view?filename={image['filename']}&type=output")
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def measure(args: argparse.Namespace, models_dir: Path, max_batch: int) -> tuple[float, list[float], list]:
    """Prompts/s of the burst, each prompt's latency (s) and image, on a server with `--max-batch`."""
    with serving(models_dir, "--max-batch", str(max_batch), devices=(args.device,)) as session:
        first = burst(args)[0]
        warm_up = Prompt(first.workflow, {**first.params, "seed": 10_000})
        session.wait_for(session.queue([warm_up]))
        started = time.perf_counter()
        ids = session.queue(burst(args))
        done = session.wait_for(ids)
        seconds = time.perf_counter() - started
        latencies = [done[i]["meta"]["finished"] - done[i]["meta"]["created"] for i in ids]
        images = [image_of(session, done[i]) for i in ids]
        if session.lost():
            raise RuntimeError(f"{session.lost()} prompts did not succeed with --max-batch {max_batch}")
    return args.prompts / seconds, latencies, images


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=sorted(FAMILIES), default="sd")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--size", type=int, default=32,
                        help="image width and height (pixels; 32 is the tiny model's own size)")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    print(f"{args.prompts} tiny {args.family.upper()} txt2img prompts at once, {args.size}×{args.size}, "
          f"{args.steps} steps, one worker on {args.device}: --max-batch 1 vs 4")
    with tempfile.TemporaryDirectory(prefix="batch_models_") as models:
        build_models(Path(models), FAMILIES[args.family][1])
        results = {batch: measure(args, Path(models), batch) for batch in (1, 4)}
    for batch, (rate, latencies, _) in results.items():
        print(f"--max-batch {batch}: {rate:6.2f} prompts/s, latency p50 {percentile(latencies, 0.5):.2f} s, "
              f"p99 {percentile(latencies, 0.99):.2f} s")
    solo, batched = results[1][2], results[4][2]
    worst = max(int(np.abs(a - b).max()) for a, b in zip(solo, batched))
    print(f"throughput ratio (batch 4 / batch 1): {results[4][0] / results[1][0]:.2f}")
    print(f"images: batched vs solo, largest difference {worst}/255 over {len(solo)} prompts")
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
