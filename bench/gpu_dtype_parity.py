"""Half-precision parity on a GPU: the txt2img workflow vs StableDiffusionPipeline, per dtype.

    python bench/gpu_dtype_parity.py [--device cuda] [--steps 20]

Builds the tiny random SD model, then for float32, float16 and bfloat16 runs
`workflows/sd_txt2img.json` (loader dtype set) and the pipeline loaded with the
same `torch_dtype`, both on the device with a CPU generator of the same seed, and
prints max and mean |Δ| of the 8-bit pixels and each side's median time. A last
row runs the text encoder pinned to the CPU (its own loader, `device="cpu"`) while
the rest runs on the device.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

from nodeflow import Executor, Folders, Link, Workflow, default_registry
from nodeflow.workflow import NodeSpec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tiny_models/ lives at the repository root
WORKFLOW = ROOT / "workflows" / "sd_txt2img.json"
PROMPT = "a lighthouse at dawn"


def workflow_pixels(executor: Executor, model: Path, dtype: str, seed: int, steps: int,
                    text_encoder_on_cpu: bool = False) -> np.ndarray:
    workflow = Workflow.load(WORKFLOW)
    workflow.nodes["model"].inputs["dtype"] = dtype
    if text_encoder_on_cpu:
        workflow.nodes["cpu_text_encoder"] = NodeSpec("sd.load_text_encoder", {"model": str(model), "device": "cpu"})
        for encode in ("encode_positive", "encode_negative"):
            workflow.nodes[encode].inputs["text_encoder"] = Link("cpu_text_encoder", "text_encoder")
    report = executor.run(workflow, params={"model": str(model), "seed": seed, "steps": steps, "prompt": PROMPT})
    assert report.ok, report.failures
    [image] = report.ui["save"]["images"]
    from PIL import Image

    return np.asarray(Image.open(executor.folders.output / image["subfolder"] / image["filename"]))


def pipeline_pixels(pipeline, seed: int, steps: int) -> np.ndarray:
    import torch

    image = pipeline(PROMPT, negative_prompt="", num_inference_steps=steps,
                     generator=torch.Generator().manual_seed(seed)).images[0]
    return np.asarray(image)


def timed(func, *args):
    started = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import torch
    from diffusers import StableDiffusionPipeline

    from tiny_models.sd import make_tiny_sd

    folder = Path(tempfile.mkdtemp())
    model = make_tiny_sd(folder / "model")
    print(f"{'dtype':<32}{'max |Δ|':>9}{'mean |Δ|':>10}{'workflow s':>12}{'pipeline s':>12}")
    rows = [("float32", False), ("float16", False), ("bfloat16", False), ("float32", True)]
    for dtype, text_encoder_on_cpu in rows:
        executor = Executor(default_registry(), device=args.device,
                            folders=Folders(output=folder / dtype, models=[folder], trust_paths=True))
        pipeline = StableDiffusionPipeline.from_pretrained(model, torch_dtype=getattr(torch, dtype)).to(args.device)
        pipeline.set_progress_bar_config(disable=True)
        ours = partial(workflow_pixels, executor, model, dtype, steps=args.steps, text_encoder_on_cpu=text_encoder_on_cpu)
        ours(999)  # warm-up: loading is not timed on either side
        pipeline_pixels(pipeline, 999, args.steps)
        ours_times, theirs_times, worst, mean = [], [], 0, 0.0
        for seed in range(args.runs):
            mine, ours_s = timed(ours, seed)
            theirs, theirs_s = timed(pipeline_pixels, pipeline, seed, args.steps)
            delta = np.abs(mine.astype(int) - theirs.astype(int))
            worst, mean = max(worst, int(delta.max())), max(mean, float(delta.mean()))
            ours_times.append(ours_s)
            theirs_times.append(theirs_s)
        label = dtype + (" (text encoder on cpu)" if text_encoder_on_cpu else "")
        print(f"{label:<32}{worst:>9}{mean:>10.4f}{statistics.median(ours_times):>12.3f}"
              f"{statistics.median(theirs_times):>12.3f}")

if __name__ == "__main__":
    main()
