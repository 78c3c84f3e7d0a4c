"""sdxl_txt2img.json writes the same pixels as StableDiffusionXLPipeline."""

from __future__ import annotations

import pytest
import torch

from .conftest import assert_same_pixels, run_workflow, sdxl_pipeline

PROMPT = "the cat on a mat"
SCHEDULERS = {"default": None, "dpmpp_2m": "DPMSolverMultistepScheduler", "euler_ancestral": "EulerAncestralDiscreteScheduler"}


def _pipeline_image(folder, scheduler: str, guidance: float, negative: str | None, seed: int = 7, steps: int = 3,
                    **extra):
    from diffusers import StableDiffusionXLPipeline

    pipeline = sdxl_pipeline(StableDiffusionXLPipeline, folder, SCHEDULERS[scheduler])
    return pipeline(PROMPT, negative_prompt=negative, num_inference_steps=steps, guidance_scale=guidance,
                    generator=torch.Generator().manual_seed(seed), **extra).images[0]


@pytest.mark.parametrize("guidance, negative", [(1.0, ""), (5.0, "blurry, ugly")], ids=["no-guidance", "cfg-negative"])
@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_txt2img_equals_pipeline(tiny_sdxl, tmp_path, scheduler, guidance, negative):
    ours = run_workflow("sdxl_txt2img", tmp_path, model=tiny_sdxl, seed=7, steps=3, scheduler=scheduler,
                        guidance_scale=guidance, prompt=PROMPT, negative_prompt=negative)
    assert_same_pixels(ours, _pipeline_image(tiny_sdxl, scheduler, guidance, negative))


def test_empty_negative_prompt_is_the_pipelines_none_which_the_base_turns_into_zeros(tiny_sdxl, tmp_path):
    ours = run_workflow("sdxl_txt2img", tmp_path, model=tiny_sdxl, seed=3, steps=3, prompt=PROMPT, negative_prompt="")
    assert_same_pixels(ours, _pipeline_image(tiny_sdxl, "default", 5.0, None, seed=3))


def test_clip_skip_and_non_square_size_equal_pipeline(tiny_sdxl, tmp_path):
    ours = run_workflow("sdxl_txt2img", tmp_path, model=tiny_sdxl, seed=2, steps=2, width=48, height=24,
                        clip_skip=1, guidance_scale=3.0, prompt=PROMPT, negative_prompt="dark")
    assert_same_pixels(ours, _pipeline_image(tiny_sdxl, "default", 3.0, "dark", seed=2, steps=2, width=48, height=24,
                                             clip_skip=1))
