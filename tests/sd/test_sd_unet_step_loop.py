"""The hand-built loop (UNet-step and scheduler-step nodes, unrolled) equals the pipeline's own loop."""

from __future__ import annotations

import json

import pytest
import torch

from .conftest import WORKFLOWS, assert_same_pixels, make_pipeline, run_workflow

PROMPT = "a boat"


def _unrolled_steps() -> int:
    nodes = json.loads((WORKFLOWS / "sd_unet_step_loop.json").read_text())["nodes"]
    return nodes["timesteps"]["inputs"]["steps"]


# Euler ancestral needs the seed's generator to flow through the steps, DPM-Solver++ its multistep history.
@pytest.mark.parametrize("scheduler, class_name", [("euler_ancestral", "EulerAncestralDiscreteScheduler"),
                                                   ("dpmpp_2m", "DPMSolverMultistepScheduler")])
def test_unrolled_loop_equals_pipeline(tiny_sd, sd_components, tmp_path, scheduler, class_name):
    from diffusers import StableDiffusionPipeline

    ours = run_workflow("sd_unet_step_loop", tmp_path, model=tiny_sd, seed=9, scheduler=scheduler, prompt=PROMPT,
                        negative_prompt="fog")
    pipeline = make_pipeline(StableDiffusionPipeline, sd_components, class_name)
    theirs = pipeline(PROMPT, negative_prompt="fog", num_inference_steps=_unrolled_steps(), guidance_scale=7.5,
                      generator=torch.Generator().manual_seed(9)).images[0]
    assert_same_pixels(ours, theirs)
