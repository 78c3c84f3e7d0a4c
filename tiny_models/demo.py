"""The offline demo behind `make run`: make sure a model exists, then render the txt2img workflow once.

    python -m tiny_models.demo [--model DIR_OR_HUB_ID] [--output DIR]

With no --model, a tiny Stable Diffusion with RANDOM weights is built under
models/tiny-sd-demo (its images are noise-like patterns, not pictures) so that the
whole path — loaders, text encoder, denoise loop, VAE, PNG with embedded
workflow — runs on any machine without downloads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nodeflow.cli import main as nodeflow

DEMO_MODEL = Path("models") / "tiny-sd-demo"
WORKFLOW = Path(__file__).resolve().parent.parent / "workflows" / "sd_txt2img.json"


def ensure_demo_model() -> Path:
    if not (DEMO_MODEL / "model_index.json").exists():
        from .sd import make_tiny_sd

        print(f"building a tiny demo model with RANDOM weights in {DEMO_MODEL} (no download needed)")
        make_tiny_sd(DEMO_MODEL)
    return DEMO_MODEL


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="", help="diffusers model folder or hub id (default: tiny random demo model)")
    parser.add_argument("--output", default="output")
    parser.add_argument("--prompt", default="a lighthouse on a cliff at dawn")
    args = parser.parse_args(argv)
    model = args.model or str(ensure_demo_model())
    print(f"running {WORKFLOW.name} on {model}; the PNG path follows")
    return nodeflow(["run", str(WORKFLOW), "--param", f"model={model}", "--param", f"prompt={args.prompt}",
                     "--param", "seed=0", "--output", args.output])


if __name__ == "__main__":
    sys.exit(main())
