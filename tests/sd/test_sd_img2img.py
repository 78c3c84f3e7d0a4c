"""sd_img2img.json writes the same pixels as StableDiffusionImg2ImgPipeline."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from tests.pipeline_support import pattern_image

from .conftest import assert_same_pixels, make_pipeline, run_workflow

PROMPT = "a red house"
SCHEDULERS = {"default": None, "ddim": "DDIMScheduler", "euler_ancestral": "EulerAncestralDiscreteScheduler",
              "dpmpp_2m": "DPMSolverMultistepScheduler"}


@pytest.fixture(scope="module")
def input_image() -> Image.Image:
    return pattern_image()


@pytest.mark.parametrize("guidance, negative", [(1.0, ""), (5.0, "grey")], ids=["no-guidance", "cfg-negative"])
@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_img2img_equals_pipeline(tiny_sd, sd_components, tmp_path, input_image, scheduler, guidance, negative):
    from diffusers import StableDiffusionImg2ImgPipeline

    (tmp_path / "in").mkdir()
    input_image.save(tmp_path / "in" / "start.png")
    ours = run_workflow("sd_img2img", tmp_path / "out", "--input-dir", str(tmp_path / "in"), model=tiny_sd,
                        image="start.png", strength=0.6, seed=4, steps=5, scheduler=scheduler,
                        guidance_scale=guidance, prompt=PROMPT, negative_prompt=negative)
    pipeline = make_pipeline(StableDiffusionImg2ImgPipeline, sd_components, SCHEDULERS[scheduler])
    theirs = pipeline(PROMPT, image=input_image, strength=0.6, negative_prompt=negative, num_inference_steps=5,
                      guidance_scale=guidance, generator=torch.Generator().manual_seed(4)).images[0]
    assert_same_pixels(ours, theirs)


def test_img2img_workflow_defaults_are_the_pipeline_defaults():
    from diffusers import StableDiffusionImg2ImgPipeline

    from tests.pipeline_support import assert_img2img_defaults

    assert_img2img_defaults("sd_img2img", StableDiffusionImg2ImgPipeline)
