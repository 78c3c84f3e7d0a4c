"""Workflow vs diffusers: the cost of running Stable Diffusion as a nodeflow graph.

    .venv/bin/python bench/sd_overhead.py [--runs 7] [--threads N] [--device cpu|cuda]

On the tiny random SD model, 20 steps at 64×64, alternates runs of
workflows/sd_txt2img.json (one Executor; models stay loaded, the prompt and seed
change every run so tokenize → encode → noise → denoise → decode → save all run)
with StableDiffusionPipeline (loaded once; called with the same prompt and seed,
its image saved as PNG). Prints both medians and the ratio workflow/pipeline
(target ≤ 1.02), then the median of a fully cached re-run and of a seed-change
re-run. Each pair's images are checked to be equal.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from nodeflow import Executor, Folders, Workflow, default_registry

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "workflows" / "sd_txt2img.json"
sys.path.insert(0, str(ROOT))  # tiny_models/ lives at the repository root
SETTINGS = {"steps": 20, "width": 64, "height": 64, "guidance_scale": 7.5, "negative_prompt": "blurry"}


def timed(func) -> tuple[float, object]:
    started = time.perf_counter()
    result = func()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each side (at least 5)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    runs = max(args.runs, 5)
    if args.threads:
        torch.set_num_threads(args.threads)

    from diffusers import StableDiffusionPipeline

    from tiny_models.sd import make_tiny_sd

    work = Path(tempfile.mkdtemp(prefix="sd_overhead_"))
    model = make_tiny_sd(work / "models" / "tiny_sd")
    folders = Folders(output=work / "out", input=work / "in", temp=work / "temp", models=[work / "models"])
    executor = Executor(default_registry(), device=args.device, folders=folders)
    workflow = Workflow.load(WORKFLOW)
    pipeline = StableDiffusionPipeline.from_pretrained(model).to(args.device)
    pipeline.set_progress_bar_config(disable=True)

    def params(run: int) -> dict:
        return {**SETTINGS, "model": "tiny_sd", "prompt": f"a cat number {run}", "seed": run}

    def run_pipeline(run: int) -> Path:
        image = pipeline(f"a cat number {run}", negative_prompt=SETTINGS["negative_prompt"],
                         num_inference_steps=SETTINGS["steps"], guidance_scale=SETTINGS["guidance_scale"],
                         width=SETTINGS["width"], height=SETTINGS["height"],
                         generator=torch.Generator().manual_seed(run)).images[0]
        path = work / f"pipeline_{run}.png"
        image.save(path, compress_level=4)
        return path

    def run_workflow(run: int) -> Path:
        report = executor.run(workflow, params=params(run))
        assert report.ok, report.failures
        return folders.output / report.ui["save"]["images"][0]["filename"]

    run_workflow(10_000), run_pipeline(10_000)  # warm-up: load the model, first-call allocations
    ours, theirs = [], []
    for run in range(runs):
        seconds, our_png = timed(lambda: run_workflow(run))
        ours.append(seconds)
        seconds, their_png = timed(lambda: run_pipeline(run))
        theirs.append(seconds)
        assert np.array_equal(np.asarray(Image.open(our_png)), np.asarray(Image.open(their_png))), run
    cached = [timed(lambda: executor.run(workflow, params=params(runs - 1)))[0] for _ in range(runs)]
    reseeded = []
    for run in range(runs):
        seconds, report = timed(lambda: executor.run(workflow, params={**params(runs - 1), "seed": 1000 + run}))
        assert set(report.executed) == {"noise", "denoise", "decode", "save"}, report.executed
        reseeded.append(seconds)

    ours_ms, theirs_ms = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
    print(f"tiny SD, {SETTINGS['steps']} steps, {SETTINGS['width']}×{SETTINGS['height']}, {runs} alternating runs each, "
          f"{args.device}, torch threads {torch.get_num_threads()}")
    print(f"workflow (prompt+seed change)  median {ours_ms:8.1f} ms")
    print(f"StableDiffusionPipeline        median {theirs_ms:8.1f} ms")
    print(f"ratio workflow/pipeline        {ours_ms / theirs_ms:8.3f}   (target ≤ 1.02; images equal)")
    print(f"cached re-run (nothing changed) median {statistics.median(cached) * 1000:7.2f} ms")
    print(f"seed-change re-run              median {statistics.median(reseeded) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
