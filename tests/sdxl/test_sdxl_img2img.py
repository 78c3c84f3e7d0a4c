"""sdxl_img2img.json writes the same pixels as StableDiffusionXLImg2ImgPipeline."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from tests.pipeline_support import pattern_image

from .conftest import assert_same_pixels, run_workflow, sdxl_pipeline

PROMPT = "a red house"


@pytest.fixture(scope="module")
def input_image() -> Image.Image:
    return pattern_image()


@pytest.mark.parametrize("guidance, negative", [(1.0, ""), (5.0, "grey")], ids=["no-guidance", "cfg-negative"])
def test_img2img_equals_pipeline(tiny_sdxl, tmp_path, input_image, guidance, negative):
    from diffusers import StableDiffusionXLImg2ImgPipeline

    (tmp_path / "in").mkdir()
    input_image.save(tmp_path / "in" / "start.png")
    ours = run_workflow("sdxl_img2img", tmp_path / "out", "--input-dir", str(tmp_path / "in"), model=tiny_sdxl,
                        image="start.png", strength=0.6, seed=4, steps=5, guidance_scale=guidance, prompt=PROMPT,
                        negative_prompt=negative)
    pipeline = sdxl_pipeline(StableDiffusionXLImg2ImgPipeline, tiny_sdxl)
    theirs = pipeline(PROMPT, image=input_image, strength=0.6, negative_prompt=negative, num_inference_steps=5,
                      guidance_scale=guidance, generator=torch.Generator().manual_seed(4)).images[0]
    assert_same_pixels(ours, theirs)


def test_img2img_workflow_defaults_are_the_pipeline_defaults():
    from diffusers import StableDiffusionXLImg2ImgPipeline

    from tests.pipeline_support import assert_img2img_defaults

    assert_img2img_defaults("sdxl_img2img", StableDiffusionXLImg2ImgPipeline)
